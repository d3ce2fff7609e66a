#pragma once

#include <memory>
#include <optional>

#include "ferry/api/connector.hpp"
#include "ferry/clients/redis_connection.hpp"
#include "sink/command_builder.hpp"
#include "sink/redis_sink_config.hpp"

namespace ferry::redis {

// Writes each put() batch as one pipeline built by command_builder (commands in record order,
// TTLs atomic with their writes), and waits for every reply before returning: when put()
// returns, the batch is in Redis (and on redis.wait.replicas replicas), so the runtime may
// commit its offsets. Connection problems, transient server states (-OOM, -LOADING, -BUSY,
// ...) and too few WAIT acknowledgements are retriable: the runtime backs off and hands the
// same batch again, so writes are at-least-once (XADD/RPUSH may repeat). A command Redis
// refuses for the data itself (-WRONGTYPE, ...) fails the task. Used by the task's thread only.
class redis_sink_task final : public api::sink_task {
 public:
  void start(const api::config_map& config, api::sink_task_context& context) override;
  void put(std::span<const api::sink_record> records) override;
  void stop() override;

 private:
  redis_sink_config config_;
  std::optional<command_builder> builder_;
  std::unique_ptr<clients::redis_client> connection_;
  clients::redis_pipeline pipeline_;  // reused: its buffer keeps its capacity across batches
};

}  // namespace ferry::redis
