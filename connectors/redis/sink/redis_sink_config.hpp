#pragma once

#include <cstdint>
#include <string>

#include "ferry/api/config_def.hpp"
#include "ferry/clients/redis_endpoint.hpp"

namespace ferry::redis {

enum class sink_type { string, hash, stream, list, set, zset };

// The Redis sink's declared keys (redis-kafka-connect 1.x names) and their parsed form.
const api::config_def& redis_sink_config_def();

struct redis_sink_config {
  clients::redis_endpoint endpoint;
  sink_type type = sink_type::stream;
  std::string keyspace = "${topic}";  // key template; ${topic} is the record's topic
  std::string separator = ":";
  std::int64_t ttl_seconds = -1;  // redis.key.ttl; -1: none
  bool multiexec = false;

  static redis_sink_config parse(const api::config_map& config);  // throws api::config_error
};

}  // namespace ferry::redis
