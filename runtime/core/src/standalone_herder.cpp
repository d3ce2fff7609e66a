#include "ferry/core/standalone_herder.hpp"

#include <algorithm>

#include "ferry/api/errors.hpp"
#include "ferry/core/connector_config.hpp"
#include "ferry/core/errors.hpp"
#include "ferry/core/log.hpp"

#ifndef FERRY_VERSION
#define FERRY_VERSION "0.0.0"
#endif

namespace ferry::core {

namespace {

constexpr const char* k_log = "herder";

}  // namespace

standalone_herder::standalone_herder(const api::plugin_registry& registry,
                                     std::shared_ptr<storage::config_store> configs,
                                     task_environment env)
    : herder_base(registry, env), configs_(std::move(configs)), worker_(std::move(env)) {}

standalone_herder::~standalone_herder() {
  stop();
}

void standalone_herder::start() {
  control_.start();
  submit("starting the stored connectors", [this] {
    for (auto& [name, entry] : configs_->snapshot()) {
      const auto* plugin =
          registry_.find(entry.config.count("connector.class") ? entry.config.at("connector.class")
                                                               : std::string{});
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
    for (const auto& [k, v] : patch.items()) {
      if (v.is_null()) {
        config.erase(k);
      } else if (auto text = api::config_text(v)) {
        config[k] = *text;
      } else {
        throw bad_request_error("Value of configuration " + k + " must be a string or null");
      }
    }
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
    env_.statuses->put_connector(name, {.state = storage::connector_state::stopped,
                                        .trace = {},
                                        .worker_id = worker_.worker_id(),
                                        .generation = 0});
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
    env_.statuses->put_connector(name, {.state = storage::connector_state::stopped,
                                        .trace = {},
                                        .worker_id = worker_.worker_id(),
                                        .generation = 0});
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
  if (!body.is_object() || !body.contains("offsets") || !body["offsets"].is_array() ||
      body["offsets"].empty()) {
    throw bad_request_error(
        "The request body must contain a non-empty \"offsets\" list of "
        "{\"partition\": {...}, \"offset\": {...} or null}");
  }
  for (const auto& e : body["offsets"]) {
    if (!e.is_object() || !e.contains("partition") || !e["partition"].is_object() ||
        !e.contains("offset") || !(e["offset"].is_object() || e["offset"].is_null())) {
      throw bad_request_error(
          "Each entry of \"offsets\" needs a \"partition\" object and an "
          "\"offset\" object or null: " +
          e.dump());
    }
  }
  return submit("altering the offsets of connector " + name, [this, name, body] {
    auto r = require_stopped(name);
    if (r.plugin->type == api::connector_type::source) {
      std::vector<storage::source_offset> offsets;
      for (const auto& e : body["offsets"]) offsets.push_back({e["partition"], e["offset"]});
      env_.offsets->put(name, offsets);
    } else {
      auto group = sink_offsets(name);
      std::vector<clients::partition_offset> commits;
      for (const auto& e : body["offsets"]) {
        const auto& p = e["partition"];
        if (!p.contains("kafka_topic") || !p["kafka_topic"].is_string() ||
            !p.contains("kafka_partition") || !p["kafka_partition"].is_number_integer()) {
          throw bad_request_error(
              "A sink connector's partition is {\"kafka_topic\": string, "
              "\"kafka_partition\": int}: " +
              p.dump());
        }
        auto topic = p["kafka_topic"].get<std::string>();
        auto partition = p["kafka_partition"].get<std::int32_t>();
        std::int64_t offset;
        if (e["offset"].is_null()) {
          offset = group.low_watermark(topic, partition);
        } else if (e["offset"].contains("kafka_offset") &&
                   e["offset"]["kafka_offset"].is_number_integer() &&
                   e["offset"]["kafka_offset"].get<std::int64_t>() >= 0) {
          offset = e["offset"]["kafka_offset"].get<std::int64_t>();
        } else {
          throw bad_request_error("A sink connector's offset is {\"kafka_offset\": int >= 0}: " +
                                  e["offset"].dump());
        }
        commits.push_back({topic, partition, offset});
      }
      group.commit(commits);
    }
    log::info(k_log, "Altered the offsets of connector ", name);
    return json{{"message", "The offsets for this connector have been altered successfully"}};
  });
}

json standalone_herder::reset_connector_offsets(const std::string& name) {
  return submit("resetting the offsets of connector " + name, [this, name] {
    auto r = require_stopped(name);
    if (r.plugin->type == api::connector_type::source) {
      auto offsets = env_.offsets->list(name);
      for (auto& o : offsets) o.offset = nullptr;
      if (!offsets.empty()) env_.offsets->put(name, offsets);
    } else {
      auto group = sink_offsets(name);
      auto topics = api::split_list(r.config.count("topics") ? r.config.at("topics") : "");
      auto regex = r.config.count("topics.regex") ? r.config.at("topics.regex") : "";
      auto committed = group.committed(topics, regex);
      // librdkafka cannot delete a group's offsets on every broker; committing the earliest
      // offset still in each partition has the same effect with auto.offset.reset=earliest.
      for (auto& o : committed) o.offset = group.low_watermark(o.topic, o.partition);
      group.commit(committed);
    }
    log::info(k_log, "Reset the offsets of connector ", name);
    return json{{"message", "The offsets for this connector have been reset successfully"}};
  });
}

// ---- active topics (KIP-558) ----

}  // namespace ferry::core
