#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <thread>

#include "ferry/api/plugin_registry.hpp"
#include "ferry/clients/group_offsets.hpp"
#include "ferry/core/herder.hpp"
#include "ferry/core/herder_stage.hpp"
#include "ferry/core/worker.hpp"
#include "ferry/storage/config_store.hpp"

namespace ferry::core {

// The herder of a standalone worker. Owns the desired state (connector configs, target states,
// task configs: persisted in the config store) and drives the worker to match it.
// Threading: every state change runs on one control thread, in order, fed by a queue; REST
// threads post a change and wait for it (bounded), and read the state under a mutex without
// touching the queue, so a connector stuck in start() or stop() never blocks reads.
class standalone_herder final : public herder {
 public:
  standalone_herder(const api::plugin_registry& registry,
                    std::shared_ptr<storage::config_store> configs, task_environment env);
  ~standalone_herder() override;

  // Starts the control thread and every stored connector in its stored target state.
  void start();
  // Stops every task (committing what was delivered) and the control thread.
  void stop();

  json server_info() override;
  bool ready() override { return ready_.load(); }
  std::vector<std::string> connectors() override;
  json connector_info(const std::string& name) override;
  api::config_map connector_config(const std::string& name) override;
  json connector_status(const std::string& name) override;
  json task_status(const std::string& name, int task) override;
  json task_configs(const std::string& name) override;
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
  json connector_plugins(bool connectors_only) override;
  json connector_offsets(const std::string& name) override;
  json alter_connector_offsets(const std::string& name, const json& offsets) override;
  json reset_connector_offsets(const std::string& name) override;
  json connector_active_topics(const std::string& name) override;
  void reset_connector_active_topics(const std::string& name) override;
  json plugin_config(const std::string& plugin) override;
  json validate(const std::string& plugin, const api::config_map& config) override;

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
  void control_loop();

  // Control-thread only.
  void start_connector_locked_out(const std::string& name);
  void apply_task_configs(const std::string& name, int generation,
                          std::vector<api::config_map> configs);
  void start_tasks(const std::string& name);
  // Waits (bounded by task.shutdown.graceful.timeout.ms), showing it in timeout messages.
  void stop_connector_instance(const std::string& name);
  void stop_connector_tasks(const std::string& name);
  const api::connector_plugin& require_plugin(const api::config_map& config) const;
  connector_record require(const std::string& name);  // a copy, under the mutex
  json info_json(const std::string& name, const connector_record& r) const;
  // Name checks, the "name" key, plugin lookup and validation: 400 on any problem.
  api::config_map checked_config(const std::string& name, const api::config_map& input) const;
  put_result apply_config(const std::string& name, const api::config_map& config,
                          bool allow_replace, std::optional<storage::target_state> initial_state);
  connector_record require_stopped(const std::string& name);
  // Through the config providers; a provider that fails is a 400.
  resolved_config resolve(const api::config_map& config) const;
  clients::group_offsets sink_offsets(const std::string& name) const;

  const api::plugin_registry& registry_;
  std::shared_ptr<storage::config_store> configs_;
  task_environment env_;
  worker worker_;

  mutable std::mutex mutex_;  // guards connectors_
  std::map<std::string, connector_record> connectors_;

  std::mutex queue_mutex_;
  std::condition_variable queue_cv_;
  std::deque<std::function<void()>> queue_;
  bool stopping_ = false;
  std::thread control_thread_;
  herder_stage stage_;
  std::atomic<bool> ready_{false};
};

}  // namespace ferry::core
