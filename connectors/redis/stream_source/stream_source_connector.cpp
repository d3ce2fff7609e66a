#include "stream_source/stream_source_connector.hpp"

#include <algorithm>

#include "stream_source/stream_source_config.hpp"

namespace ferry::redis {

void stream_source_connector::start(const api::config_map& config) {
  streams_ = stream_source_config::parse(config).streams;
  config_ = config;
}

std::vector<api::config_map> stream_source_connector::task_configs(int max_tasks) {
  auto n = std::min<std::size_t>(static_cast<std::size_t>(std::max(max_tasks, 1)), streams_.size());
  std::vector<std::string> lists(n);
  for (std::size_t i = 0; i < streams_.size(); ++i) {
    auto& l = lists[i % n];
    l += (l.empty() ? "" : ",") + streams_[i];
  }
  std::vector<api::config_map> out;
  for (auto& l : lists) {
    auto c = config_;
    c["redis.stream.name"] = l;
    out.push_back(std::move(c));
  }
  return out;
}

}  // namespace ferry::redis
