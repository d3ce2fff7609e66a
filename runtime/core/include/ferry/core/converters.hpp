#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ferry/api/config_def.hpp"
#include "ferry/api/converter.hpp"
#include "ferry/api/json.hpp"
#include "ferry/api/record.hpp"

namespace ferry::core {

// The converter interface lives in the connector API so that plug-ins can implement it.
using connect_data = api::connect_data;
using converter = api::converter;

// Accepts Kafka's class names and their simple names: JsonConverter, StringConverter,
// ByteArrayConverter, and the classes added by register_converter(). `settings` are the converter's
// own keys (e.g. schemas.enable). Throws api::config_error for an unknown class or a bad setting.
std::unique_ptr<converter> make_converter(const std::string& class_name,
                                          const api::config_map& settings, bool is_key);
bool is_known_converter(const std::string& class_name);

// Adds a plug-in's converter class. Start-up only, before any task runs (the list is read without
// locks afterwards). Throws std::logic_error when the class or its simple name is taken.
void register_converter(api::converter_plugin plugin);
// Every converter class name, built-ins first (GET /connector-plugins?connectorsOnly=false).
std::vector<std::string> converter_classes();

// Kafka Connect's JSON schema for a value when none was given.
json infer_schema(const json& value);

std::string base64_encode(std::string_view bytes);
std::optional<std::string> base64_decode(std::string_view text);

}  // namespace ferry::core
