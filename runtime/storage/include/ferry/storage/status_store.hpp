#pragma once

#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "ferry/storage/states.hpp"

namespace ferry::storage {

// Kafka Connect's status record: {"state","trace","worker_id","generation"}.
struct status {
  connector_state state = connector_state::unassigned;
  std::string trace;  // empty: none
  std::string worker_id;
  int generation = 0;
};

// Observed states of connectors and tasks. Thread-safe.
class status_store {
 public:
  virtual ~status_store() = default;
  status_store() = default;
  status_store(const status_store&) = delete;
  status_store& operator=(const status_store&) = delete;

  virtual void put_connector(const std::string& name, const status& s) = 0;
  virtual void put_task(const std::string& name, int task, const status& s) = 0;
  virtual std::optional<status> connector(const std::string& name) = 0;
  virtual std::map<int, status> tasks(const std::string& name) = 0;
  virtual void remove(const std::string& name) = 0;  // connector and its tasks
  virtual void remove_tasks_from(const std::string& name, int first_task) = 0;
};

class memory_status_store final : public status_store {
 public:
  void put_connector(const std::string& name, const status& s) override;
  void put_task(const std::string& name, int task, const status& s) override;
  std::optional<status> connector(const std::string& name) override;
  std::map<int, status> tasks(const std::string& name) override;
  void remove(const std::string& name) override;
  void remove_tasks_from(const std::string& name, int first_task) override;

 private:
  std::mutex mutex_;
  std::map<std::string, status> connectors_;
  std::map<std::string, std::map<int, status>> tasks_;
};

}  // namespace ferry::storage
