#pragma once

#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "ferry/api/json.hpp"

namespace ferry::storage {

// One source partition's offset; offset null means "reset" (a tombstone in Kafka).
struct source_offset {
  json partition;
  json offset;
};

// Source offsets, keyed exactly as Kafka Connect keys them: ["<connector>",{partition}].
// Thread-safe: tasks read at start and write from their own threads.
class offset_store {
 public:
  virtual ~offset_store() = default;
  offset_store() = default;
  offset_store(const offset_store&) = delete;
  offset_store& operator=(const offset_store&) = delete;

  virtual std::optional<json> get(const std::string& connector, const json& partition) = 0;
  // Durable when it returns; throws std::runtime_error when it could not be stored.
  virtual void put(const std::string& connector, const std::vector<source_offset>& offsets) = 0;
  virtual std::vector<source_offset> list(const std::string& connector) = 0;
};

// The key bytes Kafka Connect writes: compact JSON of ["<connector>",{partition}].
std::string offset_key(const std::string& connector, const json& partition);

// Standalone offsets in offset.storage.file.filename: readable JSON
// ({"offsets":[{"key":[...],"value":{...}}]}), rewritten atomically on every put.
// An empty path keeps offsets in memory only.
class file_offset_store final : public offset_store {
 public:
  // Loads the file if present; throws std::runtime_error on an unreadable or corrupt file.
  explicit file_offset_store(std::string path);

  std::optional<json> get(const std::string& connector, const json& partition) override;
  void put(const std::string& connector, const std::vector<source_offset>& offsets) override;
  std::vector<source_offset> list(const std::string& connector) override;

 private:
  void save_locked();

  std::string path_;
  std::mutex mutex_;
  // key bytes -> (parsed key, value); insertion order is irrelevant, the file is sorted by key.
  std::unordered_map<std::string, std::pair<json, json>> entries_;
};

}  // namespace ferry::storage
