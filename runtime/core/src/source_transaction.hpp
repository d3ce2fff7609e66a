#pragma once

#include <librdkafka/rdkafka.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "ferry/core/source_connector_config.hpp"
#include "ferry/storage/offset_store.hpp"

namespace ferry::core {

// The Kafka transaction of an exactly-once source task (KIP-618): owns the producer's
// transactional state and the handle of the offsets topic; the task's records and the offsets
// of those records go to Kafka inside one transaction, so they become visible together or not
// at all. Used only by the task's own thread; the producer outlives it.
class source_transaction {
 public:
  source_transaction(rd_kafka_t* producer, exactly_once_settings settings);
  ~source_transaction();
  source_transaction(const source_transaction&) = delete;
  source_transaction& operator=(const source_transaction&) = delete;

  // init_transactions(): fences every older producer with the same transactional.id (a zombie
  // instance of this task) and aborts what it left open. Retries retriable errors until
  // `stopping` says so; throws api::connect_error otherwise.
  void init(const std::function<bool()>& stopping, std::chrono::milliseconds timeout);

  // Begins a transaction unless one is open; call before producing a record.
  void begin_if_needed();
  bool open() const { return open_; }
  std::chrono::steady_clock::time_point began() const { return began_; }

  // Writes the offsets (Kafka Connect's key and value format, partitioned as Java partitions
  // them) to the offsets topic inside the open transaction, then commits it. The caller has
  // flushed the records first, so every record the offsets cover is acknowledged. Throws
  // api::connect_error after aborting when the transaction cannot commit.
  void commit(const std::string& connector, const std::vector<storage::source_offset>& offsets,
              std::chrono::milliseconds timeout);
  // Aborts the open transaction; best effort (a fenced or failed producer cannot).
  void abort(std::chrono::milliseconds timeout) noexcept;

  // A readable explanation of a producer error in this transaction (fencing above all).
  std::string describe(const std::string& what, const std::string& error) const;

 private:
  [[noreturn]] void fail(const std::string& what, rd_kafka_error_t* error);

  rd_kafka_t* producer_;
  exactly_once_settings settings_;
  rd_kafka_topic_t* offsets_topic_ = nullptr;
  bool open_ = false;
  std::chrono::steady_clock::time_point began_{};
};

}  // namespace ferry::core
