#pragma once

#include <map>
#include <string>

namespace ferry::core {

// Parses Java .properties text: '#'/'!' comments, '=', ':' or whitespace separators, backslash
// line continuations and escapes (\t \n \uXXXX). Throws std::invalid_argument with the line
// number on malformed input (a bad \u escape, a key with no value separator is allowed as Java).
std::map<std::string, std::string> parse_properties(const std::string& text);

// Reads and parses a file; throws std::runtime_error naming the file.
std::map<std::string, std::string> load_properties_file(const std::string& path);

}  // namespace ferry::core
