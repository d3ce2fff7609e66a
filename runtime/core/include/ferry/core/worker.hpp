#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "ferry/api/plugin_registry.hpp"
#include "ferry/core/task_runner.hpp"

namespace ferry::core {

class connector_runner;

// Called on a connector's thread with the task configs it generated.
using task_configs_callback = std::function<void(std::vector<api::config_map>)>;

// Owns the connector instances and task runners of this process, each on its own thread.
// Called by the herder's control thread only; starting never blocks, stopping waits at most
// task.shutdown.graceful.timeout.ms per call (then abandons what did not stop).
class worker {
 public:
  explicit worker(task_environment env);
  ~worker();
  worker(const worker&) = delete;
  worker& operator=(const worker&) = delete;

  const std::string& worker_id() const { return worker_id_; }
  const task_environment& environment() const { return env_; }

  void start_connector(const std::string& name, const api::connector_plugin& plugin,
                       const api::config_map& config, storage::target_state state,
                       task_configs_callback on_task_configs);
  void stop_connector(const std::string& name);
  void set_connector_target_state(const std::string& name, storage::target_state state);

  void start_task(const std::string& name, int task, const api::connector_plugin& plugin,
                  const api::config_map& task_config, const api::config_map& connector_config,
                  storage::target_state state);
  void stop_task(const std::string& name, int task);
  void stop_tasks(const std::string& name);
  // Stops these tasks together: every one is asked at once, then all are waited for until
  // each has stopped working (task_runner::wait_work_done) — enough before another worker
  // takes them over; a sink's consumer may still be leaving its group afterwards.
  void stop_tasks(const std::vector<std::pair<std::string, int>>& tasks);
  void set_tasks_target_state(const std::string& name, storage::target_state state);
  std::vector<int> running_tasks(const std::string& name) const;
  // Holds (or releases) every task, and those started while held (task_runner::set_held).
  // Safe from any thread.
  void hold_tasks(bool held);

  // Stops everything at once and waits for all of it together.
  void stop_all();

 private:
  enum class stop_wait { exit, work_done };
  void stop_runners(std::vector<std::shared_ptr<task_runner>> runners,
                    stop_wait until = stop_wait::exit);

  task_environment env_;
  std::string worker_id_;
  mutable std::mutex mutex_;
  std::map<std::string, std::shared_ptr<connector_runner>> connectors_;
  std::map<std::pair<std::string, int>, std::shared_ptr<task_runner>> tasks_;
  bool held_ = false;
};

}  // namespace ferry::core
