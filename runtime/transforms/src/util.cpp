#include "util.hpp"

#include <charconv>
#include <cmath>

namespace ferry::transforms::detail {

namespace {

const json& empty_array() {
  static const json a = json::array();
  return a;
}

}  // namespace

std::string schema_type(const json& schema) {
  auto it = schema.find("type");
  return it != schema.end() && it->is_string() ? it->get<std::string>() : std::string{};
}

bool is_optional(const json& schema) {
  auto it = schema.find("optional");
  return it != schema.end() && it->is_boolean() && it->get<bool>();
}

std::string schema_name(const json& schema) {
  auto it = schema.find("name");
  return it != schema.end() && it->is_string() ? it->get<std::string>() : std::string{};
}

const json& schema_fields(const json& schema) {
  if (!schema.is_object()) return empty_array();
  auto it = schema.find("fields");
  return it != schema.end() && it->is_array() ? *it : empty_array();
}

const json* find_field(const json& struct_schema, std::string_view name) {
  for (const auto& f : schema_fields(struct_schema)) {
    auto it = f.find("field");
    if (it != f.end() && it->is_string() && it->get_ref<const std::string&>() == name) return &f;
  }
  return nullptr;
}

json field_schema(const json& field) {
  json s = field;
  s.erase("field");
  return s;
}

json make_field(const std::string& name, json schema) {
  json f = json::object();
  f["type"] = schema.value("type", "struct");
  for (auto& [k, v] : schema.items()) {
    if (k != "type" && k != "field") f[k] = v;
  }
  f["field"] = name;
  return f;
}

json struct_like(const json& base) {
  json s = json::object();
  s["type"] = "struct";
  s["fields"] = json::array();
  s["optional"] = is_optional(base);
  for (const char* k : {"name", "version", "doc", "parameters"}) {
    if (auto it = base.find(k); it != base.end()) s[k] = *it;
  }
  return s;
}

api::schema_ptr share(json schema) {
  return std::make_shared<const json>(std::move(schema));
}

json field_value(const json& struct_value, const json& field, bool replace_null_with_default) {
  const auto& name = field["field"].get_ref<const std::string&>();
  json v;
  if (struct_value.is_object()) {
    if (auto it = struct_value.find(name); it != struct_value.end()) v = *it;
  }
  if (v.is_null() && replace_null_with_default) {
    if (auto d = field.find("default"); d != field.end()) return *d;
  }
  return v;
}

json take_field_value(json& struct_value, const json& field, bool replace_null_with_default) {
  const auto& name = field["field"].get_ref<const std::string&>();
  json v;
  if (struct_value.is_object()) {
    if (auto it = struct_value.find(name); it != struct_value.end()) v = std::move(*it);
  }
  if (v.is_null() && replace_null_with_default) {
    if (auto d = field.find("default"); d != field.end()) return *d;
  }
  return v;
}

std::string class_name(const json& v) {
  switch (v.type()) {
    case json::value_t::null:
      return "null";
    case json::value_t::boolean:
      return "java.lang.Boolean";
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
      return "java.lang.Long";
    case json::value_t::number_float:
      return "java.lang.Double";
    case json::value_t::string:
      return "java.lang.String";
    case json::value_t::binary:
      return "[B";
    case json::value_t::array:
      return "java.util.ArrayList";
    case json::value_t::object:
      return "java.util.HashMap";
    default:
      return "unknown";
  }
}

std::string inferred_type(const json& v) {
  switch (v.type()) {
    case json::value_t::boolean:
      return "boolean";
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
      return "int64";
    case json::value_t::number_float:
      return "float64";
    case json::value_t::string:
      return "string";
    case json::value_t::binary:
      return "bytes";
    case json::value_t::array:
      return "array";
    case json::value_t::object:
      return "map";
    default:
      return "";
  }
}

void require_map(const json& v, std::string_view purpose) {
  if (!v.is_object()) {
    throw api::data_error("Only Map objects supported in absence of schema for [" +
                          std::string(purpose) + "], found: " + class_name(v));
  }
}

void require_map_or_null(const json& v, std::string_view purpose) {
  if (!v.is_null()) require_map(v, purpose);
}

void require_struct(const json& v, const api::schema_ptr& schema, std::string_view purpose) {
  if (!v.is_object() || !schema || schema_type(*schema) != "struct") {
    throw api::data_error("Only Struct objects supported for [" + std::string(purpose) +
                          "], found: " + class_name(v));
  }
}

void require_struct_or_null(const json& v, const api::schema_ptr& schema,
                            std::string_view purpose) {
  if (!v.is_null()) require_struct(v, schema, purpose);
}

void require_schema(const api::schema_ptr& schema, std::string_view purpose) {
  if (!schema) throw api::data_error("Schema required for [" + std::string(purpose) + "]");
}

namespace {

// Java's Double.toString / Float.toString layout around the shortest round-trip digits.
std::string java_layout(std::string shortest_sci, bool plain_range, const std::string& plain) {
  if (plain_range) {
    std::string s = plain;
    if (s.find('.') == std::string::npos) s += ".0";
    return s;
  }
  // shortest_sci: "-1.5e+10" / "1e-05"
  auto e = shortest_sci.find('e');
  std::string mantissa = shortest_sci.substr(0, e);
  int exponent = std::stoi(shortest_sci.substr(e + 1));
  if (mantissa.find('.') == std::string::npos) mantissa += ".0";
  return mantissa + "E" + std::to_string(exponent);
}

template <class F>
std::string java_floating_string(F d) {
  if (std::isnan(d)) return "NaN";
  if (std::isinf(d)) return d > 0 ? "Infinity" : "-Infinity";
  if (d == 0) return std::signbit(d) ? "-0.0" : "0.0";
  char sci[64];
  char fixed[400];
  auto r1 = std::to_chars(sci, sci + sizeof sci, d, std::chars_format::scientific);
  auto r2 = std::to_chars(fixed, fixed + sizeof fixed, d, std::chars_format::fixed);
  F a = std::fabs(d);
  bool plain = a >= F(1e-3) && a < F(1e7);
  return java_layout(std::string(sci, r1.ptr), plain, std::string(fixed, r2.ptr));
}

}  // namespace

std::string java_double_string(double d) {
  return java_floating_string(d);
}
std::string java_float_string(float f) {
  return java_floating_string(f);
}

std::string base64_encode(const std::vector<std::uint8_t>& bytes) {
  static constexpr char table[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    std::uint32_t n = (bytes[i] << 16) | (bytes[i + 1] << 8) | bytes[i + 2];
    out += table[(n >> 18) & 63];
    out += table[(n >> 12) & 63];
    out += table[(n >> 6) & 63];
    out += table[n & 63];
  }
  if (i + 1 == bytes.size()) {
    std::uint32_t n = bytes[i] << 16;
    out += table[(n >> 18) & 63];
    out += table[(n >> 12) & 63];
    out += "==";
  } else if (i + 2 == bytes.size()) {
    std::uint32_t n = (bytes[i] << 16) | (bytes[i + 1] << 8);
    out += table[(n >> 18) & 63];
    out += table[(n >> 12) & 63];
    out += table[(n >> 6) & 63];
    out += '=';
  }
  return out;
}

std::optional<std::string> header_bytes(const json& v) {
  switch (v.type()) {
    case json::value_t::null:
      return std::nullopt;
    case json::value_t::string:
      return v.get<std::string>();
    case json::value_t::number_float:
      return java_double_string(v.get<double>());
    case json::value_t::binary: {
      const auto& b = v.get_binary();
      return std::string(b.begin(), b.end());
    }
    default:
      return v.dump();
  }
}

}  // namespace ferry::transforms::detail
