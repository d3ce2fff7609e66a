// Kafka's predicates: TopicNameMatches, HasHeaderKey, RecordIsTombstone.
#include <algorithm>

#include "plugins.hpp"

namespace ferry::transforms::detail {

namespace {

class topic_name_matches final : public predicate {
 public:
  explicit topic_name_matches(const plugin_config& c)
      : pattern_(compile_regex(c.values().get_string("pattern"))) {}

  bool test(const connect_record& r) const override {
    return memo_.get(r.topic, [&](const std::string& t) { return std::regex_match(t, pattern_); });
  }

 private:
  std::regex pattern_;
  mutable topic_memo<bool> memo_;  // a chain is used by one thread
};

class has_header_key final : public predicate {
 public:
  explicit has_header_key(const plugin_config& c) : name_(c.values().get_string("name")) {}

  bool test(const connect_record& r) const override {
    return std::any_of(r.headers.begin(), r.headers.end(),
                       [&](const api::header& h) { return h.key == name_; });
  }

 private:
  std::string name_;
};

class record_is_tombstone final : public predicate {
 public:
  bool test(const connect_record& r) const override { return r.value.is_null(); }
};

}  // namespace

void register_predicates(std::vector<plugin_info>& out) {
  api::config_def topic_def;
  topic_def.define({.name = "pattern",
                    .type = api::config_type::string,
                    .default_value = std::nullopt,
                    .importance = api::importance_level::medium,
                    .doc = "A Java regular expression for matching against the name of a "
                           "record's topic.",
                    .validate = [](const std::string& v) -> std::optional<std::string> {
                      if (auto e = non_empty_string()(v)) return e;
                      return valid_regex()(v);
                    }});
  add_predicate(out, predicates_package + "TopicNameMatches",
                "A predicate which is true for records with a topic name that matches the "
                "configured regular expression.",
                topic_def,
                [](const plugin_config& c) { return std::make_unique<topic_name_matches>(c); });

  api::config_def header_def;
  header_def.define({.name = "name",
                     .type = api::config_type::string,
                     .default_value = std::nullopt,
                     .importance = api::importance_level::medium,
                     .doc = "The header name.",
                     .validate = non_empty_string()});
  add_predicate(out, predicates_package + "HasHeaderKey",
                "A predicate which is true for records with at least one header with the "
                "configured name.",
                header_def,
                [](const plugin_config& c) { return std::make_unique<has_header_key>(c); });

  add_predicate(out, predicates_package + "RecordIsTombstone",
                "A predicate which is true for records which are tombstones (i.e. have null "
                "value).",
                api::config_def{},
                [](const plugin_config&) { return std::make_unique<record_is_tombstone>(); });
}

}  // namespace ferry::transforms::detail
