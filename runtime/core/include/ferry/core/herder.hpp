#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "ferry/api/config_def.hpp"
#include "ferry/api/json.hpp"
#include "ferry/storage/states.hpp"

namespace ferry::core {

struct put_result {
  bool created = false;
  json info;  // ConnectorInfo
};

// What the REST layer may ask of a worker: Kafka Connect's Herder, with its JSON entities
// already in Kafka's shapes. Reads answer from the current state and never wait for a hung
// connector; writes go through the herder's control queue and wait at most
// rest.request.timeout.ms. Errors are herder_error subclasses (errors.hpp). Thread-safe.
class herder {
 public:
  virtual ~herder() = default;

  virtual json server_info() = 0;  // GET /
  // True once start-up finished (stored connectors started): GET /health.
  virtual bool ready() = 0;
  // GET /health after start-up (KIP-1017): returns once the herder's control thread ran a no-op,
  // or throws request_timeout_error naming what it is busy with after `timeout`.
  virtual void check_responsive(std::chrono::milliseconds timeout) { (void)timeout; }
  virtual std::vector<std::string> connectors() = 0;         // sorted
  virtual json connector_info(const std::string& name) = 0;  // ConnectorInfo
  virtual api::config_map connector_config(const std::string& name) = 0;
  virtual json connector_status(const std::string& name) = 0;  // ConnectorStateInfo
  virtual json task_status(const std::string& name, int task) = 0;
  virtual json task_configs(const std::string& name) = 0;  // [TaskInfo]
  virtual put_result put_connector_config(const std::string& name, const api::config_map& config,
                                          bool allow_replace,
                                          std::optional<storage::target_state> initial_state) = 0;
  // PATCH config: `patch` maps keys to new values, or to null to remove them.
  virtual put_result patch_connector_config(const std::string& name, const json& patch) = 0;
  virtual void delete_connector(const std::string& name) = 0;
  virtual void pause_connector(const std::string& name) = 0;
  virtual void resume_connector(const std::string& name) = 0;
  virtual void stop_connector(const std::string& name) = 0;
  virtual void restart_connector(const std::string& name) = 0;
  virtual void restart_task(const std::string& name, int task) = 0;
  virtual json connector_plugins(bool connectors_only) = 0;  // [PluginInfo]
  // Kafka Connect's offsets endpoints; writes need the connector STOPPED.
  virtual json connector_offsets(const std::string& name) = 0;  // {"offsets":[...]}
  virtual json alter_connector_offsets(const std::string& name, const json& offsets) = 0;
  virtual json reset_connector_offsets(const std::string& name) = 0;
  // KIP-558 active topics: {"<name>":{"topics":[...]}}; 403 when tracking is disabled.
  virtual json connector_active_topics(const std::string& name) = 0;
  virtual void reset_connector_active_topics(const std::string& name) = 0;
  virtual json plugin_config(const std::string& plugin) = 0;  // [ConfigKeyInfo]
  virtual json validate(const std::string& plugin, const api::config_map& config) = 0;
  // GET /metrics: the Prometheus text format (version 0.0.4).
  virtual std::string metrics() = 0;
};

}  // namespace ferry::core
