#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ferry/api/connector.hpp"
#include "ferry/clients/redis_connection.hpp"
#include "sink/command_builder.hpp"
#include "sink/redis_sink_config.hpp"

namespace ferry::redis {

// The Redis key holding the next offset to consume of one partition, for redis.exactly.once:
// ferry:offsets:{<connector>}:<topic>:<partition>. The hash tag keeps a connector's offset
// keys in one slot.
std::string offset_key(const std::string& connector, const api::topic_partition& tp);

// Writes each put() batch as one pipeline built by command_builder (commands in record order,
// TTLs atomic with their writes), and waits for every reply before returning: when put()
// returns, the batch is in Redis (and on redis.wait.replicas replicas), so the runtime may
// commit its offsets. Connection problems, transient server states (-OOM, -LOADING, -BUSY,
// ...) and too few WAIT acknowledgements are retriable: the runtime backs off and hands the
// same batch again, so writes are at-least-once (XADD/RPUSH may repeat). A command Redis
// refuses for the data itself (-WRONGTYPE, ...) fails the task. Used by the task's thread only.
//
// redis.exactly.once: Redis keeps, per partition, the next offset to consume (offset_key()).
// put() is two round trips: WATCH + MGET of the batch's offset keys; then MULTI, the writes of
// the records at or above the stored offsets, SET of the offset keys, EXEC (then WAIT). A
// record below its partition's stored offset is already in Redis and is skipped, so a batch
// the runtime hands again (after a lost reply, a retriable error, a revocation or a crash)
// adds nothing twice; if another writer (a zombie task) changes an offset key in between,
// WATCH aborts the EXEC and the batch is retried against the new offsets. open() resumes the
// assigned partitions at their stored offsets (context.offset()).
class redis_sink_task final : public api::sink_task {
 public:
  void start(const api::config_map& config, api::sink_task_context& context) override;
  void open(std::span<const api::topic_partition> partitions) override;
  void put(std::span<const api::sink_record> records) override;
  void stop() override;

 private:
  // Offsets stored for these keys, -1 where none; throws like execute().
  std::vector<std::int64_t> read_offsets(const std::vector<std::string>& keys, bool watch);
  void put_exactly_once(std::span<const api::sink_record> records);

  redis_sink_config config_;
  api::sink_task_context* context_ = nullptr;
  std::optional<command_builder> builder_;
  std::unique_ptr<clients::redis_client> connection_;
  clients::redis_pipeline pipeline_;  // reused: its buffer keeps its capacity across batches
  // Exactly-once, per put(): the batch's partitions, their offset keys, stored and next offsets.
  std::vector<api::topic_partition> partitions_;
  std::vector<std::string> keys_;
  std::vector<std::int64_t> stored_, next_;
  std::vector<std::string> next_text_;
};

}  // namespace ferry::redis
