#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "ferry/api/config_def.hpp"
#include "ferry/transforms/record.hpp"

namespace ferry::transforms {

// One configured single message transform (Kafka's Transformation). Built once per task from
// its config (regexes compiled, formats parsed then); apply() runs on the task's thread for every
// record and must not look at the config again. Not thread-safe: schema caches live inside.
class transformation {
 public:
  transformation() = default;
  transformation(const transformation&) = delete;
  transformation& operator=(const transformation&) = delete;
  virtual ~transformation() = default;

  // Changes `record` in place. Returns false when the record is to be dropped (Filter).
  // Throws api::data_error for a record it cannot transform.
  virtual bool apply(connect_record& record) = 0;
};

// One configured predicate (Kafka's Predicate): decides whether a transformation applies. Built
// with its chain and used by the chain's thread only (it may memoize per-topic answers).
class predicate {
 public:
  predicate() = default;
  predicate(const predicate&) = delete;
  predicate& operator=(const predicate&) = delete;
  virtual ~predicate() = default;

  virtual bool test(const connect_record& record) const = 0;
};

// The settings of one transformation or predicate (transforms.<alias>.* without the prefix),
// typed by the plugin's config_def. Errors name the full connector key (`prefix` + key).
class plugin_config {
 public:
  plugin_config(const api::config_def& def, api::config_map values, std::string prefix);

  const api::parsed_config& values() const { return parsed_; }
  const std::string& prefix() const { return prefix_; }
  // "Invalid value <value> for configuration <prefix><key>: <message>"
  [[noreturn]] void fail(const std::string& key, const std::string& value,
                         const std::string& message) const;
  // A message about several keys: "<message>" prefixed with the plugin's alias keys.
  [[noreturn]] void fail(const std::string& message) const;

 private:
  api::parsed_config parsed_;
  std::string prefix_;
};

enum class plugin_kind { transformation, predicate };

// One entry of the catalog: everything the REST API and the chain need about a class name.
struct plugin_info {
  std::string class_name;
  plugin_kind kind = plugin_kind::transformation;
  std::string doc;
  api::config_def config;
  std::function<std::unique_ptr<transformation>(const plugin_config&)> make_transformation;
  std::function<std::unique_ptr<predicate>(const plugin_config&)> make_predicate;
};

// Kafka's 16 transformations (with their $Key/$Value classes) and 3 predicates, plus the classes
// plug-ins registered, in class-name order. Immutable once start-up registration is over, then
// shared by every thread.
const std::vector<plugin_info>& catalog();

// Adds a plug-in's transformation or predicate (exactly one of make_transformation and
// make_predicate set, matching `kind`). Start-up only, single-threaded, before any chain is built
// or catalog()/find_plugin() results are kept: it invalidates pointers into the catalog.
// Throws std::logic_error when the class name is taken or the entry is incomplete.
void register_plugin(plugin_info plugin);

// The entry for a full class name, or for an unambiguous simple name ("RegexRouter"), as
// Kafka Connect's plugin aliases allow; nullptr when unknown.
const plugin_info* find_plugin(const std::string& class_name);

}  // namespace ferry::transforms
