#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "ferry/clients/kafka_client.hpp"

namespace ferry::clients {

struct partition_offset {
  std::string topic;
  std::int32_t partition = 0;
  std::int64_t offset = 0;
};

// Reads and writes a consumer group's committed offsets from outside the group (what Kafka
// Connect's offsets endpoints do for sink connectors). The group must have no active members
// when offsets are written. Every call has a deadline; failures throw api::connect_error.
class group_offsets {
 public:
  group_offsets(const client_config& base, std::string group, std::chrono::milliseconds timeout);

  // Committed offsets of every partition of `topics` (and of the topics matching the regular
  // expression `topics_regex`, when not empty) that has one.
  std::vector<partition_offset> committed(const std::vector<std::string>& topics,
                                          const std::string& topics_regex);
  void commit(const std::vector<partition_offset>& offsets);
  // The earliest offset still in the partition: committing it means "start from the beginning".
  std::int64_t low_watermark(const std::string& topic, std::int32_t partition);

 private:
  std::string group_;
  std::chrono::milliseconds timeout_;
  client_config member_config_;
  kafka_handle consumer_;
};

}  // namespace ferry::clients
