#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <set>
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

  // Active topics (KIP-558): the topics a connector's tasks used since its creation or the
  // last reset. topics_generation() changes on every reset, so tasks know to report again.
  virtual void put_topic(const std::string& name, const std::string& topic) = 0;
  virtual std::set<std::string> topics(const std::string& name) = 0;
  virtual void reset_topics(const std::string& name) = 0;
  virtual std::uint64_t topics_generation(const std::string& name) = 0;
};

class memory_status_store final : public status_store {
 public:
  void put_connector(const std::string& name, const status& s) override;
  void put_task(const std::string& name, int task, const status& s) override;
  std::optional<status> connector(const std::string& name) override;
  std::map<int, status> tasks(const std::string& name) override;
  void remove(const std::string& name) override;
  void remove_tasks_from(const std::string& name, int first_task) override;
  void put_topic(const std::string& name, const std::string& topic) override;
  std::set<std::string> topics(const std::string& name) override;
  void reset_topics(const std::string& name) override;
  std::uint64_t topics_generation(const std::string& name) override;

 private:
  std::mutex mutex_;
  std::map<std::string, status> connectors_;
  std::map<std::string, std::map<int, status>> tasks_;
  std::map<std::string, std::set<std::string>> topics_;
  std::map<std::string, std::uint64_t> topics_generation_;
};

}  // namespace ferry::storage
