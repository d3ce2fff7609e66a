#include "ferry/storage/status_store.hpp"

namespace ferry::storage {

void memory_status_store::put_connector(const std::string& name, const status& s) {
  std::lock_guard lock(mutex_);
  connectors_[name] = s;
}

void memory_status_store::put_task(const std::string& name, int task, const status& s) {
  std::lock_guard lock(mutex_);
  tasks_[name][task] = s;
}

std::optional<status> memory_status_store::connector(const std::string& name) {
  std::lock_guard lock(mutex_);
  auto it = connectors_.find(name);
  if (it == connectors_.end()) return std::nullopt;
  return it->second;
}

std::map<int, status> memory_status_store::tasks(const std::string& name) {
  std::lock_guard lock(mutex_);
  auto it = tasks_.find(name);
  if (it == tasks_.end()) return {};
  return it->second;
}

void memory_status_store::remove(const std::string& name) {
  std::lock_guard lock(mutex_);
  connectors_.erase(name);
  tasks_.erase(name);
}

void memory_status_store::remove_tasks_from(const std::string& name, int first_task) {
  std::lock_guard lock(mutex_);
  auto it = tasks_.find(name);
  if (it == tasks_.end()) return;
  it->second.erase(it->second.lower_bound(first_task), it->second.end());
}

}  // namespace ferry::storage
