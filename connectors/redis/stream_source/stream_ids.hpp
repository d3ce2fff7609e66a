#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

// Pure helpers of the stream source (no I/O): entry ids, which task reads which stream, which
// streams may share one XREAD on a Redis Cluster.
namespace ferry::redis {

struct stream_id {
  std::uint64_t ms = 0;
  std::uint64_t seq = 0;
  auto operator<=>(const stream_id&) const = default;
};

// "<ms>-<seq>" or "<ms>" (seq 0); nullopt for anything else ("$", ">", "", "1-x").
std::optional<stream_id> parse_stream_id(std::string_view text);
// Whether entry id a comes after b; ids that do not parse never do.
bool id_after(std::string_view a, std::string_view b);

// A hash of a stream key that every worker computes alike (FNV-1a, 64 bits).
std::uint64_t stream_hash(std::string_view key);
// Whether task `index` of `count` reads the stream `key` found by redis.stream.pattern.
inline bool task_owns_stream(std::string_view key, int index, int count) {
  return count <= 1 ||
         stream_hash(key) % static_cast<std::uint64_t>(count) == static_cast<std::uint64_t>(index);
}

// Groups stream positions so that each group may be one XREAD: all in one group on a single
// server; one group per hash slot on a Redis Cluster (a command cannot span slots). Groups come
// in order of their first stream; positions keep their order inside a group.
std::vector<std::vector<std::size_t>> xread_groups(const std::vector<std::string>& keys,
                                                   bool cluster);

}  // namespace ferry::redis
