#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "ferry/api/config_def.hpp"
#include "ferry/api/json.hpp"
#include "ferry/api/record.hpp"

namespace ferry::api {

struct connect_data {
  json value;
  schema_ptr schema;  // null when unknown
};

// Turns connector data into Kafka bytes and back, like Kafka Connect's Converter. One instance
// per task and direction (key or value); used only by that task's thread.
class converter {
 public:
  converter() = default;
  converter(const converter&) = delete;
  converter& operator=(const converter&) = delete;
  virtual ~converter() = default;
  // nullopt means a null Kafka key/value (a tombstone for values).
  // `schema` may be null (unknown).
  virtual std::optional<std::string> from_connect(const std::string& topic, const json& value,
                                                  const json* schema) = 0;
  // data == nullptr means a null key/value. Throws api::data_error on undecodable bytes.
  virtual connect_data to_connect(const std::string& topic, const char* data, std::size_t size) = 0;
  // The form from_connect() writes values in when a task can write it as well (see
  // source_record::value_bytes); `data` when it is no such form.
  virtual value_form writes() const { return value_form::data; }
};

// A converter class a plug-in adds: `make` gets the converter's own settings (key.converter.*
// without the prefix) and throws api::config_error for a bad one.
struct converter_plugin {
  std::string class_name;
  std::function<std::unique_ptr<converter>(const config_map& settings, bool is_key)> make;
};

}  // namespace ferry::api
