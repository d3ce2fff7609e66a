#include "stream_source/stream_ids.hpp"

#include <charconv>
#include <map>

#include "common/fnv1a.hpp"
#include "ferry/clients/redis_cluster.hpp"

namespace ferry::redis {

namespace {

std::optional<std::uint64_t> parse_u64(std::string_view s) {
  if (s.empty()) return std::nullopt;
  std::uint64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

}  // namespace

std::optional<stream_id> parse_stream_id(std::string_view text) {
  auto dash = text.find('-');
  auto ms = parse_u64(text.substr(0, dash));
  if (!ms) return std::nullopt;
  if (dash == std::string_view::npos) return stream_id{*ms, 0};
  auto seq = parse_u64(text.substr(dash + 1));
  if (!seq) return std::nullopt;
  return stream_id{*ms, *seq};
}

bool id_after(std::string_view a, std::string_view b) {
  auto x = parse_stream_id(a);
  auto y = parse_stream_id(b);
  if (!x) return false;
  if (!y) return true;
  return *x > *y;
}

std::uint64_t stream_hash(std::string_view key) {
  return fnv1a64(key);
}

std::vector<std::vector<std::size_t>> xread_groups(const std::vector<std::string>& keys,
                                                   bool cluster) {
  std::vector<std::vector<std::size_t>> out;
  if (keys.empty()) return out;
  if (!cluster) {
    out.emplace_back();
    for (std::size_t i = 0; i < keys.size(); ++i) out.back().push_back(i);
    return out;
  }
  std::map<int, std::size_t> group_of_slot;
  for (std::size_t i = 0; i < keys.size(); ++i) {
    int slot = clients::cluster::key_slot(keys[i]);
    auto [it, added] = group_of_slot.try_emplace(slot, out.size());
    if (added) out.emplace_back();
    out[it->second].push_back(i);
  }
  return out;
}

}  // namespace ferry::redis
