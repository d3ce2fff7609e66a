#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "ferry/api/config_def.hpp"
#include "ferry/api/json.hpp"
#include "ferry/api/record.hpp"

namespace ferry::core {

struct connect_data {
  json value;
  api::schema_ptr schema;  // null when unknown
};

// Turns connector data into Kafka bytes and back, like Kafka Connect's Converter. One instance
// per task and direction (key or value); used only by that task's thread.
class converter {
 public:
  virtual ~converter() = default;
  // nullopt means a null Kafka key/value (a tombstone for values).
  // `schema` may be null (unknown).
  virtual std::optional<std::string> from_connect(const std::string& topic, const json& value,
                                                  const json* schema) = 0;
  // data == nullptr means a null key/value. Throws api::data_error on undecodable bytes.
  virtual connect_data to_connect(const std::string& topic, const char* data, std::size_t size) = 0;
};

// Accepts Kafka's class names and their simple names: JsonConverter, StringConverter,
// ByteArrayConverter. `settings` are the converter's own keys (e.g. schemas.enable).
// Throws api::config_error for an unknown class or a bad setting.
std::unique_ptr<converter> make_converter(const std::string& class_name,
                                          const api::config_map& settings, bool is_key);
bool is_known_converter(const std::string& class_name);

// Kafka Connect's JSON schema for a value when none was given.
json infer_schema(const json& value);

std::string base64_encode(std::string_view bytes);
std::optional<std::string> base64_decode(std::string_view text);

}  // namespace ferry::core
