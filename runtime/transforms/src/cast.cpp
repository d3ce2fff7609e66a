// Cast$Key/$Value and MaskField$Key/$Value: transformations that change field values by type.
#include <charconv>
#include <cmath>
#include <limits>
#include <map>
#include <set>

#include "date_format.hpp"
#include "plugins.hpp"

namespace ferry::transforms::detail {

namespace {

using api::data_error;

enum class cast_type { int8, int16, int32, int64, float32, float64, boolean, string };

const std::map<std::string, cast_type>& cast_types() {
  static const std::map<std::string, cast_type> m = {
      {"INT8", cast_type::int8},       {"INT16", cast_type::int16},
      {"INT32", cast_type::int32},     {"INT64", cast_type::int64},
      {"FLOAT32", cast_type::float32}, {"FLOAT64", cast_type::float64},
      {"BOOLEAN", cast_type::boolean}, {"STRING", cast_type::string}};
  return m;
}

std::string schema_type_name(cast_type t) {
  switch (t) {
    case cast_type::int8:
      return "int8";
    case cast_type::int16:
      return "int16";
    case cast_type::int32:
      return "int32";
    case cast_type::int64:
      return "int64";
    case cast_type::float32:
      return "float32";
    case cast_type::float64:
      return "float64";
    case cast_type::boolean:
      return "boolean";
    case cast_type::string:
      return "string";
  }
  return "string";
}

std::string upper(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

// Parses Kafka's spec: "type" (whole value) or "field:type,...". Returns the error message.
struct cast_spec {
  std::optional<cast_type> whole;
  std::map<std::string, cast_type> fields;
};

std::optional<std::string> parse_spec(const std::string& value, cast_spec& out) {
  auto items = api::split_list(value);
  if (items.empty()) return "Must specify at least one field to cast.";
  for (const auto& item : items) {
    std::vector<std::string> parts;
    std::size_t start = 0;
    while (true) {
      auto colon = item.find(':', start);
      parts.push_back(api::trim(item.substr(start, colon - start)));
      if (colon == std::string::npos) break;
      start = colon + 1;
    }
    if (parts.size() > 2) return "Invalid rename mapping: " + item;
    const std::string& type_text = parts.back();
    if (type_text == "bytes" || upper(type_text) == "BYTES" || upper(type_text) == "ARRAY" ||
        upper(type_text) == "MAP" || upper(type_text) == "STRUCT") {
      return "Cast transformation does not support casting to " + upper(type_text) +
             "; supported types are [INT8, INT16, INT32, INT64, FLOAT32, FLOAT64, BOOLEAN, "
             "STRING]";
    }
    auto it = cast_types().find(upper(type_text));
    if (it == cast_types().end()) return "Invalid type found in casting spec: " + type_text;
    if (parts.size() == 1) {
      out.whole = it->second;
    } else {
      out.fields[parts[0]] = it->second;
    }
  }
  if (out.whole && items.size() > 1) {
    return "Cast transformations that specify a type to cast the entire value to may only specify "
           "a single cast in their spec";
  }
  return std::nullopt;
}

[[noreturn]] void out_of_range(const json& v) {
  throw data_error("Value (" + (v.is_string() ? v.get<std::string>() : v.dump()) +
                   ") was out of range for requested data type");
}

// Java's Long.parseLong / Integer.parseInt: optional sign, digits, nothing else.
std::int64_t parse_integral(const json& v, std::int64_t min, std::int64_t max) {
  const auto& s = v.get_ref<const std::string&>();
  std::string_view t = s;
  if (!t.empty() && t.front() == '+') t.remove_prefix(1);
  std::int64_t out = 0;
  auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), out);
  if (t.empty() || ec != std::errc{} || p != t.data() + t.size() || out < min || out > max) {
    out_of_range(v);
  }
  return out;
}

double parse_floating(const json& v) {
  auto t = api::trim(v.get_ref<const std::string&>());
  if (t == "NaN") return std::numeric_limits<double>::quiet_NaN();
  if (t == "Infinity" || t == "+Infinity") return std::numeric_limits<double>::infinity();
  if (t == "-Infinity") return -std::numeric_limits<double>::infinity();
  if (!t.empty() && (t.back() == 'd' || t.back() == 'D' || t.back() == 'f' || t.back() == 'F')) {
    t.pop_back();
  }
  std::string_view sv = t;
  if (!sv.empty() && sv.front() == '+') sv.remove_prefix(1);
  double out = 0;
  auto [p, ec] = std::from_chars(sv.data(), sv.data() + sv.size(), out);
  if (sv.empty() || ec != std::errc{} || p != sv.data() + sv.size()) out_of_range(v);
  return out;
}

// Java's (long) / (int) casts of a double saturate and map NaN to 0.
std::int64_t java_d2l(double d) {
  if (std::isnan(d)) return 0;
  if (d >= 9.2233720368547758e18) return std::numeric_limits<std::int64_t>::max();
  if (d <= -9.2233720368547758e18) return std::numeric_limits<std::int64_t>::min();
  return static_cast<std::int64_t>(d);
}

std::int32_t java_d2i(double d) {
  if (std::isnan(d)) return 0;
  if (d >= 2147483647.0) return std::numeric_limits<std::int32_t>::max();
  if (d <= -2147483648.0) return std::numeric_limits<std::int32_t>::min();
  return static_cast<std::int32_t>(d);
}

std::int64_t as_long(const json& v) {
  if (v.is_number_unsigned()) return static_cast<std::int64_t>(v.get<std::uint64_t>());
  return v.get<std::int64_t>();
}

// A float32 kept as the double that prints like Java's float (1.1, not 1.100000023841858).
json float32_value(float f) {
  if (!std::isfinite(f)) return json(static_cast<double>(f));
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, f);
  double d = 0;
  std::from_chars(buf, r.ptr, d);
  return json(d);
}

std::string logical_to_string(const std::string& name, const json& v) {
  std::int64_t n = as_long(v);
  if (name == date_logical) return date_format("yyyy-MM-dd").format(n * millis_per_day);
  if (name == time_logical) return date_format("HH:mm:ss.SSS'Z'").format(n);
  return date_format("yyyy-MM-dd'T'HH:mm:ss.SSS'Z'").format(n);
}

json cast_value(const json* schema, const json& v, cast_type target) {
  if (v.is_null()) return v;
  std::string type = schema ? schema_type(*schema) : inferred_type(v);
  static const std::set<std::string> inputs = {"int8",    "int16",   "int32",  "int64", "float32",
                                               "float64", "boolean", "string", "bytes"};
  if (!inputs.count(type)) {
    throw data_error("Cast transformation does not support casting from " + upper(type) +
                     "; supported types are [INT8, INT16, INT32, INT64, FLOAT32, FLOAT64, "
                     "BOOLEAN, STRING, BYTES]");
  }
  if (target == cast_type::string) {
    if (schema) {
      auto name = schema_name(*schema);
      if ((name == date_logical || name == time_logical || name == timestamp_logical) &&
          v.is_number()) {
        return logical_to_string(name, v);
      }
    }
    if (v.is_binary()) return base64_encode(v.get_binary());
    if (v.is_string()) return v;
    if (v.is_boolean()) return v.get<bool>() ? "true" : "false";
    if (v.is_number_float()) {
      if (type == "float32") return java_float_string(static_cast<float>(v.get<double>()));
      return java_double_string(v.get<double>());
    }
    if (v.is_number()) return std::to_string(as_long(v));
    throw data_error("Unexpected type in Cast transformation: " + class_name(v));
  }
  if (!v.is_number() && !v.is_boolean() && !v.is_string()) {
    throw data_error("Unexpected type in Cast transformation: " + class_name(v));
  }
  const bool b = v.is_boolean() && v.get<bool>();
  switch (target) {
    case cast_type::int8:
    case cast_type::int16:
    case cast_type::int32: {
      const std::int64_t lo = target == cast_type::int8    ? -128
                              : target == cast_type::int16 ? -32768
                                                           : INT32_MIN;
      const std::int64_t hi = -lo - 1;
      std::int64_t n = 0;
      if (v.is_boolean()) {
        n = b ? 1 : 0;
      } else if (v.is_string()) {
        n = parse_integral(v, lo, hi);
      } else if (v.is_number_float()) {
        n = java_d2i(v.get<double>());
      } else {
        n = as_long(v);
      }
      // Java's narrowing conversions wrap around.
      if (target == cast_type::int8) return static_cast<std::int64_t>(static_cast<std::int8_t>(n));
      if (target == cast_type::int16) {
        return static_cast<std::int64_t>(static_cast<std::int16_t>(n));
      }
      return static_cast<std::int64_t>(static_cast<std::int32_t>(n));
    }
    case cast_type::int64:
      if (v.is_boolean()) return std::int64_t{b ? 1 : 0};
      if (v.is_string()) return parse_integral(v, INT64_MIN, INT64_MAX);
      if (v.is_number_float()) return java_d2l(v.get<double>());
      return as_long(v);
    case cast_type::float32:
    case cast_type::float64: {
      double d = v.is_boolean()  ? (b ? 1.0 : 0.0)
                 : v.is_string() ? parse_floating(v)
                                 : v.get<double>();
      if (target == cast_type::float32) return float32_value(static_cast<float>(d));
      return json(d);
    }
    case cast_type::boolean:
      if (v.is_boolean()) return v;
      if (v.is_string()) {
        auto s = v.get<std::string>();
        return upper(s) == "TRUE";
      }
      if (v.is_number_float()) return java_d2l(v.get<double>()) != 0;
      return as_long(v) != 0;
    default:
      break;
  }
  throw data_error("Unexpected type in Cast transformation: " + class_name(v));
}

json cast_schema(const json& orig, cast_type target, bool copy_basics) {
  json s = json::object();
  s["type"] = schema_type_name(target);
  s["optional"] = is_optional(orig);
  if (copy_basics) {
    // A logical type's name does not describe the cast value.
    auto name = schema_name(orig);
    bool logical = name.rfind("org.apache.kafka.connect.data.", 0) == 0;
    for (const char* k : {"name", "version", "doc", "parameters"}) {
      if (logical && std::string_view(k) != "doc") continue;
      if (auto it = orig.find(k); it != orig.end()) s[k] = *it;
    }
  }
  if (auto d = orig.find("default"); d != orig.end() && !d->is_null()) {
    s["default"] = cast_value(&orig, *d, target);
  }
  return s;
}

class cast final : public transformation {
 public:
  cast(const plugin_config& c, side s)
      : side_(s), replace_null_(c.values().get_bool("replace.null.with.default")) {
    auto spec = c.values().get_string("spec");
    if (auto e = parse_spec(spec, spec_)) c.fail("spec", spec, *e);
  }

  bool apply(connect_record& r) override {
    json& v = operating_value(r, side_);
    if (v.is_null()) return true;
    auto& schema = operating_schema(r, side_);
    if (!schema) {
      if (spec_.whole) {
        v = cast_value(nullptr, v, *spec_.whole);
        return true;
      }
      require_map(v, purpose);
      for (const auto& [field, type] : spec_.fields) {
        auto it = v.find(field);
        if (it == v.end()) {
          v[field] = nullptr;  // Kafka puts the (null) cast of a missing field
        } else {
          *it = cast_value(nullptr, *it, type);
        }
      }
      return true;
    }
    auto updated = cache_.get(schema, [&](const json& s) { return build_schema(s); });
    if (spec_.whole) {
      v = cast_value(schema.get(), v, *spec_.whole);
    } else {
      require_struct(v, schema, purpose);
      json out = json::object();
      for (const auto& f : schema_fields(*schema)) {
        const auto& name = f["field"].get_ref<const std::string&>();
        json fv = take_field_value(v, f, replace_null_);
        auto it = spec_.fields.find(name);
        out[name] = it == spec_.fields.end() ? std::move(fv) : cast_value(&f, fv, it->second);
      }
      v = std::move(out);
    }
    schema = std::move(updated);
    return true;
  }

 private:
  static constexpr std::string_view purpose = "cast types";

  json build_schema(const json& s) const {
    if (spec_.whole) return cast_schema(s, *spec_.whole, true);
    json out = struct_like(s);
    for (const auto& f : schema_fields(s)) {
      const auto& name = f["field"].get_ref<const std::string&>();
      auto it = spec_.fields.find(name);
      out["fields"].push_back(
          it == spec_.fields.end() ? f : make_field(name, cast_schema(f, it->second, false)));
    }
    if (auto d = s.find("default"); d != s.end()) out["default"] = *d;
    return out;
  }

  side side_;
  bool replace_null_;
  cast_spec spec_;
  schema_cache cache_;
};

// --- MaskField ---

json mask_default(const json& v, const json* schema) {
  std::string type = schema ? schema_type(*schema) : inferred_type(v);
  if (type == "boolean") return false;
  if (type == "int8" || type == "int16" || type == "int32" || type == "int64") return 0;
  if (type == "float32" || type == "float64") return 0.0;
  if (type == "string") return "";
  if (type == "array") return json::array();
  if (type == "map" && (v.is_object() || v.is_array()))
    return v.is_object() ? json::object() : json::array();
  throw data_error("Cannot mask value of type: " + (schema ? upper(type) : class_name(v)));
}

// mask_default() of a schemaless value, done to the value itself: a string is emptied rather
// than replaced, so masking allocates and frees nothing. False for what it leaves to
// mask_default() (bytes, which cannot be masked, and null, which stays null).
bool mask_in_place(json& v) {
  switch (v.type()) {
    case json::value_t::boolean:
      v = false;
      return true;
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
      v = 0;
      return true;
    case json::value_t::number_float:
      v = 0.0;
      return true;
    case json::value_t::string:
      v.get_ref<std::string&>().clear();
      return true;
    case json::value_t::array:
      v.get_ref<json::array_t&>().clear();
      return true;
    case json::value_t::object:
      v.get_ref<json::object_t&>().clear();
      return true;
    default:
      return false;
  }
}

json mask_replacement(const json& v, const json* schema, const std::string& replacement) {
  std::string type = schema ? schema_type(*schema) : inferred_type(v);
  if (type == "string") return replacement;
  auto number = [&]() -> json {
    if (type == "float32" || type == "float64") return parse_floating(json(replacement));
    const std::int64_t lo = type == "int8"    ? -128
                            : type == "int16" ? -32768
                            : type == "int32" ? INT32_MIN
                                              : INT64_MIN;
    return parse_integral(json(replacement), lo, lo == INT64_MIN ? INT64_MAX : -lo - 1);
  };
  if (type == "int8" || type == "int16" || type == "int32" || type == "int64" ||
      type == "float32" || type == "float64") {
    try {
      return number();
    } catch (const data_error&) {
      throw data_error("Unable to convert " + replacement + " (class java.lang.String) to number");
    }
  }
  throw data_error("Cannot mask value of type " + (schema ? upper(type) : class_name(v)) +
                   " with custom replacement.");
}

class mask_field final : public transformation {
 public:
  mask_field(const plugin_config& c, side s)
      : side_(s), replace_null_(c.values().get_bool("replace.null.with.default")) {
    for (auto& f : c.values().get_list("fields")) fields_.insert(f);
    if (c.values().has("replacement")) {
      // Kafka's default is null; an explicit value must not be empty (ConfigDef.NonEmptyString).
      auto r = c.values().get_string("replacement");
      if (api::trim(r).empty()) c.fail("replacement", r, "String must be non-empty");
      replacement_ = std::move(r);
    }
  }

  bool apply(connect_record& r) override {
    json& v = operating_value(r, side_);
    const auto& schema = operating_schema(r, side_);
    if (!schema) {
      require_map(v, purpose);
      for (const auto& f : fields_) {
        auto it = v.find(f);
        if (it == v.end()) {
          v[f] = nullptr;
        } else if (replacement_ || !mask_in_place(*it)) {
          *it = masked(*it, nullptr);
        }
      }
      return true;
    }
    require_struct(v, schema, purpose);
    json out = json::object();
    for (const auto& f : schema_fields(*schema)) {
      const auto& name = f["field"].get_ref<const std::string&>();
      json fv = take_field_value(v, f, replace_null_);
      out[name] = fields_.count(name) ? masked(fv, &f) : std::move(fv);
    }
    v = std::move(out);
    return true;
  }

 private:
  static constexpr std::string_view purpose = "mask fields";

  json masked(const json& v, const json* schema) const {
    if (v.is_null()) return v;
    if (schema && schema_type(*schema) == "struct") {
      throw data_error("Cannot mask value of type: class org.apache.kafka.connect.data.Struct");
    }
    return replacement_ ? mask_replacement(v, schema, *replacement_) : mask_default(v, schema);
  }

  side side_;
  bool replace_null_;
  std::set<std::string> fields_;
  std::optional<std::string> replacement_;
};

}  // namespace

void register_value_transforms(std::vector<plugin_info>& out) {
  api::config_def cast_def;
  cast_def
      .define({.name = "spec",
               .type = api::config_type::list,
               .default_value = std::nullopt,
               .importance = api::importance_level::high,
               .doc = "List of fields and the type to cast them to of the form "
                      "field1:type,field2:type to cast fields of Maps or Structs. A single type "
                      "to cast the entire value. Valid types are int8, int16, int32, int64, "
                      "float32, float64, boolean, and string. Note that binary fields can only "
                      "be cast to string.",
               .validate =
                   [](const std::string& v) {
                     cast_spec s;
                     return parse_spec(v, s);
                   }})
      .define(replace_null_with_default_key());
  add_keyed_transformation(
      out, transforms_package + "Cast",
      "Cast fields or the entire key or value to a specific type, e.g. to force an integer field "
      "to a smaller width. Cast from integers, floats, boolean and string to any other type, and "
      "cast binary to string (base64 encoded).",
      cast_def, [](const plugin_config& c, side s) { return std::make_unique<cast>(c, s); });

  api::config_def mask_def;
  mask_def
      .define({.name = "fields",
               .type = api::config_type::list,
               .default_value = std::nullopt,
               .importance = api::importance_level::high,
               .doc = "Names of fields to mask.",
               .validate = non_empty_list()})
      .define({.name = "replacement",
               .type = api::config_type::string,
               .default_value = "",
               .importance = api::importance_level::low,
               .doc = "Custom value replacement, that will be applied to all 'fields' values "
                      "(numeric or non-empty string values only)."})
      .define(replace_null_with_default_key());
  add_keyed_transformation(
      out, transforms_package + "MaskField",
      "Mask specified fields with a valid null value for the field type (i.e. 0, false, empty "
      "string, and so on). For numeric and string fields, an optional replacement value can be "
      "specified that is converted to the correct type.",
      mask_def, [](const plugin_config& c, side s) { return std::make_unique<mask_field>(c, s); });
}

}  // namespace ferry::transforms::detail
