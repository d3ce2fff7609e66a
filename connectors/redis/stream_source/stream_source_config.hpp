#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "ferry/api/config_def.hpp"
#include "ferry/clients/redis_endpoint.hpp"

namespace ferry::redis {

const api::config_def& stream_source_config_def();

// Parsed config of the stream source (redis-kafka-connect key names).
struct stream_source_config {
  clients::redis_endpoint endpoint;
  std::vector<std::string> streams;          // redis.stream.name, comma-separated
  std::string start_id = "0-0";              // redis.stream.offset: where a stream with no stored
                                             // offset starts; "$" = only new entries
  std::chrono::milliseconds block{100};      // redis.stream.block
  int batch_size = 500;                      // batch.size
  std::string topic_template = "${stream}";  // topic

  static stream_source_config parse(const api::config_map& config);
  std::string topic_for(const std::string& stream) const;
};

}  // namespace ferry::redis
