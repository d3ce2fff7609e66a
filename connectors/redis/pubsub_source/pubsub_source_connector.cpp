#include "pubsub_source/pubsub_source_connector.hpp"

#include <algorithm>

#include "common/redis_config.hpp"
#include "pubsub_source/pubsub_source_config.hpp"

namespace ferry::redis {

void pubsub_source_connector::start(const api::config_map& config) {
  auto parsed = pubsub_source_config::parse(config);
  channels_ = parsed.channels;
  patterns_ = parsed.patterns;
  config_ = config;
}

std::vector<api::config_map> pubsub_source_connector::task_configs(int max_tasks) {
  const auto total = channels_.size() + patterns_.size();
  auto n = std::min<std::size_t>(static_cast<std::size_t>(std::max(max_tasks, 1)), total);
  std::vector<std::string> channels(n);
  std::vector<std::string> patterns(n);
  deal_round_robin(channels_, channels);
  deal_round_robin(patterns_, patterns, channels_.size());  // the deal goes on where it stopped
  std::vector<api::config_map> out;
  for (std::size_t i = 0; i < n; ++i) {
    auto c = config_;
    c["redis.pubsub.channels"] = channels[i];
    c["redis.pubsub.patterns"] = patterns[i];
    out.push_back(std::move(c));
  }
  return out;
}

}  // namespace ferry::redis
