#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "ferry/storage/connect_records.hpp"

namespace ferry::storage {

// A connector as the config topic describes it.
struct cluster_connector {
  api::config_map config;
  target_state state = target_state::started;
  std::vector<api::config_map> tasks;  // the last committed task configs
  // A commit arrived without all of its task records (compaction can do that): the task configs
  // must be generated again.
  bool inconsistent = false;
  std::string create_token;  // of the create_value record that created it, if any
};

// Kafka Connect's reading of the config topic (KafkaConfigBackingStore), as a pure state machine:
// apply() the records in topic order, every worker gets the same state.
//  - connector-<n> sets or (tombstone) removes a config, with the connector's task configs;
//  - target-state-<n> may come before its connector (creation with an initial state);
//  - task-<n>-<i> records wait until commit-<n> {"tasks":N} applies all N of them at once.
class config_topic_state {
 public:
  // What a record changed, for the herder to act on.
  struct change {
    enum class kind {
      none,
      connector_config,
      connector_removed,
      target_state,
      tasks,
      restart,
      restart_task
    };
    kind what = kind::none;
    std::string connector;
    records::restart_record restart;  // kind::restart
    int task = -1;                    // kind::restart_task
  };

  change apply(const records::config_record& record);

  const std::map<std::string, cluster_connector>& connectors() const { return connectors_; }
  const cluster_connector* find(const std::string& name) const;

 private:
  std::map<std::string, cluster_connector> connectors_;
  std::map<std::string, target_state> target_states_;  // also for connectors not (yet) there
  std::map<std::string, std::map<int, api::config_map>> pending_tasks_;
};

}  // namespace ferry::storage
