#pragma once

#include <cstddef>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ferry/api/json.hpp"

namespace ferry::core {

// JSON text that does not parse; what() names the byte offset and the problem.
class json_syntax_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Parses one JSON text (RFC 8259) into the same value json::parse() gives — the same types
// (unsigned, signed and floating numbers as nlohmann tells them apart), the same handling of a
// duplicated object key (first position, last value), UTF-8 validated, a leading UTF-8 BOM
// skipped — at a fraction of its cost. It is the record path's parser: nlohmann's reads a byte
// at a time through an input adapter and copies every object member when its vector grows
// (the key is const), which made JSON parsing half of a JSON sink's CPU.
// Nesting is limited to 1000 levels (Jackson's default limit, which Kafka Connect's
// JsonConverter inherits). One reader is used by one thread at a time; reusing it reuses its
// scratch space.
class json_reader {
 public:
  static constexpr int max_depth = 1000;

  json parse(std::string_view text);

 private:
  json value(int depth);
  json object(int depth);
  json array(int depth);
  json number();
  void string_into(std::string& out);
  void escape_into(std::string& out);
  void utf8_into(std::string& out);
  void literal(std::string_view word);
  void skip_space();
  [[noreturn]] void fail(const std::string& what) const;

  const char* begin_ = nullptr;
  const char* p_ = nullptr;
  const char* end_ = nullptr;
  // Members of the objects being read, innermost last: an object's members are collected here
  // (movable pairs) and moved into its map once counted, so the map never reallocates.
  std::vector<std::pair<std::string, json>> members_;
};

}  // namespace ferry::core
