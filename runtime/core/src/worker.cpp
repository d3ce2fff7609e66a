#include "ferry/core/worker.hpp"

#include <condition_variable>
#include <thread>

#include "ferry/core/auto_restart.hpp"
#include "ferry/core/connector_config.hpp"
#include "ferry/core/log.hpp"
#include "ferry/core/sink_task_runner.hpp"
#include "ferry/core/source_task_runner.hpp"

namespace ferry::core {

namespace {
constexpr const char* k_log = "worker";
}

// Runs one connector instance on its own thread: start(), task_configs(), then waits to be
// stopped and calls stop(). Like task_runner, the thread co-owns it so it can be abandoned.
class connector_runner : public std::enable_shared_from_this<connector_runner> {
 public:
  connector_runner(std::string name, const api::connector_plugin& plugin, api::config_map config,
                   storage::target_state state, task_environment env,
                   task_configs_callback on_task_configs)
      : name_(std::move(name)),
        plugin_(plugin),
        config_(std::move(config)),
        state_(state),
        env_(std::move(env)),
        on_task_configs_(std::move(on_task_configs)) {}

  void start() {
    std::thread([self = shared_from_this()] { self->thread_main(); }).detach();
  }

  void request_stop() {
    std::lock_guard lock(mutex_);
    stop_requested_ = true;
    cv_.notify_all();
  }

  bool wait_stopped(std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    return cv_.wait_for(lock, timeout, [this] { return done_; });
  }

  void set_target_state(storage::target_state s) {
    std::lock_guard lock(mutex_);
    state_ = s;
    if (started_ && !failed_)
      report(state_ == storage::target_state::paused ? storage::connector_state::paused
                                                     : storage::connector_state::running);
  }

 private:
  void report(storage::connector_state s, const std::string& trace = {}) {
    env_.statuses->put_connector(
        name_,
        {.state = s, .trace = trace, .worker_id = env_.worker->worker_id(), .generation = 0});
  }

  void thread_main() {
    log::set_thread_context("connector=" + name_);
    std::unique_ptr<api::connector> instance;
    std::optional<restart_backoff> restarts;
    for (;;) {
      auto began = std::chrono::steady_clock::now();
      auto trace = start_once(instance, restarts);
      if (trace.empty()) break;
      auto delay =
          restarts ? restarts->next(std::chrono::steady_clock::now() - began) : std::nullopt;
      std::unique_lock lock(mutex_);
      if (!delay || stop_requested_) {
        failed_ = true;
        report(storage::connector_state::failed, trace);
        break;
      }
      report(storage::connector_state::failed, trace + "\n\n" + restarts->describe(*delay));
      log::info(k_log, "Restarting the connector in ", delay->count(), " ms (attempt ",
                restarts->attempt(), ")");
      if (cv_.wait_for(lock, *delay, [this] { return stop_requested_; })) break;
      report(storage::connector_state::restarting);
    }
    {
      std::unique_lock lock(mutex_);
      cv_.wait(lock, [this] { return stop_requested_; });
    }
    if (instance) {
      try {
        instance->stop();
      } catch (const std::exception& e) {
        log::warn(k_log, "Connector stop failed: ", e.what());
      }
    }
    std::lock_guard lock(mutex_);
    done_ = true;
    cv_.notify_all();
  }

  // Starts the connector and hands its task configs on; returns the failure trace, or "" when
  // it started. A failed instance is stopped before returning.
  std::string start_once(std::unique_ptr<api::connector>& instance,
                         std::optional<restart_backoff>& restarts) {
    resolved_config resolved{.values = config_, .secrets = {}};
    try {
      // A config read from the config topic (written by another worker) is registered here.
      register_config_secrets(&plugin_, config_);
      if (log::enabled(log::level::debug, k_log)) {
        std::string listed;
        for (const auto& [k, v] : config_) listed += (listed.empty() ? "" : ", ") + k + "=" + v;
        log::debug(k_log, "Starting connector with config {", listed, "}");
      }
      if (!restarts) restarts.emplace(restart_policy::from(config_));
      if (env_.providers) {
        resolved = env_.providers->resolve(config_);
        register_resolved_secrets(&plugin_, resolved);
        log::set_thread_redactions(resolved.secrets);
      }
      const auto& config = resolved.values;
      instance = plugin_.make_connector();
      instance->start(config);
      int max_tasks = 1;
      if (auto it = config.find("tasks.max"); it != config.end()) {
        max_tasks = static_cast<int>(api::parse_long(it->second).value_or(1));
      }
      auto configs = instance->task_configs(max_tasks);
      if (static_cast<int>(configs.size()) > max_tasks)
        configs.resize(static_cast<std::size_t>(max_tasks));
      // Task configs are stored and shown: references go back in place of what they resolved to.
      config_providers::restore_references(config_, configs);
      {
        std::lock_guard lock(mutex_);
        started_ = true;
        report(state_ == storage::target_state::paused ? storage::connector_state::paused
                                                       : storage::connector_state::running);
      }
      log::info(k_log, "Connector started with ", configs.size(), " task config(s)");
      on_task_configs_(std::move(configs));
      return {};
    } catch (const std::exception& e) {
      auto trace = resolved.redact(e.what());
      log::error(k_log, "Connector failed to start: ", trace);
      if (instance) {
        try {
          instance->stop();
        } catch (const std::exception& stop_error) {
          log::warn(k_log, "Connector stop after failure failed: ", stop_error.what());
        }
        instance.reset();
      }
      return trace.empty() ? std::string("connector failed") : trace;
    }
  }

  const std::string name_;
  const api::connector_plugin& plugin_;
  const api::config_map config_;
  storage::target_state state_;
  task_environment env_;
  task_configs_callback on_task_configs_;
  std::mutex mutex_;
  std::condition_variable cv_;
  bool stop_requested_ = false;
  bool started_ = false;
  bool failed_ = false;
  bool done_ = false;
};

worker::worker(task_environment env) : env_(std::move(env)), worker_id_(env_.worker->worker_id()) {
  if (!env_.metrics) env_.metrics = std::make_shared<metrics_registry>();
}

worker::~worker() {
  stop_all();
}

void worker::start_connector(const std::string& name, const api::connector_plugin& plugin,
                             const api::config_map& config, storage::target_state state,
                             task_configs_callback on_task_configs) {
  auto runner = std::make_shared<connector_runner>(name, plugin, config, state, env_,
                                                   std::move(on_task_configs));
  {
    std::lock_guard lock(mutex_);
    connectors_[name] = runner;
  }
  env_.statuses->put_connector(name, {.state = storage::connector_state::unassigned,
                                      .trace = {},
                                      .worker_id = worker_id_,
                                      .generation = 0});
  runner->start();
}

void worker::stop_connector(const std::string& name) {
  std::shared_ptr<connector_runner> runner;
  {
    std::lock_guard lock(mutex_);
    auto it = connectors_.find(name);
    if (it == connectors_.end()) return;
    runner = it->second;
    connectors_.erase(it);
  }
  runner->request_stop();
  if (!runner->wait_stopped(env_.worker->task_shutdown_timeout)) {
    log::error(k_log, "Connector ", name, " did not stop within ",
               env_.worker->task_shutdown_timeout.count(), " ms; abandoning it");
  }
}

void worker::set_connector_target_state(const std::string& name, storage::target_state state) {
  std::lock_guard lock(mutex_);
  if (auto it = connectors_.find(name); it != connectors_.end())
    it->second->set_target_state(state);
}

void worker::start_task(const std::string& name, int task, const api::connector_plugin& plugin,
                        const api::config_map& task_config, const api::config_map& connector_config,
                        storage::target_state state) {
  std::shared_ptr<task_runner> runner;
  if (plugin.type == api::connector_type::source) {
    runner = std::make_shared<source_task_runner>(name, task, plugin, task_config, connector_config,
                                                  state, env_);
  } else {
    runner = std::make_shared<sink_task_runner>(name, task, plugin, task_config, connector_config,
                                                state, env_);
  }
  {
    std::lock_guard lock(mutex_);
    runner->set_held(held_);
    tasks_[{name, task}] = runner;
  }
  env_.statuses->put_task(name, task,
                          {.state = storage::connector_state::unassigned,
                           .trace = {},
                           .worker_id = worker_id_,
                           .generation = 0});
  runner->start();
}

void worker::hold_tasks(bool held) {
  std::lock_guard lock(mutex_);
  if (held == held_) return;
  held_ = held;
  for (auto& [key, runner] : tasks_) runner->set_held(held);
}

void worker::stop_runners(std::vector<std::shared_ptr<task_runner>> runners, stop_wait until) {
  for (auto& r : runners) r->request_stop();
  auto deadline = std::chrono::steady_clock::now() + env_.worker->task_shutdown_timeout;
  for (auto& r : runners) {
    auto left = std::max(std::chrono::duration_cast<std::chrono::milliseconds>(
                             deadline - std::chrono::steady_clock::now()),
                         std::chrono::milliseconds(0));
    if (!(until == stop_wait::exit ? r->wait_stopped(left) : r->wait_work_done(left))) {
      log::error(k_log, "Task ", r->connector(), "-", r->task(), " did not stop within ",
                 env_.worker->task_shutdown_timeout.count(), " ms; abandoning it");
    }
  }
}

void worker::stop_task(const std::string& name, int task) {
  std::vector<std::shared_ptr<task_runner>> runners;
  {
    std::lock_guard lock(mutex_);
    auto it = tasks_.find({name, task});
    if (it == tasks_.end()) return;
    runners.push_back(it->second);
    tasks_.erase(it);
  }
  stop_runners(std::move(runners));
}

void worker::stop_tasks(const std::string& name) {
  std::vector<std::shared_ptr<task_runner>> runners;
  {
    std::lock_guard lock(mutex_);
    for (auto it = tasks_.lower_bound({name, INT32_MIN});
         it != tasks_.end() && it->first.first == name;) {
      runners.push_back(it->second);
      it = tasks_.erase(it);
    }
  }
  stop_runners(std::move(runners));
}

void worker::stop_tasks(const std::vector<std::pair<std::string, int>>& tasks) {
  std::vector<std::shared_ptr<task_runner>> runners;
  {
    std::lock_guard lock(mutex_);
    for (const auto& key : tasks) {
      if (auto it = tasks_.find(key); it != tasks_.end()) {
        runners.push_back(it->second);
        tasks_.erase(it);
      }
    }
  }
  stop_runners(std::move(runners), stop_wait::work_done);
}

void worker::set_tasks_target_state(const std::string& name, storage::target_state state) {
  std::lock_guard lock(mutex_);
  for (auto it = tasks_.lower_bound({name, INT32_MIN});
       it != tasks_.end() && it->first.first == name; ++it) {
    it->second->set_target_state(state);
  }
}

std::vector<int> worker::running_tasks(const std::string& name) const {
  std::lock_guard lock(mutex_);
  std::vector<int> out;
  for (auto it = tasks_.lower_bound({name, INT32_MIN});
       it != tasks_.end() && it->first.first == name; ++it) {
    out.push_back(it->first.second);
  }
  return out;
}

void worker::stop_all() {
  std::vector<std::shared_ptr<task_runner>> runners;
  std::map<std::string, std::shared_ptr<connector_runner>> connectors;
  {
    std::lock_guard lock(mutex_);
    for (auto& [k, r] : tasks_) runners.push_back(r);
    tasks_.clear();
    connectors.swap(connectors_);
  }
  for (auto& [n, c] : connectors) c->request_stop();
  stop_runners(std::move(runners));
  for (auto& [n, c] : connectors) {
    if (!c->wait_stopped(env_.worker->task_shutdown_timeout)) {
      log::error(k_log, "Connector ", n, " did not stop in time; abandoning it");
    }
  }
}

}  // namespace ferry::core
