#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_set>
#include <utility>

#include "ferry/api/config_def.hpp"
#include "ferry/api/plugin_registry.hpp"
#include "ferry/core/config_providers.hpp"
#include "ferry/core/converters.hpp"
#include "ferry/core/error_handling.hpp"
#include "ferry/core/metrics.hpp"
#include "ferry/core/worker_config.hpp"
#include "ferry/storage/offset_store.hpp"
#include "ferry/storage/states.hpp"
#include "ferry/storage/status_store.hpp"
#include "ferry/transforms/chain.hpp"

namespace ferry::core {

// What every task runner needs from the worker; shared so a runner abandoned after a hung stop
// can never outlive what it uses.
struct task_environment {
  std::shared_ptr<const worker_config> worker;
  std::shared_ptr<storage::offset_store> offsets;
  std::shared_ptr<storage::status_store> statuses;
  std::shared_ptr<const config_providers> providers;  // null: references stay as written
  std::shared_ptr<metrics_registry> metrics;          // null: the herder makes one
};

// Runs `chain` on `record` one transformation at a time, each under `errors`' retries (stage
// TRANSFORMATION), as Kafka Connect runs its TransformationStages: a retry starts that
// transformation again from the record as it was before it, and a failure is reported with that
// transformation's class. Returns false when a transformation dropped the record, or failed:
// then `on_failure(class_name, error)` was called first (it may throw to fail the task). Throws
// retry_interrupted when the task stops during a retry wait.
template <typename OnFailure>
bool run_chain(transforms::transform_chain& chain, transforms::connect_record& record,
               error_handler& errors, OnFailure&& on_failure) {
  std::size_t i = 0;
  try {
    if (!errors.retries()) {
      for (; i < chain.size(); ++i) {
        if (!chain.apply_stage(i, record)) return false;
      }
      return true;
    }
    std::optional<transforms::connect_record> before;
    for (; i < chain.size(); ++i) {
      before = record;  // the transformation changes the record in place
      bool first = true;
      bool kept = errors.run_with_retry(error_stage::transformation, [&] {
        if (!std::exchange(first, false)) record = *before;
        return chain.apply_stage(i, record);
      });
      if (!kept) return false;
    }
    return true;
  } catch (const retry_interrupted&) {
    throw;
  } catch (const std::exception& e) {
    on_failure(chain.class_name(i), e);
    return false;
  }
}

// Runs one task on its own thread, from start() until the loop sees a stop request.
// The worker owns runners through shared_ptr; the thread holds one too, so a task that ignores
// a stop request can be abandoned (after task.shutdown.graceful.timeout.ms) without dangling.
class task_runner : public std::enable_shared_from_this<task_runner> {
 public:
  task_runner(std::string connector, int task, const api::connector_plugin& plugin,
              api::config_map task_config, api::config_map connector_config,
              storage::target_state state, task_environment env);
  virtual ~task_runner() = default;
  task_runner(const task_runner&) = delete;
  task_runner& operator=(const task_runner&) = delete;

  void start();
  void request_stop();
  // True when the thread finished within the timeout.
  bool wait_stopped(std::chrono::milliseconds timeout);
  // True when the task stopped working within the timeout: it reads and writes nothing more,
  // though its thread may still be closing clients (a sink's consumer leaving its group).
  bool wait_work_done(std::chrono::milliseconds timeout);
  void set_target_state(storage::target_state s);
  // Held: the task reads nothing new (a source does not poll, a sink's partitions are paused)
  // but keeps delivering and committing what it has, and its status does not change. The
  // distributed herder holds every task while the group rebalances, so a task that moves never
  // reads on two workers at once.
  void set_held(bool held) { held_.store(held, std::memory_order_relaxed); }

  const std::string& connector() const { return connector_; }
  int task() const { return task_; }

 protected:
  virtual void run() = 0;  // the task loop; returns when stop_requested()

  bool stop_requested() const { return stop_requested_.load(std::memory_order_relaxed); }
  storage::target_state target_state() const { return target_.load(); }
  bool held() const { return held_.load(std::memory_order_relaxed); }
  void report(storage::connector_state state, const std::string& trace = {});
  // Says the task will read and write nothing more (see wait_work_done); the thread's end
  // says so too.
  void work_done();
  // Sleeps up to `d`, returning early on a stop request.
  void pause_for(std::chrono::milliseconds d);
  // The wait between retries of this task's error handler (wait_between_retries): a stop
  // request ends it, a pause holds it and is reported; `sleep` waits (returning early on a stop
  // request) and may do the task's own upkeep meanwhile.
  error_handler::wait_function retry_wait(std::function<void(std::chrono::milliseconds)> sleep);
  // Reports a topic this task used to the status store, once (KIP-558 active topics).
  void record_active_topic(const std::string& topic) {
    if (!env_.worker->topic_tracking || topic == last_topic_) return;
    record_new_topic(topic);
  }
  // Forgets what was reported when the connector's topics were reset; call once per batch.
  void refresh_topic_tracking();
  // The connector's key.converter / value.converter when set, else the worker's.
  std::unique_ptr<converter> make_task_converter(bool is_key) const;
  std::string converter_class(bool is_key) const;  // the class make_task_converter() uses
  // A librdkafka config; settings librdkafka does not know are logged and skipped.
  clients::kafka_conf make_client_conf(const clients::client_config& config,
                                       const char* role) const;

  task_metrics& metrics() { return *metrics_; }  // valid while run() runs

  const std::string connector_;
  const int task_;
  const api::connector_plugin& plugin_;
  // Raw until the thread starts; then resolved through the config providers (run() sees them
  // resolved).
  api::config_map task_config_;
  api::config_map connector_config_;
  task_environment env_;

 private:
  void thread_main();

  void record_new_topic(const std::string& topic);

  std::shared_ptr<task_metrics> metrics_;
  std::string last_topic_;
  std::unordered_set<std::string> reported_topics_;
  std::uint64_t topics_generation_ = 0;
  std::atomic<bool> stop_requested_{false};
  std::atomic<storage::target_state> target_;
  std::atomic<bool> held_{false};
  std::mutex mutex_;
  std::condition_variable cv_;
  bool done_ = false;
  bool work_done_ = false;
};

}  // namespace ferry::core
