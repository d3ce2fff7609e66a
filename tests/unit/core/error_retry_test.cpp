#include <doctest/doctest.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "ferry/api/errors.hpp"
#include "ferry/core/error_handling.hpp"

using namespace std::chrono_literals;
using ferry::api::config_map;
using ferry::core::error_handler;
using ferry::core::error_policy;
using ferry::core::error_stage;
using ferry::core::retry_delay;
using std::chrono::milliseconds;

namespace {

constexpr auto k_forever = milliseconds::max();

// A handler whose waits are recorded instead of slept; `budget` is how many waits succeed
// before it reports a stop.
struct recording_handler {
  explicit recording_handler(ferry::api::config_map config, int budget = 1000)
      : counters("c", 0, true),
        handler(error_policy::from(config), "c", 0, {}, {}, counters),
        budget(budget) {
    handler.set_wait([this](milliseconds d) {
      waits.push_back(d);
      return --this->budget >= 0;
    });
  }
  ferry::core::task_metrics counters;
  error_handler handler;
  int budget;
  std::vector<milliseconds> waits;
};

}  // namespace

TEST_CASE("retry delays double from 300 ms, as Kafka Connect's") {
  CHECK(retry_delay(1, 60000ms, k_forever, 0) == 300ms);
  CHECK(retry_delay(2, 60000ms, k_forever, 0) == 600ms);
  CHECK(retry_delay(3, 60000ms, k_forever, 0) == 1200ms);
  CHECK(retry_delay(8, 60000ms, k_forever, 0) == 38400ms);
}

TEST_CASE("a delay over errors.retry.delay.max.ms becomes a random wait below the maximum") {
  CHECK(retry_delay(9, 60000ms, k_forever, 12345) == 12345ms);     // 76800 > 60000
  CHECK(retry_delay(9, 60000ms, k_forever, 60000 + 7) == 7ms);     // random % max
  CHECK(retry_delay(1, 100ms, k_forever, 250) == 50ms);            // 300 > 100
  CHECK(retry_delay(2, 1000ms, k_forever, 999999) == 600ms);       // under the cap: exact
  CHECK(retry_delay(1000, 60000ms, k_forever, 59999) == 59999ms);  // no overflow
  CHECK(retry_delay(1000000, 60000ms, k_forever, 1) == 1ms);
}

TEST_CASE("a retry delay never passes the deadline") {
  CHECK(retry_delay(3, 60000ms, 1000ms, 0) == 1000ms);
  CHECK(retry_delay(1, 60000ms, 299ms, 0) == 299ms);
  CHECK(retry_delay(1, 60000ms, 0ms, 0) == 0ms);
  CHECK(retry_delay(1, 60000ms, -5ms, 0) == 0ms);
}

TEST_CASE("run_with_retry retries a retriable error until the operation succeeds") {
  recording_handler h(config_map{{"errors.retry.timeout", "-1"}});
  int calls = 0;
  auto result = h.handler.run_with_retry(error_stage::transformation, [&] {
    if (++calls < 4) throw ferry::api::retriable_error("busy");
    return std::string("done");
  });
  CHECK(result == "done");
  CHECK(calls == 4);
  CHECK(h.waits == std::vector<milliseconds>{300ms, 600ms, 1200ms});
  CHECK(h.counters.retries.load() == 3);
}

TEST_CASE("errors.retry.timeout=0 (the default) never retries") {
  recording_handler h(config_map{});
  int calls = 0;
  CHECK_THROWS_AS(h.handler.run_with_retry(error_stage::value_converter,
                                           [&]() -> int {
                                             ++calls;
                                             throw ferry::api::retriable_error("busy");
                                           }),
                  ferry::api::retriable_error);
  CHECK(calls == 1);
  CHECK(h.waits.empty());
  CHECK(h.counters.retries.load() == 0);
}

TEST_CASE("errors that are not retriable pass through at once") {
  recording_handler h(config_map{{"errors.retry.timeout", "-1"}});
  int calls = 0;
  CHECK_THROWS_AS(h.handler.run_with_retry(error_stage::key_converter,
                                           [&]() -> int {
                                             ++calls;
                                             throw ferry::api::data_error("bad bytes");
                                           }),
                  ferry::api::data_error);
  CHECK(calls == 1);
  CHECK(h.waits.empty());
}

TEST_CASE("retries end with the retriable error once errors.retry.timeout has passed") {
  recording_handler h(config_map{{"errors.retry.timeout", "50"}});
  int calls = 0;
  const auto start = std::chrono::steady_clock::now();
  // The recording wait does not sleep, so the operation itself takes the time.
  CHECK_THROWS_WITH_AS(h.handler.run_with_retry(error_stage::transformation,
                                                [&]() -> int {
                                                  ++calls;
                                                  std::this_thread::sleep_for(20ms);
                                                  throw ferry::api::retriable_error("still busy");
                                                }),
                       "still busy", ferry::api::retriable_error);
  const auto took = std::chrono::steady_clock::now() - start;
  CHECK(calls >= 2);
  CHECK(calls <= 4);
  CHECK(took >= 50ms);
  for (auto w : h.waits) CHECK(w <= 50ms);  // capped by what was left of the timeout
}

TEST_CASE("a stop during a retry wait interrupts the operation") {
  recording_handler h(config_map{{"errors.retry.timeout", "-1"}}, /*budget=*/1);
  int calls = 0;
  CHECK_THROWS_AS(h.handler.run_with_retry(error_stage::transformation,
                                           [&]() -> int {
                                             ++calls;
                                             throw ferry::api::retriable_error("busy");
                                           }),
                  ferry::core::retry_interrupted);
  CHECK(calls == 2);  // the first wait succeeded, the second reported the stop
  CHECK(h.counters.retries.load() == 1);
}

TEST_CASE("a wait between retries sleeps in slices and holds while the task is paused") {
  std::vector<milliseconds> slices;
  std::vector<bool> reported;
  int paused_checks = 0;
  bool stop = false;
  ferry::core::retry_wait_hooks hooks{
      .stopping = [&] { return stop; },
      .paused = [&] { return ++paused_checks >= 2 && paused_checks <= 4; },  // checks 2-4
      .report_pause = [&](bool paused) { reported.push_back(paused); },
      .sleep =
          [&](milliseconds d) {
            slices.push_back(d);
            std::this_thread::sleep_for(d);
          }};
  const auto start = std::chrono::steady_clock::now();
  CHECK(ferry::core::wait_between_retries(250ms, hooks));
  const auto took = std::chrono::steady_clock::now() - start;
  CHECK(reported == std::vector<bool>{true, false});
  // 100 ms of the wait, then three 100 ms slices paused (not counted), then the other 150 ms.
  REQUIRE(slices.size() >= 5);
  CHECK(slices[0] == 100ms);
  CHECK(slices[1] == 100ms);
  CHECK(slices[2] == 100ms);
  CHECK(slices[3] == 100ms);
  CHECK(slices.back() <= 100ms);
  CHECK(took >= 550ms);
  CHECK(took < 2000ms);

  // A stop ends the wait, paused or not.
  paused_checks = 0;
  slices.clear();
  hooks.sleep = [&](milliseconds d) {
    slices.push_back(d);
    stop = true;
  };
  CHECK_FALSE(ferry::core::wait_between_retries(60000ms, hooks));
  CHECK(slices.size() == 1);
}
