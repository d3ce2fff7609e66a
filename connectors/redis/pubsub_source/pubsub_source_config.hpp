#pragma once

#include <string>
#include <vector>

#include "ferry/api/config_def.hpp"
#include "ferry/clients/redis_endpoint.hpp"

namespace ferry::redis {

const api::config_def& pubsub_source_config_def();

// Parsed config of the Pub/Sub source (ferry's keys; redis-kafka-connect has no such source).
struct pubsub_source_config {
  clients::redis_endpoint endpoint;
  std::vector<std::string> channels;          // redis.pubsub.channels (SUBSCRIBE)
  std::vector<std::string> patterns;          // redis.pubsub.patterns (PSUBSCRIBE)
  std::string topic_template = "${channel}";  // topic
  int batch_size = 500;                       // batch.size

  // Throws api::config_error, also when neither channels nor patterns are given.
  static pubsub_source_config parse(const api::config_map& config);
  // The topic of a message on `channel`: ${channel} replaced by the channel name with every
  // character Kafka does not allow in a topic name (outside [a-zA-Z0-9._-]) turned into '_'.
  std::string topic_for(const std::string& channel) const;
};

}  // namespace ferry::redis
