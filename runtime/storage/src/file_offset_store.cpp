#include "ferry/storage/offset_store.hpp"

#include <algorithm>
#include <stdexcept>

#include "ferry/storage/atomic_file.hpp"

namespace ferry::storage {

std::string offset_key(const std::string& connector, const json& partition) {
  return json::array({connector, partition}).dump();
}

file_offset_store::file_offset_store(std::string path) : path_(std::move(path)) {
  if (path_.empty()) return;
  auto content = read_file(path_);
  if (!content || content->empty()) return;
  json doc;
  try {
    doc = json::parse(*content);
  } catch (const json::exception& e) {
    throw std::runtime_error("Offsets file " + path_ + " is not valid JSON: " + e.what());
  }
  if (!doc.is_object() || !doc.contains("offsets") || !doc["offsets"].is_array()) {
    throw std::runtime_error("Offsets file " + path_ + " has no \"offsets\" array");
  }
  for (const auto& e : doc["offsets"]) {
    if (!e.contains("key") || !e["key"].is_array() || e["key"].size() != 2 ||
        !e["key"][0].is_string()) {
      throw std::runtime_error("Offsets file " + path_ + " has a malformed key: " + e.dump());
    }
    const auto& key = e["key"];
    entries_[key.dump()] = {key, e.value("value", json(nullptr))};
  }
}

std::optional<json> file_offset_store::get(const std::string& connector, const json& partition) {
  std::lock_guard lock(mutex_);
  auto it = entries_.find(offset_key(connector, partition));
  if (it == entries_.end() || it->second.second.is_null()) return std::nullopt;
  return it->second.second;
}

void file_offset_store::put(const std::string& connector,
                            const std::vector<source_offset>& offsets) {
  std::lock_guard lock(mutex_);
  for (const auto& o : offsets) {
    auto key = json::array({connector, o.partition});
    auto bytes = key.dump();
    if (o.offset.is_null()) {
      entries_.erase(bytes);
    } else {
      entries_[bytes] = {std::move(key), o.offset};
    }
  }
  save_locked();
}

std::vector<source_offset> file_offset_store::list(const std::string& connector) {
  std::lock_guard lock(mutex_);
  std::vector<source_offset> out;
  for (const auto& [bytes, kv] : entries_) {
    if (kv.first[0] == connector) out.push_back({kv.first[1], kv.second});
  }
  return out;
}

void file_offset_store::save_locked() {
  if (path_.empty()) return;
  std::vector<const std::pair<const std::string, std::pair<json, json>>*> sorted;
  sorted.reserve(entries_.size());
  for (const auto& e : entries_) sorted.push_back(&e);
  std::sort(sorted.begin(), sorted.end(), [](auto* a, auto* b) { return a->first < b->first; });
  json arr = json::array();
  for (const auto* e : sorted)
    arr.push_back({{"key", e->second.first}, {"value", e->second.second}});
  json doc = {{"offsets", std::move(arr)}};
  write_file_atomically(path_, doc.dump(2) + "\n");
}

}  // namespace ferry::storage
