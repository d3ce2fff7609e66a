#pragma once

#include <string>

#include "ferry/core/task_runner.hpp"

namespace ferry::core {

// The source loop: poll() -> convert -> produce; an offset becomes committable only when the
// producer acknowledged its record and every earlier record of the same source partition
// (submitted_records). Committable offsets go to the offset store every
// offset.flush.interval.ms and at shutdown, then the task's commit() runs.
class source_task_runner final : public task_runner {
 public:
  using task_runner::task_runner;

 protected:
  void run() override;
};

}  // namespace ferry::core
