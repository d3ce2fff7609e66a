#include "stream_source/stream_source_connector.hpp"

#include <algorithm>

#include "common/redis_config.hpp"
#include "stream_source/stream_source_config.hpp"

namespace ferry::redis {

void stream_source_connector::start(const api::config_map& config) {
  auto parsed = stream_source_config::parse(config);
  streams_ = parsed.streams;
  pattern_ = !parsed.pattern.empty();
  config_ = config;
}

std::vector<api::config_map> stream_source_connector::task_configs(int max_tasks) {
  auto wanted = static_cast<std::size_t>(std::max(max_tasks, 1));
  auto n = pattern_ ? wanted : std::min(wanted, std::max<std::size_t>(streams_.size(), 1));
  std::vector<std::string> lists(n);
  deal_round_robin(streams_, lists);
  std::vector<std::string> all(1);
  deal_round_robin(streams_, all);
  std::vector<api::config_map> out;
  for (std::size_t i = 0; i < n; ++i) {
    auto c = config_;
    c["redis.stream.name"] = lists[i];
    c[k_task_index_key] = std::to_string(i);
    c[k_task_count_key] = std::to_string(n);
    c[k_listed_streams_key] = all.front();
    out.push_back(std::move(c));
  }
  return out;
}

}  // namespace ferry::redis
