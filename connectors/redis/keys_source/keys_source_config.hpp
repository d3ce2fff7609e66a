#pragma once

#include <string>

#include "ferry/api/config_def.hpp"
#include "ferry/clients/redis_endpoint.hpp"

namespace ferry::redis {

const api::config_def& keys_source_config_def();

// Parsed config of the keys source (redis-kafka-connect's keys unless marked ferry).
struct keys_source_config {
  clients::redis_endpoint endpoint;
  std::string pattern = "*";        // redis.keys.pattern
  bool snapshot = true;             // mode: LIVE (snapshot + live) or LIVEONLY
  std::string topic = "rediskeys";  // topic
  int batch_size = 500;             // batch.size
  std::string notify_events;        // ferry: redis.keys.notify.events, set with CONFIG SET

  static keys_source_config parse(const api::config_map& config);
};

}  // namespace ferry::redis
