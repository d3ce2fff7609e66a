#include "ferry/core/submitted_records.hpp"

namespace ferry::core {

submitted_records::entry* submitted_records::submit(api::source_record record) {
  auto key = record.source_partition.is_null() ? std::string{} : record.source_partition.dump();
  auto& q = partitions_[key];
  q.push_back(entry{std::move(record), false});
  ++outstanding_;
  return &q.back();
}

}  // namespace ferry::core
