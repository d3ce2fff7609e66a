#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>

namespace ferry::redis {

// The elements of one processing list during one epoch, by position: position p is the p-th
// element appended to the processing list since the epoch began (the elements found there at
// its start come first, 0..found-1). Only the task appends (at the tail) and trims (at the
// head), so the element at position p sits at index p - head() of the processing list.
// Tracks which positions Kafka acknowledged; the acknowledged prefix may be trimmed.
// Pure bookkeeping, no I/O; owned by one list source task, used on its thread.
class processing_window {
 public:
  // A new epoch: the processing list holds `found` elements, which are delivered again
  // (redelivery()) before anything new is moved.
  void reset(std::int64_t found);

  // Elements still to deliver again from the epoch's start: [next, end) as positions.
  bool redelivering() const { return redeliver_next_ < redeliver_end_; }
  std::int64_t redeliver_next() const { return redeliver_next_; }
  std::int64_t redeliver_end() const { return redeliver_end_; }
  void redelivered(std::int64_t count) { redeliver_next_ += count; }

  // `count` elements were moved to the tail; returns the position of the first.
  std::int64_t appended(std::int64_t count);

  // Kafka acknowledged the element at `position` (ignored if it was trimmed already or is out of
  // range: a late acknowledgement of an earlier epoch must be checked by the caller).
  void acknowledge(std::int64_t position);
  // Everything up to and including `position` was delivered (the committed source offset;
  // covers records the runtime dropped by a transform or error tolerance without an ack).
  void delivered_through(std::int64_t position);

  // How many elements at the head may be removed now: the acknowledged prefix.
  std::int64_t trimmable() const;
  // They were removed from the processing list (LTRIM succeeded).
  void trimmed(std::int64_t count);

  std::int64_t head() const { return head_; }  // position at index 0 of the processing list
  std::int64_t tail() const { return head_ + static_cast<std::int64_t>(acked_.size()); }
  std::size_t in_flight() const { return acked_.size(); }

 private:
  std::int64_t head_ = 0;
  std::deque<bool> acked_;  // positions [head_, tail())
  std::int64_t redeliver_next_ = 0;
  std::int64_t redeliver_end_ = 0;
};

}  // namespace ferry::redis
