#pragma once

#include <librdkafka/rdkafka.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <exception>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include "ferry/api/config_def.hpp"
#include "ferry/api/errors.hpp"
#include "ferry/clients/kafka_client.hpp"
#include "ferry/core/metrics.hpp"

namespace ferry::core {

// Kafka Connect's error stages (KIP-298), named as in its logs and dead letter queue headers.
enum class error_stage {
  key_converter,
  value_converter,
  header_converter,
  transformation,
  kafka_produce
};
const char* stage_name(error_stage s);  // "VALUE_CONVERTER", ...

// A connector's errors.* settings (Kafka's ConnectorConfig / SinkConnectorConfig keys).
struct error_policy {
  bool tolerate_all = false;  // errors.tolerance=all
  std::chrono::milliseconds retry_timeout{0};
  std::chrono::milliseconds retry_delay_max{60000};
  bool log = false;  // errors.log.enable
  bool log_include_messages = false;
  std::string dlq_topic;  // errors.deadletterqueue.topic.name (sinks only)
  int dlq_replication_factor = 3;
  bool dlq_context_headers = false;

  // Throws api::config_error naming the key on a bad value.
  static error_policy from(const api::config_map& connector_config);
  // The errors.* keys (the dead letter queue ones only for sinks), with their validators.
  static void define_keys(api::config_def& def, bool sink);
};

// Kafka Connect's retry schedule (RetryWithToleranceOperator): the wait before the n-th retry
// (n >= 1) is 300 ms << (n - 1); once that exceeds errors.retry.delay.max.ms it is a random wait
// below that maximum (`random` picks it: random % max); never past the deadline, `until_deadline`
// from now (milliseconds::max() when errors.retry.timeout=-1).
inline constexpr std::chrono::milliseconds k_retry_delay_min{300};
std::chrono::milliseconds retry_delay(int retry, std::chrono::milliseconds delay_max,
                                      std::chrono::milliseconds until_deadline,
                                      std::uint64_t random);

// What a task runner lends to the waits between retries.
struct retry_wait_hooks {
  std::function<bool()> stopping;
  std::function<bool()> paused;  // the connector's target state is PAUSED
  std::function<void(bool paused)> report_pause;
  std::function<void(std::chrono::milliseconds)> sleep;  // returns early on a stop request
};
// One wait between retries: sleeps `d` in slices of at most 100 ms; a pause holds the retries
// (reported once each way) until the task is resumed, the hold not counting towards `d`. Returns
// false as soon as the task is stopping.
bool wait_between_retries(std::chrono::milliseconds d, const retry_wait_hooks& hooks);

// Thrown by error_handler::run_with_retry when the task stops while an operation waits for its
// next attempt: the record is neither written nor skipped, and its offset is not committed, so it
// is processed again when the task runs again.
class retry_interrupted : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// How a failed record looked in Kafka: the consumed message of a sink, or what a source was
// about to produce (offset -1). Views; valid during handle().
struct errant_record {
  std::string_view topic;
  std::int32_t partition = -1;
  std::int64_t offset = -1;
  std::int64_t timestamp_ms = -1;
  std::optional<std::string_view> key;
  std::optional<std::string_view> value;
  const rd_kafka_headers_t* headers = nullptr;  // copied into the dead letter record
};

// Applies a connector's error policy to records that failed in conversion, transformation or
// (sources) production. One per task, used by the task's thread only; the counters may be
// read from any thread.
class error_handler {
 public:
  // `producer_config` is the worker's producer config (for the dead letter queue), `admin` its
  // admin config (to create the dead letter topic when missing).
  error_handler(error_policy policy, std::string connector, int task,
                clients::client_config producer_config, clients::client_config admin,
                task_metrics& counters);
  ~error_handler();
  error_handler(const error_handler&) = delete;
  error_handler& operator=(const error_handler&) = delete;

  const error_policy& policy() const { return policy_; }

  // Sleeps up to the given time; returns false when the task is stopping (then no retry
  // follows). The runners wait on their stop condition; the default just sleeps.
  using wait_function = std::function<bool(std::chrono::milliseconds)>;
  void set_wait(wait_function wait) { wait_ = std::move(wait); }

  // Whether errors.retry.timeout allows any retry (it is not 0).
  bool retries() const { return policy_.retry_timeout.count() != 0; }

  // Runs one stage's operation, fn(), for one record, as Kafka Connect's RetryWithToleranceOperator
  // does: when fn throws api::retriable_error it is called again after retry_delay(), until
  // errors.retry.timeout has passed since the first attempt; then that error is rethrown, for the
  // caller to hand to handle(). Other exceptions pass through at once, unretried. Throws
  // retry_interrupted when the task stops during a wait. fn must be callable again after a
  // failure (start from the record as it was).
  template <typename Fn>
  decltype(auto) run_with_retry(error_stage stage, Fn&& fn) {
    if (!retries()) return fn();
    const auto start = std::chrono::steady_clock::now();
    for (int retry = 1;; ++retry) {
      try {
        return fn();
      } catch (const api::retriable_error& e) {
        backoff(stage, start, retry, e);  // rethrows when no retry is left
      }
    }
  }

  // A record failed at `stage` in `cls` (the converter's or transform's class). With
  // errors.tolerance=none this throws api::connect_error ("Tolerance exceeded in error
  // handler"), which fails the task. With all it logs the failure (errors.log.enable), sends the
  // record to the dead letter queue when one is set, counts it, and returns: the caller skips
  // the record.
  void handle(error_stage stage, std::string_view cls, const errant_record& record,
              const std::exception& error);

  // Waits until Kafka acknowledged every dead letter record reported so far; throws
  // api::connect_error when one was refused or the wait exceeds `timeout`, so a sink never
  // commits past a record that neither reached Redis nor the dead letter queue.
  void flush(std::chrono::milliseconds timeout);

 private:
  void send_to_dead_letter_queue(error_stage stage, std::string_view cls,
                                 const errant_record& record, const std::exception& error);
  static void on_delivery(rd_kafka_t*, const rd_kafka_message_t* msg, void* opaque);
  // Called in run_with_retry's catch block: waits before retry number `retry`, or rethrows the
  // error being handled when the deadline has passed.
  void backoff(error_stage stage, std::chrono::steady_clock::time_point start, int retry,
               const api::retriable_error& error);

  error_policy policy_;
  std::string connector_;
  int task_;
  clients::client_config producer_config_;
  clients::client_config admin_;
  clients::kafka_handle dlq_;  // created at the first dead letter
  std::string dlq_error_;      // first refusal, reported by flush()
  task_metrics& counters_;
  wait_function wait_;
  std::uint64_t random_state_;  // for the retry jitter
};

}  // namespace ferry::core
