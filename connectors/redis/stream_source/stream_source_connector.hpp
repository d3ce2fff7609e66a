#pragma once

#include "ferry/api/connector.hpp"

namespace ferry::redis {

// Spreads the streams named in redis.stream.name over at most tasks.max tasks, round-robin.
// With redis.stream.pattern it makes tasks.max tasks, each of which scans for the pattern and
// keeps the streams whose key hash falls to it (stream_ids.hpp), so the connector itself needs
// no Redis connection and no reconfiguration when streams appear. Each task config carries its
// index and the task count (ferry.stream.task.*), and the full list of named streams.
class stream_source_connector final : public api::source_connector {
 public:
  void start(const api::config_map& config) override;
  std::vector<api::config_map> task_configs(int max_tasks) override;
  void stop() override {}

 private:
  api::config_map config_;
  std::vector<std::string> streams_;
  bool pattern_ = false;
};

}  // namespace ferry::redis
