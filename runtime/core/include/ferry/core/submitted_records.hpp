#pragma once

#include <cstddef>
#include <deque>
#include <string>
#include <unordered_map>
#include <vector>

#include "ferry/api/record.hpp"
#include "ferry/storage/offset_store.hpp"

namespace ferry::core {

// Tracks source records between produce() and Kafka's acknowledgement, per source partition,
// so that only offsets whose records (and every earlier record of the same partition) were
// acknowledged become committable. Acknowledged prefixes are folded into "latest committable
// offset per partition" as soon as they form, so memory is bounded by the records in flight,
// not by the offset commit interval. Owned and used by one source task thread.
class submitted_records {
 public:
  class entry;

  // Takes the record (kept until acknowledged); the pointer stays valid until then.
  entry* submit(api::source_record record);
  // Marks a record acknowledged. `use` sees the record first (the task's commit_record(), or
  // the list where an exactly-once task keeps it until its transaction committed) and may move
  // it away, all but its source_offset; then the record is dropped.
  template <class F>
  void ack(entry* e, F&& use) {
    use(e->record);
    acked(e);
  }
  void ack(entry* e) { acked(e); }

  // The latest committable offset of every partition that advanced since the last call.
  std::vector<storage::source_offset> take_committable();

  std::size_t outstanding() const { return outstanding_; }

 private:
  struct partition_queue;
  void acked(entry* e);

 public:
  class entry {
   private:
    friend class submitted_records;
    api::source_record record;
    partition_queue* queue = nullptr;
    bool acked = false;
  };

 private:
  struct partition_queue {
    json partition;
    std::deque<entry> entries;
    json committable;     // latest acknowledged prefix offset not yet taken; null if none
    bool listed = false;  // in advanced_
  };

  std::unordered_map<std::string, partition_queue> partitions_;
  partition_queue* last_ = nullptr;  // of the last submit(); map nodes do not move
  std::vector<partition_queue*> advanced_;
  std::size_t outstanding_ = 0;
};

}  // namespace ferry::core
