#pragma once

// A scripted herder for REST tests: records every call and answers with canned JSON, so the
// routes can be checked without a worker, Kafka or Redis.

#include <algorithm>
#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "ferry/core/errors.hpp"
#include "ferry/core/herder.hpp"

namespace ferry::test {

class fake_herder final : public core::herder {
 public:
  struct put_call {
    std::string name;
    api::config_map config;
    bool allow_replace = false;
    std::optional<storage::target_state> initial_state;
  };

  // Scripted answers.
  std::vector<std::string> names;   // connectors(); others are "not found"
  std::set<std::string> vanished;   // listed, but deleted before their details are read
  bool existing = false;            // put_connector_config: the connector existed
  std::function<void()> on_put;     // may throw, e.g. already_exists_error
  json status_of = json::object();  // connector_status() answer, by name

  // Recorded calls, in order, as "method name[/task]".
  std::vector<std::string> calls;
  std::vector<put_call> puts;
  api::config_map validated_config;

  json server_info() override { return {{"version", "test"}}; }
  bool is_ready = true;
  bool ready() override { return is_ready; }
  std::function<void(std::chrono::milliseconds)> on_check;  // check_responsive(); may block
  void check_responsive(std::chrono::milliseconds timeout) override {
    if (on_check) on_check(timeout);
  }

  core::put_result patch_connector_config(const std::string& name, const json& patch) override {
    require(name);
    calls.push_back("patch " + name + " " + patch.dump());
    return {false, {{"name", name}}};
  }

  json connector_offsets(const std::string& name) override {
    require(name);
    calls.push_back("offsets " + name);
    return {{"offsets", json::array()}};
  }

  json alter_connector_offsets(const std::string& name, const json& offsets) override {
    require(name);
    calls.push_back("alter offsets " + name + " " + offsets.dump());
    return {{"message", "The offsets for this connector have been altered successfully"}};
  }

  json connector_active_topics(const std::string& name) override {
    require(name);
    return {{name, {{"topics", json::array({"t"})}}}};
  }

  void reset_connector_active_topics(const std::string& name) override {
    require(name);
    calls.push_back("reset topics " + name);
  }

  json reset_connector_offsets(const std::string& name) override {
    require(name);
    calls.push_back("reset offsets " + name);
    return {{"message", "The offsets for this connector have been reset successfully"}};
  }

  std::vector<std::string> connectors() override {
    calls.push_back("connectors");
    return names;
  }

  json connector_info(const std::string& name) override {
    require(name);
    return {{"name", name}, {"config", json::object()}, {"tasks", json::array()}, {"type", "sink"}};
  }

  api::config_map connector_config(const std::string& name) override {
    require(name);
    return {{"name", name}};
  }

  json connector_status(const std::string& name) override {
    require(name);
    calls.push_back("status " + name);
    if (status_of.contains(name)) return status_of[name];
    return {{"name", name}, {"connector", {{"state", "RUNNING"}}}, {"tasks", json::array()}};
  }

  json task_status(const std::string& name, int task) override {
    require(name);
    return {{"id", task}, {"state", "RUNNING"}};
  }

  json task_configs(const std::string& name) override {
    require(name);
    return json::array();
  }

  core::put_result put_connector_config(
      const std::string& name, const api::config_map& config, bool allow_replace,
      std::optional<storage::target_state> initial_state) override {
    calls.push_back("put " + name);
    puts.push_back({name, config, allow_replace, initial_state});
    if (on_put) on_put();
    json cfg = json::object();
    for (const auto& [k, v] : config) cfg[k] = v;
    return {!existing,
            {{"name", name}, {"config", cfg}, {"tasks", json::array()}, {"type", "sink"}}};
  }

  void delete_connector(const std::string& name) override { record("delete", name); }
  void pause_connector(const std::string& name) override { record("pause", name); }
  void resume_connector(const std::string& name) override { record("resume", name); }
  void stop_connector(const std::string& name) override { record("stop", name); }
  void restart_connector(const std::string& name) override { record("restart", name); }
  void restart_task(const std::string& name, int task) override {
    record("restart", name + "/" + std::to_string(task));
  }

  json connector_plugins(bool connectors_only) override {
    auto out = json::array(
        {{{"class", "ferry.redis.RedisSinkConnector"}, {"type", "sink"}, {"version", "0.1.0"}}});
    if (!connectors_only) {
      out.push_back({{"class", "org.apache.kafka.connect.storage.StringConverter"},
                     {"type", "converter"},
                     {"version", "0.1.0"}});
    }
    return out;
  }

  json plugin_config(const std::string& plugin) override {
    if (plugin != "RedisSink") throw core::not_found_error("Unknown plugin " + plugin);
    return json::array({{{"name", "redis.uri"}}});
  }

  std::string metrics() override {
    calls.push_back("metrics");
    return "# TYPE kafka_connect_worker_task_count gauge\nkafka_connect_worker_task_count 0\n";
  }

  json validate(const std::string& plugin, const api::config_map& config) override {
    calls.push_back("validate " + plugin);
    validated_config = config;
    return {{"name", plugin},
            {"error_count", 0},
            {"groups", json::array()},
            {"configs", json::array()}};
  }

 private:
  void require(const std::string& name) {
    bool known = std::find(names.begin(), names.end(), name) != names.end();
    if (!known || vanished.count(name)) {
      throw core::not_found_error("Connector " + name + " not found");
    }
  }
  void record(const std::string& what, const std::string& name) {
    require(name.substr(0, name.find('/')));
    calls.push_back(what + " " + name);
  }
};

}  // namespace ferry::test
