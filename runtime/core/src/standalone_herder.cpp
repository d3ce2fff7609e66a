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

json status_json(const storage::status& s) {
  json j = json::object();
  j["state"] = storage::to_string(s.state);
  j["worker_id"] = s.worker_id;
  if (!s.trace.empty()) j["trace"] = s.trace;
  return j;
}

void check_name(const std::string& name) {
  if (name.empty()) throw bad_request_error("Connector name cannot be empty");
  for (unsigned char c : name) {
    if (c < 0x20 || c == 0x7f) {
      throw bad_request_error("Connector name contains a control character: " + name);
    }
  }
}

}  // namespace

standalone_herder::standalone_herder(const api::plugin_registry& registry,
                                     std::shared_ptr<storage::config_store> configs,
                                     task_environment env)
    : registry_(registry), configs_(std::move(configs)), env_(env), worker_(std::move(env)) {}

standalone_herder::~standalone_herder() {
  stop();
}

void standalone_herder::start() {
  control_thread_ = std::thread([this] { control_loop(); });
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
  if (!control_thread_.joinable()) return;
  post([this] {
    herder_stage::scope busy(stage_, "stopping every connector and task to shut down");
    worker_.stop_all();
  });
  {
    std::lock_guard lock(queue_mutex_);
    stopping_ = true;
  }
  queue_cv_.notify_all();
  control_thread_.join();
}

void standalone_herder::post(std::function<void()> job) {
  {
    std::lock_guard lock(queue_mutex_);
    queue_.push_back(std::move(job));
  }
  queue_cv_.notify_one();
}

void standalone_herder::control_loop() {
  for (;;) {
    std::function<void()> job;
    {
      std::unique_lock lock(queue_mutex_);
      queue_cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping and drained
      job = std::move(queue_.front());
      queue_.pop_front();
    }
    try {
      job();
    } catch (const std::exception& e) {
      log::error(k_log, "Control job failed: ", e.what());
    }
  }
}

template <typename F>
auto standalone_herder::submit(std::string what, F f) -> decltype(f()) {
  using result = decltype(f());
  auto task = std::make_shared<std::packaged_task<result()>>(std::move(f));
  auto future = task->get_future();
  post([this, task, what = std::move(what)] {
    herder_stage::scope busy(stage_, what);
    (*task)();
  });
  if (future.wait_for(env_.worker->rest_request_timeout) != std::future_status::ready) {
    throw request_timeout_error(stage_.timeout_message());
  }
  return future.get();
}

const api::connector_plugin& standalone_herder::require_plugin(
    const api::config_map& config) const {
  auto it = config.find("connector.class");
  if (it == config.end() || api::trim(it->second).empty()) {
    throw bad_request_error("Connector config " + json(config).dump() +
                            " contains no connector type");
  }
  const auto* plugin = registry_.find(it->second);
  if (!plugin) {
    std::string known;
    for (const auto& p : registry_.plugins()) known += (known.empty() ? "" : ", ") + p.class_name;
    throw bad_request_error(
        "Failed to find any class that implements Connector and which name "
        "matches " +
        it->second + ", available connectors are: " + known);
  }
  return *plugin;
}

standalone_herder::connector_record standalone_herder::require(const std::string& name) {
  std::lock_guard lock(mutex_);
  auto it = connectors_.find(name);
  if (it == connectors_.end()) throw not_found_error("Connector " + name + " not found");
  return it->second;
}

json standalone_herder::info_json(const std::string& name, const connector_record& r) const {
  json tasks = json::array();
  for (std::size_t i = 0; i < r.tasks.size(); ++i) {
    tasks.push_back({{"connector", name}, {"task", static_cast<int>(i)}});
  }
  json j = json::object();
  j["name"] = name;
  j["config"] = r.config;
  j["tasks"] = std::move(tasks);
  j["type"] = r.plugin ? api::to_string(r.plugin->type) : "unknown";
  return j;
}

// ---- reads ----

json standalone_herder::server_info() {
  return {{"version", FERRY_VERSION}, {"commit", "ferry"}, {"kafka_cluster_id", nullptr}};
}

std::vector<std::string> standalone_herder::connectors() {
  std::lock_guard lock(mutex_);
  std::vector<std::string> names;
  for (const auto& [n, r] : connectors_) names.push_back(n);
  return names;
}

json standalone_herder::connector_info(const std::string& name) {
  return info_json(name, require(name));
}

api::config_map standalone_herder::connector_config(const std::string& name) {
  return require(name).config;
}

json standalone_herder::connector_status(const std::string& name) {
  auto r = require(name);
  auto cs = env_.statuses->connector(name);
  if (!cs) throw not_found_error("No status found for connector " + name);
  json tasks = json::array();
  if (r.state != storage::target_state::stopped) {
    for (const auto& [id, ts] : env_.statuses->tasks(name)) {
      if (id >= static_cast<int>(r.tasks.size())) continue;
      auto t = status_json(ts);
      json task = json::object();
      task["id"] = id;
      for (auto& [k, v] : t.items()) task[k] = v;
      tasks.push_back(std::move(task));
    }
  }
  json j = json::object();
  j["name"] = name;
  j["connector"] = status_json(*cs);
  j["tasks"] = std::move(tasks);
  j["type"] = api::to_string(r.plugin->type);
  return j;
}

json standalone_herder::task_status(const std::string& name, int task) {
  auto r = require(name);
  auto tasks = env_.statuses->tasks(name);
  auto it = tasks.find(task);
  if (it == tasks.end() || task >= static_cast<int>(r.tasks.size())) {
    throw not_found_error("No status found for task " + name + "-" + std::to_string(task));
  }
  json j = json::object();
  j["id"] = task;
  auto status = status_json(it->second);
  for (auto& [k, v] : status.items()) j[k] = v;
  return j;
}

json standalone_herder::task_configs(const std::string& name) {
  auto r = require(name);
  json out = json::array();
  for (std::size_t i = 0; i < r.tasks.size(); ++i) {
    out.push_back(
        {{"id", {{"connector", name}, {"task", static_cast<int>(i)}}}, {"config", r.tasks[i]}});
  }
  return out;
}

json standalone_herder::connector_plugins(bool connectors_only) {
  json out = json::array();
  auto add = [&out](const std::string& cls, const std::string& type) {
    out.push_back({{"class", cls}, {"type", type}, {"version", FERRY_VERSION}});
  };
  for (const auto& p : registry_.plugins()) {
    add(p.class_name, api::to_string(p.type));
    for (const auto& a : p.aliases) add(a, api::to_string(p.type));
  }
  if (!connectors_only) {
    for (const char* c : {"org.apache.kafka.connect.json.JsonConverter",
                          "org.apache.kafka.connect.storage.StringConverter",
                          "org.apache.kafka.connect.converters.ByteArrayConverter"}) {
      add(c, "converter");
    }
  }
  std::stable_sort(out.begin(), out.end(), [](const json& a, const json& b) {
    return std::tie(a["type"], a["class"]) < std::tie(b["type"], b["class"]);
  });
  return out;
}

json standalone_herder::plugin_config(const std::string& plugin) {
  const auto* p = registry_.find(plugin);
  if (!p) throw not_found_error("Unknown plugin " + plugin + ".");
  api::config_def def = common_connector_def(p->type);
  if (p->config) def.merge(p->config());
  return def.describe();
}

json standalone_herder::validate(const std::string& plugin, const api::config_map& config) {
  const auto* p = registry_.find(plugin);
  if (!p) throw not_found_error("Unknown plugin " + plugin + ".");
  if (auto it = config.find("connector.class"); it != config.end()) {
    const auto* named = registry_.find(it->second);
    if (named != p) {
      throw bad_request_error("Included connector type " + it->second +
                              " does not match request type " + plugin);
    }
  }
  return config_infos(*p, config, resolve(config));
}

resolved_config standalone_herder::resolve(const api::config_map& config) const {
  if (!env_.providers) return {.values = config, .secrets = {}};
  try {
    return env_.providers->resolve(config);
  } catch (const api::config_error& e) {
    throw bad_request_error(e.what());
  }
}

// ---- writes (control thread) ----

api::config_map standalone_herder::checked_config(const std::string& name,
                                                  const api::config_map& input) const {
  check_name(name);
  api::config_map config = input;
  if (auto it = config.find("name"); it != config.end() && it->second != name) {
    throw bad_request_error("Connector name configuration (" + it->second +
                            ") doesn't match connector name in the URL (" + name + ")");
  }
  config["name"] = name;
  const auto& plugin = require_plugin(config);
  auto resolved = resolve(config);  // validated resolved, stored raw
  if (auto errors = describe_errors(validate_connector_config(plugin, resolved.values));
      !errors.empty()) {
    throw bad_request_error(resolved.redact(errors));
  }
  return config;
}

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
  return put_result{!existed, info_json(name, require(name))};
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
  herder_stage::scope busy(stage_, "waiting for connector " + name + " to stop");
  worker_.stop_connector(name);
}

void standalone_herder::stop_connector_tasks(const std::string& name) {
  herder_stage::scope busy(stage_, "waiting for the tasks of connector " + name + " to stop");
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
          stage_, "waiting for task " + name + "-" + std::to_string(task) + " to stop");
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

namespace {

// Long enough for a stopped sink's group to lose its last member on a broker that waits for
// the session timeout (45 s by default); short of the REST request timeout.
constexpr auto k_offsets_timeout = std::chrono::seconds(60);

json sink_partition(const std::string& topic, std::int32_t partition) {
  return {{"kafka_topic", topic}, {"kafka_partition", partition}};
}

}  // namespace

standalone_herder::connector_record standalone_herder::require_stopped(const std::string& name) {
  auto r = require(name);
  if (r.state != storage::target_state::stopped) {
    throw bad_request_error(
        "Connectors must be in the STOPPED state before their offsets can be modified. This can "
        "be done for the specified connector by issuing a 'PUT' request to the '/connectors/" +
        name + "/stop' endpoint");
  }
  return r;
}

clients::group_offsets standalone_herder::sink_offsets(const std::string& name) const {
  auto config = env_.worker->consumer_config();
  config.erase("group.id");
  return clients::group_offsets(config, "connect-" + name, k_offsets_timeout);
}

json standalone_herder::connector_offsets(const std::string& name) {
  auto r = require(name);
  json list = json::array();
  if (r.plugin->type == api::connector_type::source) {
    for (const auto& o : env_.offsets->list(name)) {
      list.push_back({{"partition", o.partition}, {"offset", o.offset}});
    }
  } else {
    auto topics = api::split_list(r.config.count("topics") ? r.config.at("topics") : "");
    auto regex = r.config.count("topics.regex") ? r.config.at("topics.regex") : "";
    for (const auto& o : sink_offsets(name).committed(topics, regex)) {
      list.push_back({{"partition", sink_partition(o.topic, o.partition)},
                      {"offset", {{"kafka_offset", o.offset}}}});
    }
  }
  return {{"offsets", std::move(list)}};
}

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

json standalone_herder::connector_active_topics(const std::string& name) {
  if (!env_.worker->topic_tracking) throw herder_error(403, "Topic tracking is disabled.");
  require(name);
  json topics = json::array();
  for (const auto& t : env_.statuses->topics(name)) topics.push_back(t);
  return {{name, {{"topics", std::move(topics)}}}};
}

void standalone_herder::reset_connector_active_topics(const std::string& name) {
  if (!env_.worker->topic_tracking) throw herder_error(403, "Topic tracking is disabled.");
  if (!env_.worker->topic_tracking_reset) {
    throw herder_error(403, "Topic tracking reset is disabled.");
  }
  require(name);
  env_.statuses->reset_topics(name);
}

}  // namespace ferry::core
