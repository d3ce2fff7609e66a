#include "pubsub_source/pubsub_source_connector.hpp"

#include <algorithm>

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
  auto append = [](std::string& list, const std::string& item) {
    list += (list.empty() ? "" : ",") + item;
  };
  std::size_t next = 0;
  for (const auto& c : channels_) append(channels[next++ % n], c);
  for (const auto& p : patterns_) append(patterns[next++ % n], p);
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
