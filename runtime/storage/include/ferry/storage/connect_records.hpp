#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>

#include "ferry/api/config_def.hpp"
#include "ferry/api/json.hpp"
#include "ferry/storage/states.hpp"
#include "ferry/storage/status_store.hpp"

// The records of Kafka Connect's internal topics, byte for byte as a Java worker writes them:
// keys are UTF-8 strings (config, status) or compact JSON (offsets); values are compact JSON
// without schemas (JsonConverter, schemas.enable=false) in Jackson's field order; a deletion is a
// tombstone (no value). Pure functions: parsing never throws, it returns nullopt for records
// that are not ours to read, so one bad record cannot stop a worker from reading its topics.
namespace ferry::storage::records {

using value = std::optional<std::string>;  // nullopt: tombstone

// ---- config topic (config.storage.topic) ----

std::string connector_key(const std::string& connector);       // connector-<n>
std::string task_key(const std::string& connector, int task);  // task-<n>-<i>
std::string commit_key(const std::string& connector);          // commit-<n>
std::string target_state_key(const std::string& connector);    // target-state-<n>
std::string restart_key(const std::string& connector);         // restart-connector-<n>
// ferry's own record (Java workers skip keys they do not know): restart one task, which Kafka
// Connect does by forwarding the request to the task's worker. ferry-restart-task-<n>-<i>
std::string restart_task_key(const std::string& connector, int task);

std::string properties_value(const api::config_map& properties);  // {"properties":{...}}
// A connector config that only creates: {"properties":{...},"ferry.create":"<token>"}. Readers
// skip it when the connector already exists, so of several workers creating the same name at
// once exactly one wins, and each can tell by its token. Java workers ignore the extra field.
std::string create_value(const api::config_map& properties, const std::string& token);
std::string commit_value(int tasks);  // {"tasks":N}
// {"state":"STARTED|PAUSED","state.v2":"STARTED|PAUSED|STOPPED"}: STOPPED is written as PAUSED
// in "state" for workers that read only that field, as Kafka does.
std::string target_state_value(target_state state);
std::string restart_value(bool include_tasks, bool only_failed);  // {"include-tasks","only-failed"}

struct connector_config_record {
  std::string connector;
  std::optional<api::config_map> properties;  // nullopt: deleted
  std::string create_token;                   // set: create only (create_value)
};
struct task_config_record {
  std::string connector;
  int task = 0;
  std::optional<api::config_map> properties;
};
struct commit_record {
  std::string connector;
  int tasks = 0;
};
struct target_state_record {
  std::string connector;
  std::optional<target_state> state;  // nullopt: deleted
};
struct restart_record {
  std::string connector;
  bool include_tasks = false;
  bool only_failed = false;
};
struct restart_task_record {
  std::string connector;
  int task = 0;
};
// Keys a ferry worker reads past: session-key, tasks-fencing-*, logger-cluster-*, and anything
// unknown or malformed. `reason` says which, for a debug log line.
struct ignored_record {
  std::string key;
  std::string reason;
};
using config_record =
    std::variant<connector_config_record, task_config_record, commit_record, target_state_record,
                 restart_record, restart_task_record, ignored_record>;

config_record parse_config_record(const std::string& key, const value& v);

// ---- status topic (status.storage.topic) ----

std::string connector_status_key(const std::string& connector);       // status-connector-<n>
std::string task_status_key(const std::string& connector, int task);  // status-task-<n>-<i>
std::string topic_status_key(const std::string& topic, const std::string& connector);
// status-topic-<topic>:connector-<connector>

// {"state":"RUNNING","trace":null,"worker_id":"host:port","generation":N}
std::string status_value(const status& s);
// {"topic":{"name":..,"connector":..,"task":N,"discoverTimestamp":ms}}
std::string topic_status_value(const std::string& topic, const std::string& connector, int task,
                               std::int64_t discover_timestamp_ms);

struct connector_status_record {
  std::string connector;
  std::optional<status> value;  // nullopt: deleted
};
struct task_status_record {
  std::string connector;
  int task = 0;
  std::optional<status> value;
};
struct topic_status_record {
  std::string connector;
  std::string topic;
  bool active = false;  // false: a tombstone (reset)
};
using status_record =
    std::variant<connector_status_record, task_status_record, topic_status_record, ignored_record>;

status_record parse_status_record(const std::string& key, const value& v);

// ---- offsets topic (offset.storage.topic) ----
// Key ["<connector>",{partition}] (offset_key() in offset_store.hpp), value {offset} or a
// tombstone (reset).

struct offset_record {
  std::string connector;
  json partition;
  json offset;  // null: reset
};
std::optional<offset_record> parse_offset_record(const std::string& key, const value& v);
std::string offset_value(const json& offset);

}  // namespace ferry::storage::records
