#include "ferry/core/standalone_herder.hpp"

#include <algorithm>

#include "ferry/api/errors.hpp"
#include "ferry/core/connector_config.hpp"
#include "ferry/core/errors.hpp"
#include "ferry/core/log.hpp"

namespace ferry::core {

namespace {

constexpr const char* k_log = "herder";

}  // namespace

standalone_herder::standalone_herder(const api::plugin_registry& registry,
                                     std::shared_ptr<storage::config_store> configs,
                                     task_environment env)
    : herder_base(registry, std::move(env)), configs_(std::move(configs)), worker_(env_) {}

standalone_herder::~standalone_herder() {
  stop();
}

void standalone_herder::start() {
  control_.start();
  submit("starting the stored connectors", [this] {
    for (auto& [name, entry] : configs_->snapshot()) {
      const auto* plugin = plugin_of(entry.config);
      if (!plugin) {
        log::error(k_log, "Stored connector ", name, " names an unknown class; not started");
        continue;
      }
      {
        std::lock_guard lock(mutex_);
        connectors_[name] = {entry.config, entry.state, entry.tasks, plugin, 0};
      }
      start_connector_locked_out(name);
    }
    return 0;
  });
  ready_.store(true);
}

void standalone_herder::stop() {
  control_.stop([this] {
    herder_stage::scope busy(control_.stage(), "stopping every connector and task to shut down");
    worker_.stop_all();
  });
}

template <typename F>
auto standalone_herder::submit(std::string what, F f) -> decltype(f()) {
  return control_.submit(std::move(what), env_.worker->rest_request_timeout, std::move(f));
}

void standalone_herder::post(std::function<void()> job) {
  control_.post(std::move(job));
}

herder_base::connector_view standalone_herder::view(const std::string& name) {
  auto r = require(name);
  return {std::move(r.config), r.state, std::move(r.tasks), r.plugin};
}

standalone_herder::connector_record standalone_herder::require(const std::string& name) {
  std::lock_guard lock(mutex_);
  auto it = connectors_.find(name);
  if (it == connectors_.end()) throw not_found_error("Connector " + name + " not found");
  return it->second;
}

// ---- reads ----

std::vector<std::string> standalone_herder::connectors() {
  std::lock_guard lock(mutex_);
  std::vector<std::string> names;
  for (const auto& [n, r] : connectors_) names.push_back(n);
  return names;
}

// ---- writes (control thread) ----

put_result standalone_herder::put_connector_config(
    const std::string& name, const api::config_map& input, bool allow_replace,
    std::optional<storage::target_state> initial_state) {
  auto config = checked_config(name, input);  // pure: on the caller's thread
  return submit("writing the config of connector " + name,
                [this, name, config, allow_replace, initial_state] {
                  return apply_config(name, config, allow_replace, initial_state);
                });
}

put_result standalone_herder::patch_connector_config(const std::string& name, const json& patch) {
  if (!patch.is_object()) throw bad_request_error("A config patch must be a JSON object");
  return submit("patching the config of connector " + name, [this, name, patch] {
    auto config = require(name).config;
    config = patched_config(std::move(config), patch);
    return apply_config(name, checked_config(name, config), true, std::nullopt);
  });
}

// Control thread: persist, then (re)start the connector with the new config.
put_result standalone_herder::apply_config(const std::string& name, const api::config_map& config,
                                           bool allow_replace,
                                           std::optional<storage::target_state> initial_state) {
  const auto& plugin = require_plugin(config);
  bool existed;
  storage::target_state state = initial_state.value_or(storage::target_state::started);
  {
    std::lock_guard lock(mutex_);
    auto it = connectors_.find(name);
    existed = it != connectors_.end();
    if (existed && !allow_replace) {
      throw already_exists_error("Connector " + name + " already exists");
    }
    if (existed) state = it->second.state;
  }
  configs_->put_connector(name, config, state);
  if (existed) {
    stop_connector_instance(name);
    stop_connector_tasks(name);
  }
  {
    std::lock_guard lock(mutex_);
    auto& r = connectors_[name];
    r.config = config;
    r.state = state;
    r.plugin = &plugin;
  }
  start_connector_locked_out(name);
  log::info(k_log, existed ? "Updated" : "Created", " connector ", name);
  return put_result{!existed, info_json(name, view(name))};
}

void standalone_herder::start_connector_locked_out(const std::string& name) {
  connector_record r;
  int generation;
  {
    std::lock_guard lock(mutex_);
    auto& rec = connectors_.at(name);
    generation = ++rec.generation;
    r = rec;
  }
  if (r.state == storage::target_state::stopped) {
    env_.statuses->put_connector(name, own_status(storage::connector_state::stopped));
    return;
  }
  worker_.start_connector(name, *r.plugin, r.config, r.state,
                          [this, name, generation](std::vector<api::config_map> configs) {
                            post([this, name, generation, configs = std::move(configs)]() mutable {
                              apply_task_configs(name, generation, std::move(configs));
                            });
                          });
}

void standalone_herder::apply_task_configs(const std::string& name, int generation,
                                           std::vector<api::config_map> configs) {
  bool changed;
  {
    std::lock_guard lock(mutex_);
    auto it = connectors_.find(name);
    if (it == connectors_.end() || it->second.generation != generation) return;  // stale
    if (it->second.state == storage::target_state::stopped) return;
    changed = it->second.tasks != configs;
    it->second.tasks = configs;
  }
  auto running = worker_.running_tasks(name);
  if (!changed && running.size() == configs.size()) return;
  stop_connector_tasks(name);
  configs_->put_task_configs(name, configs);
  env_.statuses->remove_tasks_from(name, static_cast<int>(configs.size()));
  start_tasks(name);
}

void standalone_herder::stop_connector_instance(const std::string& name) {
  herder_stage::scope busy(control_.stage(), "waiting for connector " + name + " to stop");
  worker_.stop_connector(name);
}

void standalone_herder::stop_connector_tasks(const std::string& name) {
  herder_stage::scope busy(control_.stage(),
                           "waiting for the tasks of connector " + name + " to stop");
  worker_.stop_tasks(name);
}

void standalone_herder::start_tasks(const std::string& name) {
  connector_record r;
  {
    std::lock_guard lock(mutex_);
    r = connectors_.at(name);
  }
  for (std::size_t i = 0; i < r.tasks.size(); ++i) {
    worker_.start_task(name, static_cast<int>(i), *r.plugin, r.tasks[i], r.config, r.state);
  }
}

void standalone_herder::delete_connector(const std::string& name) {
  submit("deleting connector " + name, [this, name] {
    require(name);
    stop_connector_instance(name);
    stop_connector_tasks(name);
    configs_->remove_connector(name);
    {
      std::lock_guard lock(mutex_);
      connectors_.erase(name);
    }
    env_.statuses->remove(name);
    log::info(k_log, "Deleted connector ", name);
    return 0;
  });
}

void standalone_herder::pause_connector(const std::string& name) {
  submit("pausing connector " + name, [this, name] {
    auto r = require(name);
    if (r.state == storage::target_state::stopped) return 0;  // as Kafka: stays stopped
    configs_->put_target_state(name, storage::target_state::paused);
    {
      std::lock_guard lock(mutex_);
      connectors_.at(name).state = storage::target_state::paused;
    }
    worker_.set_connector_target_state(name, storage::target_state::paused);
    worker_.set_tasks_target_state(name, storage::target_state::paused);
    return 0;
  });
}

void standalone_herder::resume_connector(const std::string& name) {
  submit("resuming connector " + name, [this, name] {
    auto r = require(name);
    configs_->put_target_state(name, storage::target_state::started);
    {
      std::lock_guard lock(mutex_);
      connectors_.at(name).state = storage::target_state::started;
    }
    if (r.state == storage::target_state::stopped) {
      start_connector_locked_out(name);
    } else {
      worker_.set_connector_target_state(name, storage::target_state::started);
      worker_.set_tasks_target_state(name, storage::target_state::started);
    }
    return 0;
  });
}

void standalone_herder::stop_connector(const std::string& name) {
  submit("stopping connector " + name, [this, name] {
    require(name);
    stop_connector_tasks(name);
    stop_connector_instance(name);
    configs_->put_task_configs(name, {});
    configs_->put_target_state(name, storage::target_state::stopped);
    {
      std::lock_guard lock(mutex_);
      auto& r = connectors_.at(name);
      r.state = storage::target_state::stopped;
      r.tasks.clear();
      ++r.generation;
    }
    env_.statuses->remove_tasks_from(name, 0);
    env_.statuses->put_connector(name, own_status(storage::connector_state::stopped));
    return 0;
  });
}

void standalone_herder::restart_connector(const std::string& name) {
  submit("restarting connector " + name, [this, name] {
    require(name);
    stop_connector_instance(name);
    start_connector_locked_out(name);
    return 0;
  });
}

void standalone_herder::restart_task(const std::string& name, int task) {
  submit("restarting task " + name + "-" + std::to_string(task), [this, name, task] {
    auto r = require(name);
    if (task < 0 || task >= static_cast<int>(r.tasks.size())) {
      throw not_found_error("Task " + name + "-" + std::to_string(task) + " not found");
    }
    {
      herder_stage::scope busy(
          control_.stage(), "waiting for task " + name + "-" + std::to_string(task) + " to stop");
      worker_.stop_task(name, task);
    }
    worker_.start_task(name, task, *r.plugin, r.tasks[static_cast<std::size_t>(task)], r.config,
                       r.state);
    return 0;
  });
}

}  // namespace ferry::core

namespace ferry::core {

// ---- offsets (KIP-875) ----

namespace {}  // namespace

json standalone_herder::alter_connector_offsets(const std::string& name, const json& body) {
  check_offsets_body(body);
  return submit("altering the offsets of connector " + name,
                [this, name, body] { return alter_offsets_now(name, body); });
}

json standalone_herder::reset_connector_offsets(const std::string& name) {
  return submit("resetting the offsets of connector " + name,
                [this, name] { return reset_offsets_now(name); });
}

// ---- active topics (KIP-558) ----

}  // namespace ferry::core
