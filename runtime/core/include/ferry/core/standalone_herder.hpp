#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>

#include "ferry/api/plugin_registry.hpp"
#include "ferry/clients/group_offsets.hpp"
#include "ferry/core/control_queue.hpp"
#include "ferry/core/herder_base.hpp"
#include "ferry/core/worker.hpp"
#include "ferry/storage/config_store.hpp"

namespace ferry::core {

// The herder of a standalone worker. Owns the desired state (connector configs, target states,
// task configs: persisted in the config store) and drives the worker to match it.
// Threading: every state change runs on one control thread, in order, fed by a queue; REST
// threads post a change and wait for it (bounded), and read the state under a mutex without
// touching the queue, so a connector stuck in start() or stop() never blocks reads.
class standalone_herder final : public herder_base {
 public:
  standalone_herder(const api::plugin_registry& registry,
                    std::shared_ptr<storage::config_store> configs, task_environment env);
  ~standalone_herder() override;

  // Starts the control thread and every stored connector in its stored target state.
  void start();
  // Stops every task (committing what was delivered) and the control thread.
  void stop();

  bool ready() override { return ready_.load(); }
  void check_responsive(std::chrono::milliseconds timeout) override {
    control_.submit("answering a health check", timeout, [] { return true; });
  }
  std::vector<std::string> connectors() override;
  put_result put_connector_config(const std::string& name, const api::config_map& config,
                                  bool allow_replace,
                                  std::optional<storage::target_state> initial_state) override;
  put_result patch_connector_config(const std::string& name, const json& patch) override;
  void delete_connector(const std::string& name) override;
  void pause_connector(const std::string& name) override;
  void resume_connector(const std::string& name) override;
  void stop_connector(const std::string& name) override;
  void restart_connector(const std::string& name) override;
  void restart_task(const std::string& name, int task) override;
  json alter_connector_offsets(const std::string& name, const json& offsets) override;
  json reset_connector_offsets(const std::string& name) override;

 protected:
  connector_view view(const std::string& name) override;

 private:
  struct connector_record {
    api::config_map config;
    storage::target_state state = storage::target_state::started;
    std::vector<api::config_map> tasks;
    const api::connector_plugin* plugin = nullptr;
    int generation = 0;  // bumped on every (re)start, to drop stale task-config callbacks
  };

  // Runs f on the control thread, busy with `what`, and returns its result; throws
  // request_timeout_error naming what the control thread is stuck on.
  template <typename F>
  auto submit(std::string what, F f) -> decltype(f());
  void post(std::function<void()> job);

  // Control-thread only.
  void start_connector_locked_out(const std::string& name);
  void apply_task_configs(const std::string& name, int generation,
                          std::vector<api::config_map> configs);
  void start_tasks(const std::string& name);
  // Waits (bounded by task.shutdown.graceful.timeout.ms), showing it in timeout messages.
  void stop_connector_instance(const std::string& name);
  void stop_connector_tasks(const std::string& name);
  connector_record require(const std::string& name);  // a copy, under the mutex
  put_result apply_config(const std::string& name, const api::config_map& config,
                          bool allow_replace, std::optional<storage::target_state> initial_state);

  std::shared_ptr<storage::config_store> configs_;
  worker worker_;

  mutable std::mutex mutex_;  // guards connectors_
  std::map<std::string, connector_record> connectors_;

  control_queue control_{"herder"};
  std::atomic<bool> ready_{false};
};

}  // namespace ferry::core
