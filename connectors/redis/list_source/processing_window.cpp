#include "list_source/processing_window.hpp"

#include <algorithm>

namespace ferry::redis {

void processing_window::reset(std::int64_t found) {
  head_ = 0;
  acked_.assign(static_cast<std::size_t>(std::max<std::int64_t>(found, 0)), false);
  redeliver_next_ = 0;
  redeliver_end_ = static_cast<std::int64_t>(acked_.size());
}

std::int64_t processing_window::appended(std::int64_t count) {
  auto first = tail();
  acked_.insert(acked_.end(), static_cast<std::size_t>(count), false);
  return first;
}

void processing_window::acknowledge(std::int64_t position) {
  if (position < head_ || position >= tail()) return;
  acked_[static_cast<std::size_t>(position - head_)] = true;
}

void processing_window::delivered_through(std::int64_t position) {
  auto last = std::min(position, tail() - 1);
  for (auto p = head_; p <= last; ++p) acked_[static_cast<std::size_t>(p - head_)] = true;
}

std::int64_t processing_window::trimmable() const {
  std::int64_t n = 0;
  for (bool a : acked_) {
    if (!a) break;
    ++n;
  }
  return n;
}

void processing_window::trimmed(std::int64_t count) {
  count = std::min<std::int64_t>(count, static_cast<std::int64_t>(acked_.size()));
  acked_.erase(acked_.begin(), acked_.begin() + count);
  head_ += count;
}

}  // namespace ferry::redis
