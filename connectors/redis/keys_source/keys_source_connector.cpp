#include "keys_source/keys_source_connector.hpp"

#include "keys_source/keys_source_config.hpp"

namespace ferry::redis {

void keys_source_connector::start(const api::config_map& config) {
  keys_source_config::parse(config);  // a bad config fails the connector, not only its task
  config_ = config;
}

std::vector<api::config_map> keys_source_connector::task_configs(int) {
  return {config_};
}

}  // namespace ferry::redis
