#pragma once

#include <memory>
#include <string>

#include "ferry/core/task_runner.hpp"
#include "ferry/storage/kafka_stores.hpp"

namespace ferry::core {

// The source loop: poll() -> convert -> produce; an offset becomes committable only when the
// producer acknowledged its record and every earlier record of the same source partition
// (submitted_records). Committable offsets go to the offset store every
// offset.flush.interval.ms and at shutdown, then the task's commit() runs.
// With the worker's exactly.once.source.support=enabled (distributed mode) the task instead owns
// a transactional producer (transactional.id <group.id>-<connector>-<task>): each transaction
// holds one poll's records (transaction.boundary=poll) or those of an interval, and the source
// offsets of those records written to the offsets topic through the same producer, so records
// and offsets commit together; commit_record() and commit() run after the commit. Topics are
// created before their first record when the connector's topic.creation.* keys say so.
class source_task_runner final : public task_runner {
 public:
  using task_runner::task_runner;

 protected:
  void run() override;

 private:
  // The connector's own offsets topic (offsets.storage.topic), created compacted when missing
  // and read to its end; null when it is the worker's.
  std::unique_ptr<storage::kafka_offset_store> open_connector_offsets(const std::string& topic);
};

}  // namespace ferry::core
