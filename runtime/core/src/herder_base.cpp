#include "ferry/core/herder_base.hpp"

#include <algorithm>

#include "ferry/api/errors.hpp"
#include "ferry/core/connector_config.hpp"
#include "ferry/core/converters.hpp"
#include "ferry/core/errors.hpp"
#include "ferry/core/log.hpp"
#include "ferry/core/metrics.hpp"
#include "ferry/transforms/transformation.hpp"

#ifndef FERRY_VERSION
#define FERRY_VERSION "0.0.0"
#endif

namespace ferry::core {

namespace {

constexpr const char* k_log = "herder";

// Long enough for a stopped sink's group to lose its last member on a broker that waits for
// the session timeout (45 s by default); short of the REST request timeout.
constexpr auto k_offsets_timeout = std::chrono::seconds(60);

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

json sink_partition(const std::string& topic, std::int32_t partition) {
  return {{"kafka_topic", topic}, {"kafka_partition", partition}};
}

}  // namespace

namespace {

task_environment with_metrics(task_environment env) {
  if (!env.metrics) env.metrics = std::make_shared<metrics_registry>();
  return env;
}

}  // namespace

herder_base::herder_base(const api::plugin_registry& registry, task_environment env)
    : registry_(registry), env_(with_metrics(std::move(env))) {}

std::string herder_base::metrics() {
  return render_prometheus(*env_.metrics, *env_.statuses, connectors(), env_.worker->worker_id());
}

json herder_base::task_status(const std::string& name, int task) {
  auto r = view(name);
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

json herder_base::task_configs(const std::string& name) {
  auto r = view(name);
  json out = json::array();
  for (std::size_t i = 0; i < r.tasks.size(); ++i) {
    out.push_back(
        {{"id", {{"connector", name}, {"task", static_cast<int>(i)}}}, {"config", r.tasks[i]}});
  }
  return out;
}

json herder_base::connector_plugins(bool connectors_only) {
  json out = json::array();
  // A plug-in's classes carry its version; the built-ins ferry's.
  auto add = [&out](const std::string& cls, const std::string& type, const std::string* version) {
    out.push_back(
        {{"class", cls}, {"type", type}, {"version", version ? *version : FERRY_VERSION}});
  };
  for (const auto& p : registry_.plugins()) {
    const auto* version = p.version.empty() ? nullptr : &p.version;
    add(p.class_name, api::to_string(p.type), version);
    for (const auto& a : p.aliases) add(a, api::to_string(p.type), version);
  }
  if (!connectors_only) {
    for (const auto& c : converter_classes()) {  // plug-ins' too
      add(c, "converter", registry_.class_version(c));
    }
    for (const auto& t : transforms::catalog()) {
      add(t.class_name,
          t.kind == transforms::plugin_kind::transformation ? "transformation" : "predicate",
          registry_.class_version(t.class_name));
    }
  }
  std::stable_sort(out.begin(), out.end(), [](const json& a, const json& b) {
    return std::tie(a["type"], a["class"]) < std::tie(b["type"], b["class"]);
  });
  return out;
}

json herder_base::plugin_config(const std::string& plugin) {
  const auto* p = registry_.find(plugin);
  if (!p) {
    if (const auto* t = transforms::find_plugin(plugin)) return t->config.describe();
    throw not_found_error("Unknown plugin " + plugin + ".");
  }
  api::config_def def = common_connector_def(p->type);
  if (p->config) def.merge(p->config());
  return def.describe();
}

json herder_base::validate(const std::string& plugin, const api::config_map& config) {
  const auto* p = registry_.find(plugin);
  register_config_secrets(p, config);  // an error may quote them
  if (!p) throw not_found_error("Unknown plugin " + plugin + ".");
  if (auto it = config.find("connector.class"); it != config.end()) {
    const auto* named = registry_.find(it->second);
    if (named != p) {
      throw bad_request_error("Included connector type " + it->second +
                              " does not match request type " + plugin);
    }
  }
  return config_infos(*p, config, resolve(config), env_.worker.get());
}

resolved_config herder_base::resolve(const api::config_map& config) const {
  if (!env_.providers) return {.values = config, .secrets = {}};
  try {
    auto resolved = env_.providers->resolve(config);
    register_resolved_secrets(plugin_of(config), resolved);
    return resolved;
  } catch (const api::config_error& e) {
    throw bad_request_error(e.what());
  }
}

api::config_map herder_base::checked_config(const std::string& name,
                                            const api::config_map& input) const {
  check_name(name);
  api::config_map config = input;
  if (auto it = config.find("name"); it != config.end() && it->second != name) {
    throw bad_request_error("Connector name configuration (" + it->second +
                            ") doesn't match connector name in the URL (" + name + ")");
  }
  config["name"] = name;
  // Before anything can quote them (an error echoing the config, a log line): stored or not.
  register_config_secrets(plugin_of(config), config);
  const auto& plugin = require_plugin(config);
  auto resolved = resolve(config);  // validated resolved, stored raw
  if (auto errors =
          describe_errors(validate_connector_config(plugin, resolved.values, env_.worker.get()));
      !errors.empty()) {
    throw bad_request_error(resolved.redact(errors));
  }
  return config;
}

const api::connector_plugin& herder_base::require_plugin(const api::config_map& config) const {
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

const api::connector_plugin* herder_base::plugin_of(const api::config_map& config) const {
  auto it = config.find("connector.class");
  return it == config.end() ? nullptr : registry_.find(it->second);
}

storage::status herder_base::own_status(storage::connector_state state, std::string trace) const {
  return {.state = state,
          .trace = std::move(trace),
          .worker_id = env_.worker->worker_id(),
          .generation = 0};
}

json herder_base::info_json(const std::string& name, const connector_view& r) const {
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

json herder_base::server_info() {
  return {{"version", FERRY_VERSION}, {"commit", "ferry"}, {"kafka_cluster_id", nullptr}};
}

json herder_base::connector_info(const std::string& name) {
  return info_json(name, view(name));
}

api::config_map herder_base::connector_config(const std::string& name) {
  return view(name).config;
}

json herder_base::connector_status(const std::string& name) {
  auto r = view(name);
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
  j["type"] = r.plugin ? api::to_string(r.plugin->type) : "unknown";
  return j;
}

herder_base::connector_view herder_base::require_stopped(const std::string& name) {
  auto r = view(name);
  if (!r.plugin) {
    throw bad_request_error("This worker has no connector class " + r.config["connector.class"] +
                            ", so it cannot manage the offsets of " + name);
  }
  if (r.state != storage::target_state::stopped) {
    throw bad_request_error(
        "Connectors must be in the STOPPED state before their offsets can be modified. This can "
        "be done for the specified connector by issuing a 'PUT' request to the '/connectors/" +
        name + "/stop' endpoint");
  }
  return r;
}

clients::group_offsets herder_base::sink_offsets(const std::string& name,
                                                 const api::config_map& connector) const {
  auto resolved = resolve(connector).values;
  auto config = env_.worker->client_config(resolved, client_kind::consumer);
  auto group = config.count("group.id") && !config.at("group.id").empty() ? config.at("group.id")
                                                                          : "connect-" + name;
  config.erase("group.id");
  return clients::group_offsets(config, group, k_offsets_timeout);
}

json herder_base::connector_offsets(const std::string& name) {
  auto r = view(name);
  json list = json::array();
  if (!r.plugin) {
    throw bad_request_error("This worker has no connector class " + r.config["connector.class"] +
                            ", so it cannot tell whether " + name + " is a source or a sink");
  }
  if (r.plugin->type == api::connector_type::source) {
    for (const auto& o : env_.offsets->list(name)) {
      list.push_back({{"partition", o.partition}, {"offset", o.offset}});
    }
  } else {
    auto topics = api::split_list(r.config.count("topics") ? r.config.at("topics") : "");
    auto regex = r.config.count("topics.regex") ? r.config.at("topics.regex") : "";
    for (const auto& o : sink_offsets(name, r.config).committed(topics, regex)) {
      list.push_back({{"partition", sink_partition(o.topic, o.partition)},
                      {"offset", {{"kafka_offset", o.offset}}}});
    }
  }
  return {{"offsets", std::move(list)}};
}

json herder_base::connector_active_topics(const std::string& name) {
  if (!env_.worker->topic_tracking) throw herder_error(403, "Topic tracking is disabled.");
  view(name);
  json topics = json::array();
  for (const auto& t : env_.statuses->topics(name)) topics.push_back(t);
  return {{name, {{"topics", std::move(topics)}}}};
}

void herder_base::reset_connector_active_topics(const std::string& name) {
  if (!env_.worker->topic_tracking) throw herder_error(403, "Topic tracking is disabled.");
  if (!env_.worker->topic_tracking_reset) {
    throw herder_error(403, "Topic tracking reset is disabled.");
  }
  view(name);
  env_.statuses->reset_topics(name);
}

void herder_base::check_offsets_body(const json& body) {
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
}

json herder_base::alter_offsets_now(const std::string& name, const json& body) {
  auto r = require_stopped(name);
  if (r.plugin->type == api::connector_type::source) {
    std::vector<storage::source_offset> offsets;
    for (const auto& e : body["offsets"]) offsets.push_back({e["partition"], e["offset"]});
    env_.offsets->put(name, offsets);
  } else {
    auto group = sink_offsets(name, r.config);
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
}

json herder_base::reset_offsets_now(const std::string& name) {
  auto r = require_stopped(name);
  if (r.plugin->type == api::connector_type::source) {
    auto offsets = env_.offsets->list(name);
    for (auto& o : offsets) o.offset = nullptr;
    if (!offsets.empty()) env_.offsets->put(name, offsets);
  } else {
    auto group = sink_offsets(name, r.config);
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
}

api::config_map herder_base::patched_config(api::config_map config, const json& patch) {
  if (!patch.is_object()) throw bad_request_error("A config patch must be a JSON object");
  for (const auto& [k, v] : patch.items()) {
    if (v.is_null()) {
      config.erase(k);
    } else if (auto text = api::config_text(v)) {
      config[k] = *text;
    } else {
      throw bad_request_error("Value of configuration " + k + " must be a string or null");
    }
  }
  return config;
}

}  // namespace ferry::core
