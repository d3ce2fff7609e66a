#pragma once

#include <librdkafka/rdkafka.h>

#include <memory>
#include <vector>

#include "ferry/api/connector.hpp"
#include "ferry/core/error_handling.hpp"
#include "ferry/core/task_runner.hpp"

namespace ferry::core {

// The sink loop: consume (group connect-<connector>) -> convert -> put(); Kafka offsets are
// committed only for what pre_commit() returns, after put() succeeded, every
// offset.flush.interval.ms, on request, on partition revocation and at shutdown.
// A retriable error from put() pauses the partitions and redelivers the same batch after a
// backoff: nothing is skipped. A record that cannot be converted follows errors.tolerance:
// the task fails (none), or the record is skipped — logged, sent to the dead letter queue —
// and its offset committed once the dead letter queue acknowledged it (all).
class sink_task_runner final : public task_runner, private api::sink_task_context {
 public:
  using task_runner::task_runner;

 protected:
  void run() override;

 private:
  std::vector<api::topic_partition> assignment() const override { return assignment_; }
  void request_commit() override { commit_requested_ = true; }
  void offset(const api::offset_map& offsets) override;

  static void on_rebalance(rd_kafka_t* rk, rd_kafka_resp_err_t err,
                           rd_kafka_topic_partition_list_t* partitions, void* opaque);
  void consume(api::sink_task& task);  // the loop, until a stop request or an exception
  void handle_rebalance(rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* partitions);
  void commit(bool sync);
  void refresh_lag();  // the consumer lag of every assigned partition into the task's metrics
  // Applies the error policy to a record the converters refused (throws unless tolerated).
  void skip_errant(error_stage stage, std::string_view cls, const rd_kafka_message_t* msg,
                   const rd_kafka_headers_t* headers, std::int64_t timestamp_ms,
                   const std::exception& error);
  // A record that will not be written (filtered out, or tolerated by the error policy): its
  // offset passes once everything consumed before it is in Redis.
  void mark_not_written(const rd_kafka_message_t* msg);
  void set_paused(bool paused);

  rd_kafka_t* consumer_ = nullptr;
  api::sink_task* sink_ = nullptr;
  std::vector<api::topic_partition> assignment_;
  api::offset_map current_;  // next offset per partition, for records put() accepted
  api::offset_map skipped_;  // next offset past records skipped by the error policy
  std::unique_ptr<error_handler> errors_;
  bool commit_requested_ = false;
  bool opening_ = false;  // inside sink_task::open(): offset() positions the new partitions
  api::offset_map open_seeks_;
  bool paused_ = false;
  // Records per put(): the consumer's max.poll.records (a Java consumer setting librdkafka does
  // not know, read here instead), ferry's default otherwise.
  int max_batch_ = 0;
};

}  // namespace ferry::core
