#include "ferry/core/submitted_records.hpp"

namespace ferry::core {

submitted_records::entry* submitted_records::submit(api::source_record record) {
  // Consecutive records nearly always share their partition: compare with the last one before
  // serialising the partition to find its queue.
  if (!last_ || last_->partition != record.source_partition) {
    auto key = record.source_partition.is_null() ? std::string{} : record.source_partition.dump();
    auto [it, inserted] = partitions_.try_emplace(std::move(key));
    if (inserted) it->second.partition = record.source_partition;
    last_ = &it->second;
  }
  auto& q = *last_;
  auto& e = q.entries.emplace_back();
  e.record = std::move(record);
  e.queue = &q;
  ++outstanding_;
  return &e;
}

void submitted_records::acked(entry* e) {
  e->acked = true;
  auto& q = *e->queue;
  if (&q.entries.front() != e) {  // waits for earlier records: keep only its offset
    auto offset = std::move(e->record.source_offset);
    e->record = api::source_record{};
    e->record.source_offset = std::move(offset);
    return;
  }
  bool advanced = false;
  while (!q.entries.empty() && q.entries.front().acked) {
    auto& front = q.entries.front();
    if (!q.partition.is_null()) {
      q.committable = std::move(front.record.source_offset);
      advanced = true;
    }
    q.entries.pop_front();
    --outstanding_;
  }
  if (advanced && !q.listed) {
    q.listed = true;
    advanced_.push_back(&q);
  }
}

std::vector<storage::source_offset> submitted_records::take_committable() {
  std::vector<storage::source_offset> out;
  out.reserve(advanced_.size());
  for (auto* q : advanced_) {
    q->listed = false;
    if (q->committable.is_null()) continue;
    out.push_back({q->partition, std::move(q->committable)});
    q->committable = nullptr;
  }
  advanced_.clear();
  return out;
}

}  // namespace ferry::core
