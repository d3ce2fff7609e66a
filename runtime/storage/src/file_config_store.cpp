#include "ferry/storage/config_store.hpp"

#include <stdexcept>

#include "ferry/api/json.hpp"
#include "ferry/storage/atomic_file.hpp"

namespace ferry::storage {

file_config_store::file_config_store(std::string path) : path_(std::move(path)) {
  if (path_.empty()) return;
  auto content = read_file(path_);
  if (!content || content->empty()) return;
  try {
    auto doc = json::parse(*content);
    for (const auto& [name, e] : doc.at("connectors").items()) {
      connector_entry entry;
      entry.config = e.at("config").get<api::config_map>();
      auto state = parse_target_state(e.value("target_state", "STARTED"));
      if (!state) throw std::runtime_error("unknown target_state for " + name);
      entry.state = *state;
      if (e.contains("tasks")) entry.tasks = e["tasks"].get<std::vector<api::config_map>>();
      connectors_[name] = std::move(entry);
    }
  } catch (const json::exception& e) {
    throw std::runtime_error("Connector config file " + path_ + " is corrupt: " + e.what());
  }
}

std::map<std::string, connector_entry> file_config_store::snapshot() {
  std::lock_guard lock(mutex_);
  return connectors_;
}

void file_config_store::put_connector(const std::string& name, const api::config_map& config,
                                      target_state state) {
  std::lock_guard lock(mutex_);
  auto& e = connectors_[name];
  e.config = config;
  e.state = state;
  save_locked();
}

void file_config_store::remove_connector(const std::string& name) {
  std::lock_guard lock(mutex_);
  connectors_.erase(name);
  save_locked();
}

void file_config_store::put_target_state(const std::string& name, target_state state) {
  std::lock_guard lock(mutex_);
  auto it = connectors_.find(name);
  if (it == connectors_.end()) return;
  it->second.state = state;
  save_locked();
}

void file_config_store::put_task_configs(const std::string& name,
                                         const std::vector<api::config_map>& tasks) {
  std::lock_guard lock(mutex_);
  auto it = connectors_.find(name);
  if (it == connectors_.end()) return;
  it->second.tasks = tasks;
  save_locked();
}

void file_config_store::save_locked() {
  if (path_.empty()) return;
  json doc;
  doc["connectors"] = json::object();
  for (const auto& [name, e] : connectors_) {
    doc["connectors"][name] = {
        {"config", e.config}, {"target_state", to_string(e.state)}, {"tasks", e.tasks}};
  }
  write_file_atomically(path_, doc.dump(2) + "\n");
}

}  // namespace ferry::storage
