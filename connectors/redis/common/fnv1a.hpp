#pragma once

#include <cstdint>
#include <string_view>

namespace ferry::redis {

// FNV-1a, 64 bits: stable across builds and restarts, unlike std::hash. Used where a hash is
// stored or must agree between tasks (key digests, which task reads which stream).
inline std::uint64_t fnv1a64(std::string_view data) {
  std::uint64_t h = 14695981039346656037ULL;
  for (unsigned char c : data) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  return h;
}

}  // namespace ferry::redis
