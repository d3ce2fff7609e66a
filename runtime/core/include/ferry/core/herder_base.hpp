#pragma once

#include <string>
#include <vector>

#include "ferry/api/plugin_registry.hpp"
#include "ferry/clients/group_offsets.hpp"
#include "ferry/core/config_providers.hpp"
#include "ferry/core/herder.hpp"
#include "ferry/core/task_runner.hpp"

namespace ferry::core {

// What every herder shares, whatever keeps its desired state (a file in standalone mode, the
// config topic in distributed mode): config checks, Kafka Connect's JSON shapes, plug-in
// listings and validation, status (from the status store), offsets reads and active topics.
// A herder supplies view(): one connector's desired state.
class herder_base : public herder {
 public:
  json server_info() override;
  json connector_info(const std::string& name) override;
  api::config_map connector_config(const std::string& name) override;
  json connector_status(const std::string& name) override;
  json task_status(const std::string& name, int task) override;
  json task_configs(const std::string& name) override;
  json connector_plugins(bool connectors_only) override;
  json connector_offsets(const std::string& name) override;
  json connector_active_topics(const std::string& name) override;
  void reset_connector_active_topics(const std::string& name) override;
  json plugin_config(const std::string& plugin) override;
  json validate(const std::string& plugin, const api::config_map& config) override;
  std::string metrics() override;

 protected:
  herder_base(const api::plugin_registry& registry, task_environment env);

  struct connector_view {
    api::config_map config;
    storage::target_state state = storage::target_state::started;
    std::vector<api::config_map> tasks;
    const api::connector_plugin* plugin = nullptr;
  };
  // One connector's desired state; throws not_found_error. Must not wait for the control thread.
  virtual connector_view view(const std::string& name) = 0;

  const api::connector_plugin& require_plugin(const api::config_map& config) const;
  // The plug-in named by connector.class; nullptr when there is none or this worker lacks it.
  const api::connector_plugin* plugin_of(const api::config_map& config) const;
  // A status reported by this worker.
  storage::status own_status(storage::connector_state state, std::string trace = {}) const;
  // Name checks, the "name" key, plugin lookup and validation of the resolved config: 400 on any
  // problem. Returns the config to store (raw, with its name).
  api::config_map checked_config(const std::string& name, const api::config_map& input) const;
  // Through the config providers; a provider that fails is a 400.
  resolved_config resolve(const api::config_map& config) const;
  // PATCH config: keys mapped to a new value or to null (removed). 400 on other JSON.
  static api::config_map patched_config(api::config_map config, const json& patch);
  json info_json(const std::string& name, const connector_view& r) const;
  // 400 unless the connector is STOPPED (offset writes).
  connector_view require_stopped(const std::string& name);
  // PATCH /offsets: the body's shape (400 when wrong), then the writes (source offsets to the
  // offset store, sink offsets to the consumer group). The connector must be STOPPED.
  static void check_offsets_body(const json& body);
  json alter_offsets_now(const std::string& name, const json& body);
  json reset_offsets_now(const std::string& name);
  // A sink connector's consumer group, for offset reads and writes: connect-<name>, or the
  // group its consumer.override.group.id names (as its tasks use). `connector` is its config.
  clients::group_offsets sink_offsets(const std::string& name,
                                      const api::config_map& connector) const;

  const api::plugin_registry& registry_;
  task_environment env_;
};

}  // namespace ferry::core
