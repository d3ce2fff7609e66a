#include "list_source/list_source_connector.hpp"

#include <algorithm>

#include "common/redis_config.hpp"
#include "list_source/list_source_config.hpp"

namespace ferry::redis {

void list_source_connector::start(const api::config_map& config) {
  lists_ = list_source_config::parse(config).lists;
  config_ = config;
}

std::vector<api::config_map> list_source_connector::task_configs(int max_tasks) {
  auto n = std::min<std::size_t>(static_cast<std::size_t>(std::max(max_tasks, 1)), lists_.size());
  std::vector<std::string> names(n);
  deal_round_robin(lists_, names);
  std::vector<api::config_map> out;
  for (auto& l : names) {
    auto c = config_;
    c["redis.list.name"] = l;
    out.push_back(std::move(c));
  }
  return out;
}

}  // namespace ferry::redis
