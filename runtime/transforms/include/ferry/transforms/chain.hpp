#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ferry/api/config_def.hpp"
#include "ferry/transforms/record.hpp"
#include "ferry/transforms/transformation.hpp"

namespace ferry::transforms {

// A connector's transformations in `transforms` order, each with its optional predicate.
// Built once per task from the connector config; apply() is then called for every record on the
// task's thread (one chain per task: transformations keep per-schema caches).
class transform_chain {
 public:
  transform_chain() = default;
  transform_chain(transform_chain&&) noexcept = default;
  transform_chain& operator=(transform_chain&&) noexcept = default;

  // Reads Kafka Connect's keys: transforms, transforms.<a>.type, transforms.<a>.<setting>,
  // transforms.<a>.predicate, transforms.<a>.negate, predicates, predicates.<p>.type,
  // predicates.<p>.<setting>. Throws api::config_error naming the first bad key.
  static transform_chain from_config(const api::config_map& connector_config);

  // The transformed record, or nullopt when a transformation dropped it.
  // Throws api::data_error (or another connect_error) for a record that cannot be transformed.
  std::optional<connect_record> apply(connect_record record);
  // The same, in place: returns false when the record was dropped (then `record` is unspecified).
  bool apply_in_place(connect_record& record);
  // Stage `i` alone (0 <= i < size()), as Kafka Connect's TransformationStage: the transformation
  // when its predicate (if any, negated if asked) holds, else the record as it is. Returns false
  // when the transformation dropped the record. The runners call the stages one by one so that
  // each gets its own retries and a failure names its class.
  bool apply_stage(std::size_t i, connect_record& record) {
    auto& s = stages_[i];
    if (s.condition && s.condition->test(record) == s.negate) return true;
    return s.transform->apply(record);
  }
  // The class of stage `i`'s transformation as Kafka names it (e.g.
  // org.apache.kafka.connect.transforms.Cast$Value), also when the config gave a short alias.
  const std::string& class_name(std::size_t i) const { return stages_[i].class_name; }

  bool empty() const { return stages_.empty(); }
  std::size_t size() const { return stages_.size(); }
  // The aliases, in order (for logs and tests).
  std::vector<std::string> aliases() const;

 private:
  struct stage {
    std::string alias;
    std::string class_name;
    std::unique_ptr<transformation> transform;
    std::shared_ptr<const predicate> condition;  // null: always applies
    bool negate = false;
  };
  std::vector<stage> stages_;
  std::vector<std::shared_ptr<const predicate>> predicates_;
};

// Kafka's "enriched" connector ConfigDef part for transforms and predicates: `transforms`,
// `predicates`, and for every alias its type/predicate/negate keys plus the plugin's own keys
// prefixed (transforms.<a>.<key>), with groups "Transforms: <a>" / "Predicates: <p>".
api::config_def transforms_config_def(const api::config_map& connector_config);

// Validation for PUT /connector-plugins/{p}/config/validate: one config_value per key of
// transforms_config_def(), with errors (unknown class, missing type, bad setting, unknown
// predicate alias, and what the plugin itself refuses when built).
std::vector<api::config_value> validate_transforms(const api::config_map& connector_config);

}  // namespace ferry::transforms
