#pragma once

#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "ferry/api/config_def.hpp"
#include "ferry/storage/states.hpp"

namespace ferry::storage {

struct connector_entry {
  api::config_map config;
  target_state state = target_state::started;
  std::vector<api::config_map> tasks;  // the last committed task configs
};

// Connector configs, target states and task configs. Writes are durable when they return and
// throw std::runtime_error otherwise. Thread-safe.
class config_store {
 public:
  virtual ~config_store() = default;
  config_store() = default;
  config_store(const config_store&) = delete;
  config_store& operator=(const config_store&) = delete;

  virtual std::map<std::string, connector_entry> snapshot() = 0;
  virtual void put_connector(const std::string& name, const api::config_map& config,
                             target_state state) = 0;
  virtual void remove_connector(const std::string& name) = 0;
  virtual void put_target_state(const std::string& name, target_state state) = 0;
  virtual void put_task_configs(const std::string& name,
                                const std::vector<api::config_map>& tasks) = 0;
};

// Standalone config store. Kafka Connect keeps standalone configs in memory only, so connectors
// created over REST vanish on restart; ferry keeps them in a JSON file (rewritten atomically),
// so a restarted worker comes back with every connector in its last target state.
// An empty path keeps everything in memory (tests).
class file_config_store final : public config_store {
 public:
  explicit file_config_store(std::string path);  // throws std::runtime_error on a corrupt file

  std::map<std::string, connector_entry> snapshot() override;
  void put_connector(const std::string& name, const api::config_map& config,
                     target_state state) override;
  void remove_connector(const std::string& name) override;
  void put_target_state(const std::string& name, target_state state) override;
  void put_task_configs(const std::string& name,
                        const std::vector<api::config_map>& tasks) override;

 private:
  void save_locked();

  std::string path_;
  std::mutex mutex_;
  std::map<std::string, connector_entry> connectors_;
};

}  // namespace ferry::storage
