#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ferry/api/json.hpp"
#include "ferry/api/record.hpp"

namespace ferry::redis {

// A text with placeholders, parsed once when a task starts: ${topic}, ${key}, ${value},
// ${value.<field>[.<field>...]}, ${header.<name>}, ${partition}, ${offset}. `$$` is a literal
// `$`. As a command (split = true) the text is split into arguments at spaces; one argument
// may mix literals and placeholders (`user:${key}`). Immutable after parse; any thread.
class command_template {
 public:
  struct part {
    enum class kind { literal, topic, key, value, value_field, header, partition, offset };
    kind what = kind::literal;
    std::string text;               // literal text, or header name
    std::vector<std::string> path;  // value_field: field names, outermost first
  };
  using argument = std::vector<part>;

  // Throws api::config_error naming `config_key` on a malformed template.
  static command_template parse(std::string_view text, bool split, const std::string& config_key);
  // The error parse() would throw, for validators.
  static std::optional<std::string> check(std::string_view text, bool split);

  const std::vector<argument>& arguments() const { return args_; }
  bool uses_value() const { return uses_value_; }

 private:
  std::vector<argument> args_;
  bool uses_value_ = false;
};

// Renders templates for one record at a time. Field look-ups parse a text value holding a JSON
// object once per record. Owns reusable buffers: one per task thread.
class template_renderer {
 public:
  // Starts a record; the record must outlive the calls below for it.
  void reset(const api::sink_record& record);

  // The text of one argument. The view is valid until the next render() or reset().
  std::string_view render(const command_template::argument& arg);

  // The record's value as an object (a map/struct value, or text holding a JSON object);
  // nullptr when it is neither.
  const json* object_value();
  // A field of the object value, nullptr when absent (or the value is not an object).
  const json* field(const std::vector<std::string>& path);

 private:
  std::string_view part_view(const command_template::part& p);

  const api::sink_record* record_ = nullptr;
  json parsed_;
  bool parsed_done_ = false;
  const json* object_ = nullptr;
  std::string buf_;
  std::string part_buf_;
};

// The bytes Redis stores for a value: text and bytes as they are, null as empty, numbers and
// booleans as their JSON text, maps and arrays as compact JSON. Returns a view of the value
// itself when it can, else of `buf`.
std::string_view text_of(const json& value, std::string& buf);

// "topic-partition@offset", for error messages.
std::string describe(const api::sink_record& record);

}  // namespace ferry::redis
