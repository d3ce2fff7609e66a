#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "ferry/api/config_def.hpp"

namespace ferry::core {

// Opt-in automatic restart of a failed task or connector (Kafka Connect has none; its users
// script restarts over REST). Connector keys: auto.restart.enable (false),
// auto.restart.initial.delay.ms (1000), auto.restart.max.delay.ms (60000: the delay doubles up
// to this cap), auto.restart.max.attempts (-1: no limit). A run that lasted longer than the cap
// counts as healthy: the next failure starts again from the initial delay.
struct restart_policy {
  bool enabled = false;
  std::chrono::milliseconds initial_delay{1000};
  std::chrono::milliseconds max_delay{60000};
  int max_attempts = -1;

  // Throws api::config_error naming the key on a bad value.
  static restart_policy from(const api::config_map& config);
  static void define_keys(api::config_def& def);
};

// The restarts of one task or connector.
class restart_backoff {
 public:
  explicit restart_backoff(restart_policy policy) : policy_(policy) {}
  // After a failure of a run that lasted `ran`: the delay before the next attempt, or nullopt
  // when there is none (disabled, or attempts used up).
  std::optional<std::chrono::milliseconds> next(std::chrono::steady_clock::duration ran);
  int attempt() const { return attempt_; }
  // The sentence added to the FAILED status trace while a restart is pending.
  std::string describe(std::chrono::milliseconds delay) const;

 private:
  restart_policy policy_;
  int attempt_ = 0;
};

}  // namespace ferry::core
