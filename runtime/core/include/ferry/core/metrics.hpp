#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "ferry/api/record.hpp"
#include "ferry/storage/status_store.hpp"

namespace ferry::core {

// One task's counters. Written by the task's own thread with relaxed atomic adds (no lock on
// the hot path), read by GET /metrics from another thread. Kafka Connect's metric names, in
// Prometheus form (see render_prometheus()).
struct task_metrics {
  task_metrics(std::string connector_name, int task_id, bool is_sink)
      : connector(std::move(connector_name)), task(task_id), sink(is_sink) {}

  const std::string connector;
  const int task;
  const bool sink;

  // source: records poll() returned / Kafka acknowledged; sink: records read from Kafka /
  // records put() accepted.
  std::atomic<std::uint64_t> records_read{0};
  std::atomic<std::uint64_t> records_written{0};
  std::atomic<std::uint64_t> batches{0};  // poll() or put() calls that carried records
  std::atomic<std::uint64_t> batch_time_us{0};
  std::atomic<std::uint64_t> offset_commits{0};
  std::atomic<std::uint64_t> offset_commit_failures{0};
  std::atomic<std::uint64_t> offset_commit_time_us{0};
  // errors.* (KIP-298 task-error-metrics)
  std::atomic<std::uint64_t> record_errors{0};
  std::atomic<std::uint64_t> records_skipped{0};
  std::atomic<std::uint64_t> dlq_produce_requests{0};
  std::atomic<std::uint64_t> dlq_produce_failures{0};
  std::atomic<std::uint64_t> retries{0};  // operations retried (errors.retry.timeout)

  // Sink consumer lag per partition (high watermark − position), refreshed by the task about
  // once per offset flush interval, not per record.
  void set_lag(std::map<api::topic_partition, std::int64_t> lag);
  std::map<api::topic_partition, std::int64_t> lag() const;

 private:
  mutable std::mutex lag_mutex_;
  std::map<api::topic_partition, std::int64_t> lag_;
};

// Adds the time since construction to a counter in microseconds.
class scoped_timer {
 public:
  explicit scoped_timer(std::atomic<std::uint64_t>& sink)
      : sink_(sink), start_(std::chrono::steady_clock::now()) {}
  ~scoped_timer() {
    sink_.fetch_add(
        static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                                       std::chrono::steady_clock::now() - start_)
                                       .count()),
        std::memory_order_relaxed);
  }
  scoped_timer(const scoped_timer&) = delete;
  scoped_timer& operator=(const scoped_timer&) = delete;

 private:
  std::atomic<std::uint64_t>& sink_;
  std::chrono::steady_clock::time_point start_;
};

// The tasks of this worker that have counters. Tasks register when they start and stay
// listed until they stop (their totals restart with them, as Kafka Connect's do).
class metrics_registry {
 public:
  std::shared_ptr<task_metrics> add(const std::string& connector, int task, bool sink);
  void remove(const std::shared_ptr<task_metrics>& m);
  std::vector<std::shared_ptr<task_metrics>> tasks() const;
  std::uint64_t rebalances() const { return rebalances_.load(std::memory_order_relaxed); }
  void count_rebalance() { rebalances_.fetch_add(1, std::memory_order_relaxed); }

 private:
  mutable std::mutex mutex_;
  std::vector<std::shared_ptr<task_metrics>> tasks_;
  std::atomic<std::uint64_t> rebalances_{0};
};

// The Prometheus text format (version 0.0.4) of the worker's metrics: Kafka Connect's worker,
// source task, sink task and task error metrics, named kafka_connect_<group>_<metric> and
// labelled by connector and task (and topic/partition for consumer lag). `statuses` gives the
// connector and task counts by state as this worker sees them.
std::string render_prometheus(const metrics_registry& registry, storage::status_store& statuses,
                              const std::vector<std::string>& connectors,
                              const std::string& worker_id);

}  // namespace ferry::core
