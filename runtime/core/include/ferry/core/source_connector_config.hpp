#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <regex>
#include <string>
#include <vector>

#include "ferry/api/config_def.hpp"
#include "ferry/clients/topic_admin.hpp"
#include "ferry/core/worker_config.hpp"

namespace ferry::core {

// Source connectors' framework keys beyond the common ones (Kafka's SourceConnectorConfig):
// exactly-once (KIP-618: exactly.once.support, transaction.boundary,
// transaction.boundary.interval.ms, offsets.storage.topic) and topic creation (KIP-158:
// topic.creation.groups, topic.creation.<group>.*). Pure functions, used by validation on REST
// threads and by source tasks on their own threads.

// Adds the declared keys to a source connector's definition.
void define_source_keys(api::config_def& def);

// Cross-key and dynamic-key checks (topic.creation.<group>.*, exactly.once.support=required on a
// worker without exactly-once source support); errors are attached to the key they concern,
// entries are added for dynamic keys. `worker` null: the worker-dependent checks are skipped.
void validate_source_keys(std::vector<api::config_value>& values, const api::config_map& config,
                          const worker_config* worker);

enum class transaction_boundary { poll, interval };

// How a source task writes when the worker has exactly.once.source.support=enabled.
struct exactly_once_settings {
  bool enabled = false;
  transaction_boundary boundary = transaction_boundary::poll;
  std::chrono::milliseconds interval{60000};  // transaction.boundary.interval.ms
  std::string transactional_id;               // <group.id>-<connector>-<task>
  std::string offsets_topic;                  // where offsets go, inside the transaction

  // Throws api::config_error on a bad value (validation normally caught it before).
  static exactly_once_settings from(const api::config_map& connector_config,
                                    const worker_config& worker, const std::string& connector,
                                    int task);
};

// Kafka Connect's topic creation groups for one source connector.
class topic_creation_rules {
 public:
  struct group {
    std::string name;
    std::vector<std::regex> include, exclude;
    int partitions = -1;
    int replication_factor = -1;
    std::map<std::string, std::string> configs;

    bool matches(const std::string& topic) const;
  };

  // Enabled when the worker's topic.creation.enable is true and the connector sets
  // topic.creation.default.partitions and .replication.factor (Kafka's rule). Throws
  // api::config_error on a bad value.
  static topic_creation_rules from(const api::config_map& connector_config, bool worker_enabled);

  bool enabled() const { return enabled_; }
  // The first listed group whose include matches the topic and whose exclude does not, else the
  // default group; nullopt when creation is disabled.
  std::optional<clients::topic_spec> spec_for(const std::string& topic) const;
  const group* group_for(const std::string& topic) const;

 private:
  bool enabled_ = false;
  std::vector<group> groups_;  // listed groups in order, then "default"
};

}  // namespace ferry::core
