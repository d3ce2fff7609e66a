#pragma once

#include <memory>
#include <string>

#include "ferry/api/connector.hpp"
#include "ferry/clients/redis_connection.hpp"
#include "sink/redis_sink_config.hpp"

namespace ferry::redis {

// Writes each put() batch as one pipeline, commands in record order (a tombstone after a write
// of the same key wins, unlike redis-kafka-connect's deletes-first batches), and waits for every
// reply before returning: when put() returns, the batch is in Redis, so the runtime may commit
// its offsets. Connection problems and transient server states (LOADING, BUSY, OOM, ...) are
// retriable; a command Redis refuses for the data itself (WRONGTYPE, ...) fails the task.
class redis_sink_task final : public api::sink_task {
 public:
  void start(const api::config_map& config, api::sink_task_context& context) override;
  void put(std::span<const api::sink_record> records) override;
  void stop() override;

 private:
  void append(const api::sink_record& record);
  std::string key_for(const api::sink_record& record, bool with_record_key) const;

  redis_sink_config config_;
  std::unique_ptr<clients::redis_client> connection_;
  clients::redis_pipeline pipeline_;
  std::vector<std::string> scratch_;  // argument storage reused across records
};

}  // namespace ferry::redis
