#include "ferry/storage/connect_records.hpp"

#include <charconv>
#include <string_view>

namespace ferry::storage::records {

namespace {

constexpr std::string_view k_connector = "connector-";
constexpr std::string_view k_task = "task-";
constexpr std::string_view k_commit = "commit-";
constexpr std::string_view k_target_state = "target-state-";
constexpr std::string_view k_restart = "restart-connector-";
constexpr std::string_view k_restart_task = "ferry-restart-task-";
constexpr std::string_view k_status_connector = "status-connector-";
constexpr std::string_view k_status_task = "status-task-";
constexpr std::string_view k_status_topic = "status-topic-";
constexpr std::string_view k_topic_connector = ":connector-";

std::optional<json> parse_json(const value& v) {
  if (!v) return std::nullopt;
  auto j = json::parse(*v, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return std::nullopt;
  return j;
}

std::optional<int> parse_int(std::string_view text) {
  int out = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  if (ec != std::errc() || p != text.data() + text.size() || out < 0) return std::nullopt;
  return out;
}

// "<name>-<int>" -> (name, int); names may contain '-', so the number is after the last one.
std::optional<std::pair<std::string, int>> split_task(std::string_view rest) {
  auto dash = rest.rfind('-');
  if (dash == std::string_view::npos || dash == 0) return std::nullopt;
  auto task = parse_int(rest.substr(dash + 1));
  if (!task) return std::nullopt;
  return std::make_pair(std::string(rest.substr(0, dash)), *task);
}

std::optional<api::config_map> properties_of(const json& j) {
  if (!j.is_object() || !j.contains("properties") || !j["properties"].is_object()) {
    return std::nullopt;
  }
  api::config_map out;
  for (const auto& [k, v] : j["properties"].items()) {
    if (v.is_null()) continue;
    auto text = api::config_text(v);
    if (!text) return std::nullopt;
    out[k] = *text;
  }
  return out;
}

ignored_record ignore(const std::string& key, std::string reason) {
  return ignored_record{key, std::move(reason)};
}

std::optional<status> status_of(const json& j) {
  if (!j.is_object() || !j.contains("state") || !j["state"].is_string()) return std::nullopt;
  auto state = parse_connector_state(j["state"].get<std::string>());
  if (!state) return std::nullopt;
  status s;
  s.state = *state;
  if (j.contains("trace") && j["trace"].is_string()) s.trace = j["trace"].get<std::string>();
  if (j.contains("worker_id") && j["worker_id"].is_string()) {
    s.worker_id = j["worker_id"].get<std::string>();
  }
  if (j.contains("generation") && j["generation"].is_number_integer()) {
    s.generation = j["generation"].get<int>();
  }
  return s;
}

}  // namespace

std::string connector_key(const std::string& connector) {
  return std::string(k_connector) + connector;
}
std::string task_key(const std::string& connector, int task) {
  return std::string(k_task) + connector + "-" + std::to_string(task);
}
std::string commit_key(const std::string& connector) {
  return std::string(k_commit) + connector;
}
std::string target_state_key(const std::string& connector) {
  return std::string(k_target_state) + connector;
}
std::string restart_key(const std::string& connector) {
  return std::string(k_restart) + connector;
}

std::string restart_task_key(const std::string& connector, int task) {
  return std::string(k_restart_task) + connector + "-" + std::to_string(task);
}

std::string properties_value(const api::config_map& properties) {
  json j = json::object();
  j["properties"] = json::object();
  for (const auto& [k, v] : properties) j["properties"][k] = v;
  return j.dump();
}

std::string create_value(const api::config_map& properties, const std::string& token) {
  json j = json::object();
  j["properties"] = json::object();
  for (const auto& [k, v] : properties) j["properties"][k] = v;
  j["ferry.create"] = token;
  return j.dump();
}

std::string commit_value(int tasks) {
  json j = json::object();
  j["tasks"] = tasks;
  return j.dump();
}

std::string target_state_value(target_state state) {
  json j = json::object();
  j["state"] = to_string(state == target_state::stopped ? target_state::paused : state);
  j["state.v2"] = to_string(state);
  return j.dump();
}

std::string restart_value(bool include_tasks, bool only_failed) {
  json j = json::object();
  j["include-tasks"] = include_tasks;
  j["only-failed"] = only_failed;
  return j.dump();
}

config_record parse_config_record(const std::string& key, const value& v) {
  auto body = parse_json(v);
  if (v && !body) return ignore(key, "value is not JSON");
  std::string_view k = key;
  if (k.starts_with(k_connector)) {
    std::string name(k.substr(k_connector.size()));
    if (!v) return connector_config_record{name, std::nullopt, {}};
    auto props = properties_of(*body);
    if (!props) return ignore(key, "connector config without a properties object");
    std::string token;
    if (body->contains("ferry.create") && (*body)["ferry.create"].is_string()) {
      token = (*body)["ferry.create"].get<std::string>();
    }
    return connector_config_record{name, std::move(props), std::move(token)};
  }
  if (k.starts_with(k_target_state)) {
    std::string name(k.substr(k_target_state.size()));
    if (!v) return target_state_record{name, std::nullopt};
    std::optional<target_state> state;
    for (const char* field : {"state.v2", "state"}) {
      if (state || !body->is_object() || !body->contains(field)) continue;
      if ((*body)[field].is_string()) state = parse_target_state((*body)[field].get<std::string>());
    }
    if (!state) return ignore(key, "target state without a known state");
    return target_state_record{name, state};
  }
  if (k.starts_with(k_restart)) {
    std::string name(k.substr(k_restart.size()));
    if (!body || !body->is_object()) return ignore(key, "restart request without a value");
    restart_record r{name, false, false};
    if (body->contains("include-tasks") && (*body)["include-tasks"].is_boolean()) {
      r.include_tasks = (*body)["include-tasks"].get<bool>();
    }
    if (body->contains("only-failed") && (*body)["only-failed"].is_boolean()) {
      r.only_failed = (*body)["only-failed"].get<bool>();
    }
    return r;
  }
  if (k.starts_with(k_restart_task)) {
    auto parsed = split_task(k.substr(k_restart_task.size()));
    if (!parsed) return ignore(key, "task restart key without a task number");
    return restart_task_record{parsed->first, parsed->second};
  }
  if (k.starts_with(k_commit)) {
    std::string name(k.substr(k_commit.size()));
    if (!body || !body->is_object() || !body->contains("tasks") ||
        !(*body)["tasks"].is_number_integer() || (*body)["tasks"].get<int>() < 0) {
      return ignore(key, "commit without a task count");
    }
    return commit_record{name, (*body)["tasks"].get<int>()};
  }
  if (k.starts_with(k_task)) {
    auto parsed = split_task(k.substr(k_task.size()));
    if (!parsed) return ignore(key, "task key without a task number");
    if (!v) return task_config_record{parsed->first, parsed->second, std::nullopt};
    auto props = properties_of(*body);
    if (!props) return ignore(key, "task config without a properties object");
    return task_config_record{parsed->first, parsed->second, std::move(props)};
  }
  return ignore(key, "not a record ferry uses");  // session-key, tasks-fencing-, logger-cluster-
}

std::string connector_status_key(const std::string& connector) {
  return std::string(k_status_connector) + connector;
}
std::string task_status_key(const std::string& connector, int task) {
  return std::string(k_status_task) + connector + "-" + std::to_string(task);
}
std::string topic_status_key(const std::string& topic, const std::string& connector) {
  return std::string(k_status_topic) + topic + std::string(k_topic_connector) + connector;
}

std::string status_value(const status& s) {
  json j = json::object();
  j["state"] = to_string(s.state);
  j["trace"] = s.trace.empty() ? json(nullptr) : json(s.trace);
  j["worker_id"] = s.worker_id;
  j["generation"] = s.generation;
  return j.dump();
}

std::string topic_status_value(const std::string& topic, const std::string& connector, int task,
                               std::int64_t discover_timestamp_ms) {
  json t = json::object();
  t["name"] = topic;
  t["connector"] = connector;
  t["task"] = task;
  t["discoverTimestamp"] = discover_timestamp_ms;
  json j = json::object();
  j["topic"] = std::move(t);
  return j.dump();
}

status_record parse_status_record(const std::string& key, const value& v) {
  auto body = parse_json(v);
  if (v && !body) return ignore(key, "value is not JSON");
  std::string_view k = key;
  if (k.starts_with(k_status_connector)) {
    std::string name(k.substr(k_status_connector.size()));
    if (!v) return connector_status_record{name, std::nullopt};
    auto s = status_of(*body);
    if (!s) return ignore(key, "status without a known state");
    return connector_status_record{name, s};
  }
  if (k.starts_with(k_status_task)) {
    auto parsed = split_task(k.substr(k_status_task.size()));
    if (!parsed) return ignore(key, "task status key without a task number");
    if (!v) return task_status_record{parsed->first, parsed->second, std::nullopt};
    auto s = status_of(*body);
    if (!s) return ignore(key, "status without a known state");
    return task_status_record{parsed->first, parsed->second, s};
  }
  if (k.starts_with(k_status_topic)) {
    auto rest = k.substr(k_status_topic.size());
    auto sep = rest.find(k_topic_connector);
    if (sep == std::string_view::npos) return ignore(key, "topic status key without a connector");
    return topic_status_record{std::string(rest.substr(sep + k_topic_connector.size())),
                               std::string(rest.substr(0, sep)), v.has_value()};
  }
  return ignore(key, "not a record ferry uses");
}

std::optional<offset_record> parse_offset_record(const std::string& key, const value& v) {
  auto k = json::parse(key, nullptr, false);
  if (k.is_discarded() || !k.is_array() || k.size() != 2 || !k[0].is_string() ||
      !k[1].is_object()) {
    return std::nullopt;
  }
  offset_record r{k[0].get<std::string>(), k[1], nullptr};
  if (v) {
    auto body = parse_json(v);
    if (!body || !body->is_object()) return std::nullopt;
    r.offset = std::move(*body);
  }
  return r;
}

std::string offset_value(const json& offset) {
  return offset.dump();
}

}  // namespace ferry::storage::records
