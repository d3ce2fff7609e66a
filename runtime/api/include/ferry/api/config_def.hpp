#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "ferry/api/json.hpp"

namespace ferry::api {

// Connector and task configs are flat string maps, as in Kafka Connect.
using config_map = std::map<std::string, std::string>;

enum class config_type { boolean, string, int_, long_, double_, list, class_, password };
enum class importance_level { high, medium, low };

std::string to_string(config_type t);       // Kafka's names: BOOLEAN, STRING, INT, LONG, ...
std::string to_string(importance_level i);  // HIGH, MEDIUM, LOW

// Checks one already type-checked value; returns an error message, or nothing when valid.
using validator = std::function<std::optional<std::string>(const std::string& value)>;

validator one_of(std::vector<std::string> allowed, bool case_insensitive = true);
validator at_least(std::int64_t min);
validator in_range(std::int64_t min, std::int64_t max);
validator non_empty();

// One declared config key: everything /connector-plugins/{p}/config and validation need.
struct config_key {
  std::string name;
  config_type type = config_type::string;
  std::optional<std::string> default_value;  // nullopt: required, unless default_null
  importance_level importance = importance_level::medium;
  std::string doc;
  std::string group = "Common";
  validator validate;  // may be empty
  std::vector<std::string> recommended;
  std::string display_name;
  // Kafka's "default null": optional, and absent unless set (default_value stays nullopt).
  // Validation does not demand it, /connector-plugins/{p}/config shows required: false and
  // default_value: null, and parsed_config::get_optional() reads it. Last, so that positional
  // initialisers of the fields above keep working.
  bool default_null = false;
};

// The validation result of one key, in the shape of Kafka's ConfigValue.
struct config_value {
  std::string name;
  std::optional<std::string> value;
  std::vector<std::string> errors;
};

// Config declared as data. Validation is pure (no I/O) and reports every key's errors at once.
class config_def {
 public:
  config_def& define(config_key key);
  config_def& merge(const config_def& other);  // keys of other not already defined here

  const std::vector<config_key>& keys() const { return keys_; }
  const config_key* find(const std::string& name) const;

  // One entry per declared key, in declaration order. Undeclared keys are not reported: they are
  // never errors (connectors may take extra keys), as in Kafka's ConfigDef.
  std::vector<config_value> validate(const config_map& config) const;
  static std::size_t error_count(const std::vector<config_value>& values);

  // Kafka's ConfigKeyInfo JSON for /connector-plugins/{p}/config.
  json describe() const;

 private:
  std::vector<config_key> keys_;
};

// Typed read access to a validated config: declared defaults apply, values are parsed by type.
// Throws config_error with a readable message on a missing required key or a malformed value.
// An unset default-null key reads as "" (get_string) or an empty list (get_list); the other
// getters refuse it: use get_optional().
class parsed_config {
 public:
  parsed_config(const config_def& def, config_map values);

  std::string get_string(const std::string& name) const;
  std::int64_t get_long(const std::string& name) const;
  int get_int(const std::string& name) const { return static_cast<int>(get_long(name)); }
  double get_double(const std::string& name) const;
  bool get_bool(const std::string& name) const;
  std::vector<std::string> get_list(const std::string& name) const;
  // The value, or nullopt for a default-null key that was not set.
  std::optional<std::string> get_optional(const std::string& name) const;
  bool has(const std::string& name) const;
  const config_map& raw() const { return values_; }

 private:
  const std::string* lookup(const std::string& name) const;
  bool unset_null(const std::string& name) const;  // a default-null key that is not set
  const config_def* def_;
  config_map values_;
};

// Shared parsing helpers (also used by worker config parsing).
std::optional<std::int64_t> parse_long(const std::string& s);
std::optional<double> parse_double(const std::string& s);
std::optional<bool> parse_bool(const std::string& s);
std::vector<std::string> split_list(const std::string& s);  // comma-separated, trimmed, no empties
std::string trim(const std::string& s);
// A JSON config value as Kafka Connect's string maps hold it: text as is, numbers and booleans
// as their JSON text (Jackson coerces them so); nothing for null, objects and arrays.
std::optional<std::string> config_text(const json& value);

}  // namespace ferry::api
