#pragma once

#include "ferry/api/connector.hpp"

namespace ferry::redis {

// Every task gets the connector's config; Kafka's consumer group spreads the partitions.
class redis_sink_connector final : public api::sink_connector {
 public:
  void start(const api::config_map& config) override;
  std::vector<api::config_map> task_configs(int max_tasks) override;
  void stop() override {}

 private:
  api::config_map config_;
};

}  // namespace ferry::redis
