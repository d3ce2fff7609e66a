#pragma once

#include <optional>
#include <string>

namespace ferry::storage {

// Replaces `path` with `content` so that a crash at any moment leaves either the old or the new
// file, never a torn one: write a temp file beside it, fsync, rename over, fsync the directory.
// Throws std::runtime_error naming the path and errno text.
void write_file_atomically(const std::string& path, const std::string& content);

// The whole file, or nullopt when it does not exist. Throws on other read errors.
std::optional<std::string> read_file(const std::string& path);

}  // namespace ferry::storage
