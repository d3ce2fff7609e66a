#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace ferry::clients {

// Counters of the Redis and Kafka clients, exported by GET /metrics (core/metrics.cpp).
//
// Scopes: the counters belong to the scope of the thread that created the client — a task's
// thread is the scope "connector=<name>, task=<id>", set once by the task's log context (see
// core::log::set_thread_context); anything else (connector threads, REST threads) counts in the
// scope of its connector or in the worker's unlabelled scope. A client keeps its scope for its
// whole life, so the cluster client's per-node connections, used from short-lived threads,
// still count for their task. Scopes live as long as the process: the totals are Prometheus
// counters and never go back.

// A fixed-bucket histogram: cumulative counts per upper bound, the sum and the count. Relaxed
// atomic adds only; observe() costs a short scan of the bounds.
template <std::size_t N>
struct histogram {
  explicit histogram(const std::array<double, N>& upper_bounds) : bounds(upper_bounds) {}
  const std::array<double, N> bounds;
  std::array<std::atomic<std::uint64_t>, N> buckets{};  // non-cumulative; render adds them up
  std::atomic<std::uint64_t> count{0};
  std::atomic<double> sum{0};

  void observe(double v) {
    for (std::size_t i = 0; i < N; ++i) {
      if (v <= bounds[i]) {
        buckets[i].fetch_add(1, std::memory_order_relaxed);
        break;
      }
    }
    count.fetch_add(1, std::memory_order_relaxed);
    sum.fetch_add(v, std::memory_order_relaxed);
  }
};

struct redis_client_metrics {
  std::atomic<std::uint64_t> commands{0};       // commands sent (every command of a pipeline)
  std::atomic<std::uint64_t> roundtrips{0};     // pipelines sent and answered (or failed)
  std::atomic<std::uint64_t> error_replies{0};  // replies that were Redis errors (-ERR, -MOVED..)
  std::atomic<std::uint64_t> io_errors{0};      // broken, refused or timed-out connections
  std::atomic<std::uint64_t> connects{0};       // connections opened (and logged in)
  std::atomic<std::uint64_t> reconnects{0};     // of those, ones after a connection was lost
  // Round trip of one pipeline, from the first byte sent to the last reply read (seconds).
  histogram<14> latency{
      {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5}};
  // Commands per pipeline (the sink's batch as Redis sees it).
  histogram<11> pipeline_size{{1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 5000}};
};

// Gauges from librdkafka's statistics (statistics.interval.ms) of one client.
struct kafka_client_stats {
  std::string client;               // rd_kafka_name(): rdkafka#producer-3
  std::string type;                 // producer, consumer
  std::int64_t queue_messages = 0;  // msg_cnt: messages waiting to be sent or acknowledged
  std::int64_t queue_bytes = 0;     // msg_size
  std::int64_t tx_bytes = 0;        // tx_bytes: bytes sent to brokers
  std::int64_t rx_bytes = 0;        // rx_bytes
  std::map<std::string, double> broker_rtt_avg_seconds;  // per broker "host:port/id"
  std::int64_t consumer_lag = -1;  // sum over partitions of consumer_lag; -1: not a consumer
  std::chrono::steady_clock::time_point updated;
};

struct metrics_scope {
  std::string connector;  // empty: the worker's own scope
  std::string task;       // empty: not a task
  redis_client_metrics redis;
};

// The current thread's scope: the one set for it, else the worker's unlabelled scope.
std::shared_ptr<metrics_scope> thread_metrics_scope();
// Sets the scope of the current thread (found or created by its labels).
void set_thread_metrics_scope(const std::string& connector, const std::string& task);
// Every scope in use (held by a thread or a connection), in creation order; the worker's own
// scope always.
std::vector<std::shared_ptr<const metrics_scope>> metrics_scopes();

// librdkafka statistics: make_kafka_conf() registers a callback when statistics.interval.ms is
// set; the callback (run on the thread that polls the client, i.e. the task's) keeps the
// gauges per client with the polling thread's scope. Clients not updated for 3 intervals (and
// at least 30 s) are dropped, so a destroyed client disappears.
struct labelled_kafka_stats {
  std::string connector, task;
  kafka_client_stats stats;
};
std::vector<labelled_kafka_stats> kafka_stats();
// Parses one statistics JSON document into the registry (the callback's work; public for tests).
void record_kafka_stats(const char* json, std::size_t len, std::chrono::milliseconds interval);

}  // namespace ferry::clients
