#pragma once

#include <chrono>
#include <mutex>
#include <optional>
#include <string>

namespace ferry::core {

// What a herder's control thread is busy with, so a REST request that times out can say what
// the worker is stuck on (Kafka's KAFKA-15563 message). Thread-safe.
class herder_stage {
 public:
  // Marks the control thread busy with `what` until the scope ends; scopes nest (the outer
  // stage comes back, with its own start time, when an inner one ends).
  class scope {
   public:
    scope(herder_stage& stage, std::string what);
    ~scope();
    scope(const scope&) = delete;
    scope& operator=(const scope&) = delete;

   private:
    herder_stage& stage_;
    std::optional<std::pair<std::string, std::chrono::system_clock::time_point>> previous_;
  };

  // "Request timed out. The worker is currently stopping connector x, which began at
  // 2026-11-27T06:50:01.123Z", or "Request timed out" when it is idle.
  std::string timeout_message() const;

 private:
  mutable std::mutex mutex_;
  std::optional<std::pair<std::string, std::chrono::system_clock::time_point>> current_;
};

}  // namespace ferry::core
