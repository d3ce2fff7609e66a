#include <doctest/doctest.h>

#include "ferry/api/errors.hpp"
#include "ferry/core/auto_restart.hpp"

using namespace std::chrono_literals;
using ferry::core::restart_backoff;
using ferry::core::restart_policy;

TEST_CASE("auto restart is off unless asked for") {
  auto p = restart_policy::from({});
  CHECK_FALSE(p.enabled);
  restart_backoff b(p);
  CHECK_FALSE(b.next(0s).has_value());
}

TEST_CASE("auto restart delays double up to the cap and reset after a healthy run") {
  restart_backoff b(restart_policy::from({{"auto.restart.enable", "true"},
                                          {"auto.restart.initial.delay.ms", "100"},
                                          {"auto.restart.max.delay.ms", "500"}}));
  CHECK(b.next(0s) == 100ms);
  CHECK(b.next(0s) == 200ms);
  CHECK(b.next(0s) == 400ms);
  CHECK(b.next(0s) == 500ms);
  CHECK(b.next(0s) == 500ms);
  CHECK(b.attempt() == 5);
  CHECK(b.describe(500ms).find("attempt 5,") != std::string::npos);
  CHECK(b.next(2s) == 100ms);  // ran longer than the cap: healthy, start over
  CHECK(b.attempt() == 1);
}

TEST_CASE("auto restart stops after max attempts") {
  restart_backoff b(
      restart_policy::from({{"auto.restart.enable", "true"}, {"auto.restart.max.attempts", "2"}}));
  CHECK(b.next(0s) == 1000ms);
  CHECK(b.next(0s) == 2000ms);
  CHECK_FALSE(b.next(0s).has_value());
}

TEST_CASE("auto restart settings are checked") {
  CHECK_THROWS_AS(restart_policy::from({{"auto.restart.enable", "maybe"}}),
                  ferry::api::config_error);
  CHECK_THROWS_AS(restart_policy::from({{"auto.restart.initial.delay.ms", "0"}}),
                  ferry::api::config_error);
  CHECK_THROWS_AS(restart_policy::from({{"auto.restart.max.attempts", "-2"}}),
                  ferry::api::config_error);
}
