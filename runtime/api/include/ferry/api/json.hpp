#pragma once

#include <nlohmann/json.hpp>

namespace ferry {

// Insertion-ordered JSON, so that what we write keeps the field order we chose (Jackson does the
// same), and objects read from users keep theirs (hash field order, config listings).
using json = nlohmann::ordered_json;

// Makes room in an object for `extra` more members without copying it. An ordered_json object
// is a vector of pairs whose key is const, so a pair cannot be moved: when the vector grows it
// deep-copies every member (values included). This regrows it by moving the values instead.
inline void reserve_members(json& object, std::size_t extra) {
  auto& members = object.get_ref<json::object_t&>();
  if (members.capacity() - members.size() >= extra) return;
  json::object_t grown;
  grown.reserve(members.size() + extra);
  for (auto& [key, value] : members) grown.emplace_back(key, std::move(value));
  members.swap(grown);
}

}  // namespace ferry
