#pragma once

#include "ferry/api/connector.hpp"

namespace ferry::redis {

// Spreads the configured lists over at most tasks.max tasks, round-robin; each list is read by
// exactly one task, so its processing list has one writer.
class list_source_connector final : public api::source_connector {
 public:
  void start(const api::config_map& config) override;
  std::vector<api::config_map> task_configs(int max_tasks) override;
  void stop() override {}

 private:
  api::config_map config_;
  std::vector<std::string> lists_;
};

}  // namespace ferry::redis
