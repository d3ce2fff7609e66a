#include "ferry/core/converters.hpp"

#include <array>
#include <stdexcept>

#include "ferry/api/errors.hpp"
#include "ferry/core/json_reader.hpp"

namespace ferry::core {

namespace {

constexpr const char* k_b64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

std::string simple_name(const std::string& class_name) {
  auto dot = class_name.rfind('.');
  return dot == std::string::npos ? class_name : class_name.substr(dot + 1);
}

std::string binary_to_string(const json::binary_t& b) {
  return std::string(reinterpret_cast<const char*>(b.data()), b.size());
}

// Replaces binary values by base64 text, as Kafka's JsonConverter writes bytes.
json to_json_text_form(const json& v) {
  if (v.is_binary()) return base64_encode(binary_to_string(v.get_binary()));
  if (v.is_object()) {
    json o = json::object();
    for (const auto& [k, x] : v.items()) o[k] = to_json_text_form(x);
    return o;
  }
  if (v.is_array()) {
    json a = json::array();
    for (const auto& x : v) a.push_back(to_json_text_form(x));
    return a;
  }
  return v;
}

bool contains_binary(const json& v) {
  if (v.is_binary()) return true;
  if (v.is_structured()) {
    for (const auto& x : v) {
      if (contains_binary(x)) return true;
    }
  }
  return false;
}

// Kafka's JsonConverter writes bytes as base64 text; with a schema saying "bytes" they are
// decoded back into bytes, also inside structs, arrays and maps.
json decode_bytes(json value, const json& schema) {
  if (!schema.is_object() || value.is_null()) return value;
  const auto type = schema.value("type", "");
  if (type == "bytes" && value.is_string()) {
    auto raw = base64_decode(value.get_ref<const std::string&>());
    if (!raw) throw api::data_error("Invalid base64 in a field of schema type bytes");
    auto* p = reinterpret_cast<const std::uint8_t*>(raw->data());
    return json::binary(json::binary_t::container_type(p, p + raw->size()));
  }
  if (type == "struct" && value.is_object() && schema.contains("fields")) {
    for (const auto& f : schema["fields"]) {
      auto name = f.value("field", "");
      if (value.contains(name)) value[name] = decode_bytes(std::move(value[name]), f);
    }
  } else if (type == "array" && value.is_array() && schema.contains("items")) {
    for (auto& v : value) v = decode_bytes(std::move(v), schema["items"]);
  } else if (type == "map" && value.is_object() && schema.contains("values")) {
    for (auto& [k, v] : value.items()) v = decode_bytes(std::move(v), schema["values"]);
  }
  return value;
}

class string_converter final : public converter {
 public:
  std::optional<std::string> from_connect(const std::string&, const json& value,
                                          const json*) override {
    if (value.is_null()) return std::nullopt;
    if (value.is_string()) return value.get_ref<const std::string&>();
    if (value.is_binary()) return binary_to_string(value.get_binary());
    return value.dump();
  }
  connect_data to_connect(const std::string&, const char* data, std::size_t size) override {
    if (!data) return {nullptr, nullptr};
    static const api::schema_ptr schema =
        std::make_shared<const json>(json{{"type", "string"}, {"optional", false}});
    return {json(std::string(data, size)), schema};
  }
};

class byte_array_converter final : public converter {
 public:
  std::optional<std::string> from_connect(const std::string& topic, const json& value,
                                          const json*) override {
    if (value.is_null()) return std::nullopt;
    if (value.is_binary()) return binary_to_string(value.get_binary());
    if (value.is_string()) return value.get_ref<const std::string&>();
    throw api::data_error("ByteArrayConverter is not compatible with objects of type " +
                          std::string(value.type_name()) + " (topic " + topic + ")");
  }
  connect_data to_connect(const std::string&, const char* data, std::size_t size) override {
    if (!data) return {nullptr, nullptr};
    auto* p = reinterpret_cast<const std::uint8_t*>(data);
    static const api::schema_ptr schema =
        std::make_shared<const json>(json{{"type", "bytes"}, {"optional", false}});
    return {json::binary(json::binary_t::container_type(p, p + size)), schema};
  }
};

class json_converter final : public converter {
 public:
  explicit json_converter(bool schemas_enable) : schemas_enable_(schemas_enable) {}

  std::optional<std::string> from_connect(const std::string&, const json& value,
                                          const json* schema) override {
    if (value.is_null() && (!schema || !schemas_enable_)) return std::nullopt;
    const json& payload = contains_binary(value) ? (tmp_ = to_json_text_form(value)) : value;
    if (!schemas_enable_) return payload.dump();
    json envelope = json::object();
    envelope["schema"] = schema ? *schema : infer_schema(value);
    envelope["payload"] = payload;
    return envelope.dump();
  }

  api::value_form writes() const override {
    return schemas_enable_ ? api::value_form::data : api::value_form::schemaless_json;
  }

  connect_data to_connect(const std::string& topic, const char* data, std::size_t size) override {
    if (!data) return {nullptr, nullptr};
    json parsed;
    try {
      parsed = reader_.parse(std::string_view(data, size));
    } catch (const json_syntax_error& e) {
      throw api::data_error(
          "Converting byte[] to Kafka Connect data failed due to serialization "
          "error of topic " +
          topic + ": " + e.what());
    }
    if (!schemas_enable_) return {std::move(parsed), nullptr};
    if (!parsed.is_object() || parsed.size() != 2 || !parsed.contains("schema") ||
        !parsed.contains("payload")) {
      throw api::data_error(
          "JsonConverter with schemas.enable requires \"schema\" and \"payload\" fields and may "
          "not contain additional fields. If you are trying to deserialize plain JSON data, set "
          "schemas.enable=false in your converter configuration.");
    }
    auto schema = std::make_shared<const json>(std::move(parsed["schema"]));
    return {decode_bytes(std::move(parsed["payload"]), *schema), std::move(schema)};
  }

 private:
  bool schemas_enable_;
  json tmp_;
  json_reader reader_;
};

constexpr std::array<const char*, 3> k_builtin_converters = {
    "org.apache.kafka.connect.json.JsonConverter",
    "org.apache.kafka.connect.storage.StringConverter",
    "org.apache.kafka.connect.converters.ByteArrayConverter"};

// Converter classes added by plug-ins; filled at start-up, then only read.
std::vector<api::converter_plugin>& plugin_converters() {
  static std::vector<api::converter_plugin> all;
  return all;
}

const api::converter_plugin* find_plugin_converter(const std::string& class_name) {
  for (const auto& p : plugin_converters()) {
    if (p.class_name == class_name) return &p;
  }
  auto n = simple_name(class_name);
  for (const auto& p : plugin_converters()) {
    if (simple_name(p.class_name) == n) return &p;
  }
  return nullptr;
}

bool is_builtin_converter(const std::string& class_name) {
  auto n = simple_name(class_name);
  return n == "JsonConverter" || n == "StringConverter" || n == "ByteArrayConverter";
}

}  // namespace

bool is_known_converter(const std::string& class_name) {
  return is_builtin_converter(class_name) || find_plugin_converter(class_name) != nullptr;
}

void register_converter(api::converter_plugin plugin) {
  if (plugin.class_name.empty() || !plugin.make) {
    throw std::logic_error("converter plugin without a class name or factory");
  }
  if (is_known_converter(plugin.class_name)) {
    throw std::logic_error("converter class " + plugin.class_name +
                           " is already registered (same class or simple name)");
  }
  plugin_converters().push_back(std::move(plugin));
}

std::vector<std::string> converter_classes() {
  std::vector<std::string> out(k_builtin_converters.begin(), k_builtin_converters.end());
  for (const auto& p : plugin_converters()) out.push_back(p.class_name);
  return out;
}

std::unique_ptr<converter> make_converter(const std::string& class_name,
                                          const api::config_map& settings, bool is_key) {
  auto n = simple_name(class_name);
  if (n == "StringConverter") return std::make_unique<string_converter>();
  if (n == "ByteArrayConverter") return std::make_unique<byte_array_converter>();
  if (n == "JsonConverter") {
    bool schemas = true;
    if (auto it = settings.find("schemas.enable"); it != settings.end()) {
      auto b = api::parse_bool(it->second);
      if (!b) {
        throw api::config_error("Invalid value " + it->second +
                                " for converter setting schemas.enable: expected true or false");
      }
      schemas = *b;
    }
    return std::make_unique<json_converter>(schemas);
  }
  if (const auto* p = find_plugin_converter(class_name)) return p->make(settings, is_key);
  std::string known;
  for (const auto& c : converter_classes()) known += (known.empty() ? "" : ", ") + c;
  throw api::config_error("Unknown converter class " + class_name + "; known: " + known);
}

json infer_schema(const json& value) {
  json s = json::object();
  switch (value.type()) {
    case json::value_t::boolean:
      s["type"] = "boolean";
      break;
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
      s["type"] = "int64";
      break;
    case json::value_t::number_float:
      s["type"] = "double";
      break;
    case json::value_t::string:
      s["type"] = "string";
      break;
    case json::value_t::binary:
      s["type"] = "bytes";
      break;
    case json::value_t::array:
      s["type"] = "array";
      s["items"] =
          value.empty() ? json{{"type", "string"}, {"optional", true}} : infer_schema(value[0]);
      break;
    case json::value_t::object: {
      s["type"] = "struct";
      json fields = json::array();
      for (const auto& [k, v] : value.items()) {
        auto f = infer_schema(v);
        json field = json::object();
        field["type"] = f["type"];
        for (const auto& [fk, fv] : f.items()) {
          if (fk != "type") field[fk] = fv;
        }
        field["field"] = k;
        fields.push_back(std::move(field));
      }
      s["fields"] = std::move(fields);
      break;
    }
    default:
      s["type"] = "string";
      s["optional"] = true;
      return s;
  }
  s["optional"] = value.is_null();
  return s;
}

std::string base64_encode(std::string_view in) {
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    unsigned v = (static_cast<unsigned char>(in[i]) << 16) |
                 (static_cast<unsigned char>(in[i + 1]) << 8) |
                 static_cast<unsigned char>(in[i + 2]);
    out += k_b64[(v >> 18) & 63];
    out += k_b64[(v >> 12) & 63];
    out += k_b64[(v >> 6) & 63];
    out += k_b64[v & 63];
  }
  if (i < in.size()) {
    unsigned v = static_cast<unsigned char>(in[i]) << 16;
    if (i + 1 < in.size()) v |= static_cast<unsigned char>(in[i + 1]) << 8;
    out += k_b64[(v >> 18) & 63];
    out += k_b64[(v >> 12) & 63];
    out += i + 1 < in.size() ? k_b64[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

std::optional<std::string> base64_decode(std::string_view in) {
  auto val = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  if (in.size() % 4 != 0) return std::nullopt;
  std::string out;
  out.reserve(in.size() / 4 * 3);
  for (std::size_t i = 0; i < in.size(); i += 4) {
    int a = val(in[i]), b = val(in[i + 1]);
    if (a < 0 || b < 0) return std::nullopt;
    out += static_cast<char>((a << 2) | (b >> 4));
    const bool last = i + 4 == in.size();
    if (in[i + 2] == '=') {
      if (!last || in[i + 3] != '=') return std::nullopt;
      break;
    }
    int c = val(in[i + 2]);
    if (c < 0) return std::nullopt;
    out += static_cast<char>(((b & 15) << 4) | (c >> 2));
    if (in[i + 3] == '=') {
      if (!last) return std::nullopt;
      break;
    }
    int d = val(in[i + 3]);
    if (d < 0) return std::nullopt;
    out += static_cast<char>(((c & 3) << 6) | d);
  }
  return out;
}

}  // namespace ferry::core
