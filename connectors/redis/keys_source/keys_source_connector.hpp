#pragma once

#include "ferry/api/connector.hpp"

namespace ferry::redis {

// One task whatever tasks.max says: every subscriber of a server receives every keyspace
// notification, so a second task would only write each change twice.
class keys_source_connector final : public api::source_connector {
 public:
  void start(const api::config_map& config) override;
  std::vector<api::config_map> task_configs(int max_tasks) override;
  void stop() override {}

 private:
  api::config_map config_;
};

}  // namespace ferry::redis
