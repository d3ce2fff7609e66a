#pragma once

#include <cstdint>
#include <string>

#include "ferry/api/config_def.hpp"
#include "ferry/clients/redis_endpoint.hpp"

namespace ferry::redis {

// How a record becomes Redis commands. `command` is ferry's templated command (redis.command
// holding a template); the others are redis-kafka-connect's redis.type values.
enum class sink_type { string, hash, json, stream, list, set, zset, publish, command };

// Which end of the list LIST writes to: RPUSH (redis-kafka-connect 1.x) or LPUSH (0.9's
// redis.command=LPUSH).
enum class push_side { right, left };

// The Redis sink's declared keys (redis-kafka-connect names where they exist) and their parsed
// form.
const api::config_def& redis_sink_config_def();

// The header redis-kafka-connect reads a per-record TTL (seconds) from.
inline constexpr const char* ttl_header_name = "redis.key.ttl";

struct redis_sink_config {
  clients::redis_endpoint endpoint;
  sink_type type = sink_type::stream;
  push_side push = push_side::right;
  std::string keyspace = "${topic}";  // key template (see command_template.hpp)
  std::string separator = ":";
  std::int64_t ttl_seconds = -1;  // redis.key.ttl; -1: none
  std::string ttl_field;          // redis.key.ttl.field: value field with a TTL in seconds
  bool multiexec = false;
  int wait_replicas = 0;  // redis.wait.replicas; 0: no WAIT
  std::int64_t wait_timeout_ms = 1000;
  std::string zset_score_field;    // redis.zset.score.field; empty: the value is the score
  std::string stream_id_field;     // redis.stream.id.field; empty: XADD *
  std::int64_t stream_maxlen = 0;  // redis.stream.maxlen; 0: no MAXLEN ~
  std::string command;             // redis.command template (type command)
  std::string delete_command;      // redis.command.delete template for tombstones
  // redis.exactly.once: each batch's writes and its partitions' next offsets in one
  // MULTI/EXEC, conditional on the stored offsets (see redis_sink_task.hpp).
  bool exactly_once = false;
  std::string connector_name;  // the config's `name`: the hash tag of the offset keys

  static redis_sink_config parse(const api::config_map& config);  // throws api::config_error
};

}  // namespace ferry::redis
