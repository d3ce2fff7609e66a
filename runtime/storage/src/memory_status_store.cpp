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
  topics_.erase(name);
  ++topics_generation_[name];
}

void memory_status_store::remove_tasks_from(const std::string& name, int first_task) {
  std::lock_guard lock(mutex_);
  auto it = tasks_.find(name);
  if (it == tasks_.end()) return;
  it->second.erase(it->second.lower_bound(first_task), it->second.end());
}

void memory_status_store::put_topic(const std::string& name, const std::string& topic) {
  std::lock_guard lock(mutex_);
  topics_[name].insert(topic);
}

std::set<std::string> memory_status_store::topics(const std::string& name) {
  std::lock_guard lock(mutex_);
  auto it = topics_.find(name);
  return it == topics_.end() ? std::set<std::string>{} : it->second;
}

void memory_status_store::reset_topics(const std::string& name) {
  std::lock_guard lock(mutex_);
  topics_.erase(name);
  ++topics_generation_[name];
}

std::uint64_t memory_status_store::topics_generation(const std::string& name) {
  std::lock_guard lock(mutex_);
  return topics_generation_[name];
}

}  // namespace ferry::storage
