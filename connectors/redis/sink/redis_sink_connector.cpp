#include "sink/redis_sink_connector.hpp"

#include "sink/redis_sink_config.hpp"

namespace ferry::redis {

void redis_sink_connector::start(const api::config_map& config) {
  redis_sink_config::parse(config);  // fail early with a config_error
  config_ = config;
}

std::vector<api::config_map> redis_sink_connector::task_configs(int max_tasks) {
  return std::vector<api::config_map>(static_cast<std::size_t>(std::max(max_tasks, 1)), config_);
}

}  // namespace ferry::redis
