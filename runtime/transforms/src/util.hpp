// Helpers shared by the transformations: Connect's JSON schema form, value checks with Kafka's
// messages, Java-compatible text forms, and a small per-transformation schema cache.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

#include "ferry/api/errors.hpp"
#include "ferry/api/json.hpp"
#include "ferry/api/record.hpp"
#include "ferry/transforms/record.hpp"

namespace ferry::transforms::detail {

inline constexpr std::string_view timestamp_logical = "org.apache.kafka.connect.data.Timestamp";
inline constexpr std::string_view date_logical = "org.apache.kafka.connect.data.Date";
inline constexpr std::string_view time_logical = "org.apache.kafka.connect.data.Time";
inline constexpr std::int64_t millis_per_day = 86'400'000;

// Which part of a record a $Key / $Value transformation works on.
enum class side { key, value };

inline json& operating_value(connect_record& r, side s) {
  return s == side::key ? r.key : r.value;
}
inline const json& operating_value(const connect_record& r, side s) {
  return s == side::key ? r.key : r.value;
}
inline api::schema_ptr& operating_schema(connect_record& r, side s) {
  return s == side::key ? r.key_schema : r.value_schema;
}

// --- schemas (Kafka Connect's JSON form: {"type":..,"optional":..,"fields":[{"field":..}]}) ---
std::string schema_type(const json& schema);
bool is_optional(const json& schema);
std::string schema_name(const json& schema);  // "" when unnamed
// The field entries of a struct schema (empty array for any other schema).
const json& schema_fields(const json& schema);
const json* find_field(const json& struct_schema, std::string_view name);
// The schema of a field entry, without its "field" name.
json field_schema(const json& field);
// A field entry: `schema` named `name`.
json make_field(const std::string& name, json schema);
// A struct schema with the name, version, doc, parameters and optional flag of `base`.
json struct_like(const json& base);
api::schema_ptr share(json schema);

// A struct field's value; a null or missing value gives the field's default when
// `replace_null_with_default` (Kafka's Struct.get vs getWithoutDefault).
json field_value(const json& struct_value, const json& field, bool replace_null_with_default);
// The same, moving the value out of `struct_value` (for a value about to be rebuilt).
json take_field_value(json& struct_value, const json& field, bool replace_null_with_default);

// --- value checks with Kafka's Requirements messages ---
// Kafka's class name for a schemaless value, for messages ("java.lang.String", "null").
std::string class_name(const json& v);
// The Connect type a schemaless value has (int64 for integers, float64, string, bytes, ...).
std::string inferred_type(const json& v);
void require_map(const json& v, std::string_view purpose);
void require_map_or_null(const json& v, std::string_view purpose);
void require_struct(const json& v, const api::schema_ptr& schema, std::string_view purpose);
void require_struct_or_null(const json& v, const api::schema_ptr& schema, std::string_view purpose);
void require_schema(const api::schema_ptr& schema, std::string_view purpose);

// --- text forms ---
std::string java_double_string(double d);
std::string java_float_string(float f);
std::string base64_encode(const std::vector<std::uint8_t>& bytes);
// A header's raw bytes for a Connect value (text as is, numbers and booleans as text, bytes
// raw, maps and arrays as JSON); nullopt for null.
std::optional<std::string> header_bytes(const json& v);

// Memo of a per-topic answer (topic routing, topic predicates): tasks see few topics, so the
// regex runs once per topic. Bounded; one thread only.
template <class T>
class topic_memo {
 public:
  template <class Compute>
  const T& get(const std::string& topic, Compute&& compute) {
    auto it = entries_.find(topic);
    if (it != entries_.end()) return it->second;
    if (entries_.size() >= 256) entries_.clear();
    return entries_.emplace(topic, compute(topic)).first->second;
  }

 private:
  std::unordered_map<std::string, T> entries_;
};

// Per-transformation memo of derived schemas keyed by the input schema's identity (connectors
// share one schema object between records). Holds at most a few entries; one thread only.
class schema_cache {
 public:
  template <class Build>
  api::schema_ptr get(const api::schema_ptr& input, Build&& build) {
    auto it = entries_.find(input.get());
    if (it != entries_.end()) {
      if (auto alive = it->second.first.lock(); alive == input) return it->second.second;
    }
    if (entries_.size() >= 16) entries_.clear();
    auto out = share(build(*input));
    entries_[input.get()] = {input, out};
    return out;
  }

 private:
  std::unordered_map<const json*, std::pair<std::weak_ptr<const json>, api::schema_ptr>> entries_;
};

}  // namespace ferry::transforms::detail
