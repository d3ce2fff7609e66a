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
// acknowledged become committable. Owned and used by one source task thread.
class submitted_records {
 public:
  struct entry {
    api::source_record record;
    bool acked = false;
  };

  // Takes the record; the returned pointer stays valid until the entry is committed.
  entry* submit(api::source_record record);
  void ack(entry* e) { e->acked = true; }

  // Removes the acknowledged prefix of every partition and returns the last offset of each
  // (records without a source partition carry no offset and are just dropped). `on_committed`
  // sees each removed record.
  template <typename F>
  std::vector<storage::source_offset> take_committable(F&& on_committed);

  std::size_t outstanding() const { return outstanding_; }

 private:
  std::unordered_map<std::string, std::deque<entry>> partitions_;
  std::size_t outstanding_ = 0;
};

template <typename F>
std::vector<storage::source_offset> submitted_records::take_committable(F&& on_committed) {
  std::vector<storage::source_offset> out;
  for (auto& [key, q] : partitions_) {
    bool have = false;
    json last_partition, last_offset;
    while (!q.empty() && q.front().acked) {
      on_committed(q.front().record);
      if (!q.front().record.source_partition.is_null()) {
        last_partition = std::move(q.front().record.source_partition);
        last_offset = std::move(q.front().record.source_offset);
        have = true;
      }
      q.pop_front();
      --outstanding_;
    }
    if (have) out.push_back({std::move(last_partition), std::move(last_offset)});
  }
  return out;
}

}  // namespace ferry::core
