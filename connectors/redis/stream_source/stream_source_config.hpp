#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "ferry/api/config_def.hpp"
#include "ferry/clients/redis_endpoint.hpp"

namespace ferry::redis {

const api::config_def& stream_source_config_def();

// How the task reads: XREAD from the offset it stores (ferry's default), or as a consumer of a
// Redis consumer group (redis-kafka-connect's way; XREADGROUP, XACK after Kafka acknowledged).
enum class stream_read_mode { xread, group };
// redis.stream.delivery (group mode): at-least-once XACKs after Kafka acknowledged, at-most-once
// reads with NOACK.
enum class stream_delivery { at_least_once, at_most_once };
// What becomes the Kafka record key / value.
enum class stream_key_layout { id, stream, none, body_field };
enum class stream_value_layout { record, body };

// Task config keys the connector adds for each task (not for users).
inline constexpr const char* k_task_index_key = "ferry.stream.task.index";
inline constexpr const char* k_task_count_key = "ferry.stream.task.count";
inline constexpr const char* k_listed_streams_key = "ferry.stream.listed";

// Parsed config of the stream source (redis-kafka-connect key names, ferry additions).
struct stream_source_config {
  clients::redis_endpoint endpoint;
  std::vector<std::string> streams;          // redis.stream.name, comma-separated
  std::string pattern;                       // redis.stream.pattern (SCAN MATCH), empty: none
  std::chrono::milliseconds rescan{10000};   // redis.stream.pattern.rescan.ms
  std::string start_id = "0-0";              // redis.stream.offset: where a stream with no stored
                                             // offset starts; "$" = only new entries
  std::chrono::milliseconds block{100};      // redis.stream.block
  int batch_size = 500;                      // batch.size
  std::string topic_template = "${stream}";  // topic
  stream_read_mode mode = stream_read_mode::xread;
  stream_delivery delivery = stream_delivery::at_least_once;
  std::string group = "kafka-consumer-group";   // redis.stream.consumer.group
  std::string consumer = "consumer-${task}";    // redis.stream.consumer.name
  std::chrono::milliseconds claim_idle{60000};  // redis.stream.claim.idle.ms, 0: never claim
  stream_key_layout key_layout = stream_key_layout::id;
  std::string key_field;  // with body_field
  stream_value_layout value_layout = stream_value_layout::record;
  // Set by the connector: which share of the pattern's streams this task reads, and every
  // stream named in redis.stream.name (those are never taken from the pattern).
  int task_index = 0;
  int task_count = 1;
  std::vector<std::string> listed;

  static stream_source_config parse(const api::config_map& config);
  std::string topic_for(const std::string& stream) const;
  // redis.stream.consumer.name with ${task} replaced by the task's index.
  std::string consumer_name() const;
};

}  // namespace ferry::redis
