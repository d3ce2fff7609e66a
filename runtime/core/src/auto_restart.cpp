#include "ferry/core/auto_restart.hpp"

#include <algorithm>

#include "ferry/core/connector_config.hpp"

namespace ferry::core {

restart_policy restart_policy::from(const api::config_map& config) {
  static const api::config_def def = [] {
    api::config_def d;
    define_keys(d);
    return d;
  }();
  auto c = parse_checked(def, config);
  restart_policy p;
  p.enabled = c.get_bool("auto.restart.enable");
  p.initial_delay = std::chrono::milliseconds(c.get_long("auto.restart.initial.delay.ms"));
  p.max_delay =
      std::max(std::chrono::milliseconds(c.get_long("auto.restart.max.delay.ms")), p.initial_delay);
  p.max_attempts = c.get_int("auto.restart.max.attempts");
  return p;
}

void restart_policy::define_keys(api::config_def& def) {
  const std::string g = "Automatic restart (ferry)";
  def.define({.name = "auto.restart.enable",
              .type = api::config_type::boolean,
              .default_value = "false",
              .importance = api::importance_level::medium,
              .doc = "Restart a FAILED task or connector by itself, with exponential backoff.",
              .group = g});
  def.define({.name = "auto.restart.initial.delay.ms",
              .type = api::config_type::long_,
              .default_value = "1000",
              .importance = api::importance_level::low,
              .doc = "Delay before the first automatic restart; it doubles after each failure.",
              .group = g,
              .validate = api::at_least(1)});
  def.define({.name = "auto.restart.max.delay.ms",
              .type = api::config_type::long_,
              .default_value = "60000",
              .importance = api::importance_level::low,
              .doc = "Cap of the restart delay. A run longer than this counts as healthy and "
                     "resets the delay.",
              .group = g,
              .validate = api::at_least(1)});
  def.define({.name = "auto.restart.max.attempts",
              .type = api::config_type::int_,
              .default_value = "-1",
              .importance = api::importance_level::low,
              .doc = "Automatic restarts in a row before staying FAILED; -1: no limit.",
              .group = g,
              .validate = api::at_least(-1)});
}

std::optional<std::chrono::milliseconds> restart_backoff::next(
    std::chrono::steady_clock::duration ran) {
  if (!policy_.enabled) return std::nullopt;
  if (ran > policy_.max_delay) attempt_ = 0;  // it ran fine for a while
  if (policy_.max_attempts >= 0 && attempt_ >= policy_.max_attempts) return std::nullopt;
  auto delay = policy_.initial_delay;
  for (int i = 0; i < attempt_ && delay < policy_.max_delay; ++i) delay *= 2;
  ++attempt_;
  return std::min(delay, policy_.max_delay);
}

std::string restart_backoff::describe(std::chrono::milliseconds delay) const {
  std::string of =
      policy_.max_attempts >= 0 ? " of " + std::to_string(policy_.max_attempts) : std::string();
  return "ferry restarts it automatically in " + std::to_string(delay.count()) + " ms (attempt " +
         std::to_string(attempt_) + of + ", auto.restart.enable=true)";
}

}  // namespace ferry::core
