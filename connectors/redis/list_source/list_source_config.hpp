#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "ferry/api/config_def.hpp"
#include "ferry/clients/redis_endpoint.hpp"

namespace ferry::redis {

const api::config_def& list_source_config_def();

// How elements leave the source list, in the terms of the peers' BLPOP / BRPOP list sources:
// head = BLPOP (the oldest element of RPUSH producers), tail = BRPOP (of LPUSH producers).
enum class list_end { head, tail };

// How a batch is moved into the processing list: one Lua script that moves up to batch.size
// elements atomically (one reply), or a pipeline of batch.size LMOVEs (no EVAL permission
// needed).
enum class list_move_mode { script, pipeline };

// Parsed config of the list source. The only peer list source (Redpanda Connect's redis_list:
// `key`, `command` blpop|brpop, `timeout`) is not a Kafka Connect connector, so there are no
// Kafka Connect key names to accept; these keys mirror its meanings under redis.list.*.
struct list_source_config {
  clients::redis_endpoint endpoint;
  std::string connector;                         // the connector's name (Kafka Connect's `name`)
  std::vector<std::string> lists;                // redis.list.name, comma-separated
  list_end end = list_end::head;                 // redis.list.command: BLPOP (head) or BRPOP (tail)
  std::chrono::milliseconds block{100};          // redis.list.block: BLMOVE wait when all are empty
  int batch_size = 500;                          // batch.size: elements moved per list per poll
  list_move_mode move = list_move_mode::script;  // redis.list.move
  std::string processing_template = "${list}:processing:${connector}";  // redis.list.processing
  std::string topic_template = "${list}";                               // topic

  // Throws api::config_error naming the key: a missing list, processing keys that are not one
  // per list (or that name a source list), or, on a Redis Cluster, a processing key in another
  // hash slot than its list (LMOVE and the script need both keys on one node).
  static list_source_config parse(const api::config_map& config);
  std::string topic_for(const std::string& list) const;
  std::string processing_key_for(const std::string& list) const;
};

}  // namespace ferry::redis
