#pragma once

#include <string>
#include <vector>

#include "ferry/api/connector.hpp"

namespace ferry::redis {

// Spreads the channels and patterns over at most tasks.max tasks, round-robin: each one is
// subscribed by exactly one task, so no message reaches Kafka twice.
class pubsub_source_connector final : public api::source_connector {
 public:
  void start(const api::config_map& config) override;
  std::vector<api::config_map> task_configs(int max_tasks) override;
  void stop() override {}

 private:
  api::config_map config_;
  std::vector<std::string> channels_;
  std::vector<std::string> patterns_;
};

}  // namespace ferry::redis
