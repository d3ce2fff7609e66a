#include "ferry/core/metrics.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <string_view>
#include <type_traits>

#include "ferry/clients/client_metrics.hpp"

namespace ferry::core {

void task_metrics::set_lag(std::map<api::topic_partition, std::int64_t> lag) {
  std::lock_guard lock(lag_mutex_);
  lag_ = std::move(lag);
}

std::map<api::topic_partition, std::int64_t> task_metrics::lag() const {
  std::lock_guard lock(lag_mutex_);
  return lag_;
}

std::shared_ptr<task_metrics> metrics_registry::add(const std::string& connector, int task,
                                                    bool sink) {
  auto m = std::make_shared<task_metrics>(connector, task, sink);
  std::lock_guard lock(mutex_);
  tasks_.push_back(m);
  return m;
}

void metrics_registry::remove(const std::shared_ptr<task_metrics>& m) {
  std::lock_guard lock(mutex_);
  std::erase(tasks_, m);
}

std::vector<std::shared_ptr<task_metrics>> metrics_registry::tasks() const {
  std::lock_guard lock(mutex_);
  return tasks_;
}

namespace {

// Prometheus label values escape backslash, double quote and newline.
std::string label(const std::string& v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\' || c == '"') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

// The text format, appended to one string: a scrape renders every sample of every task, and
// ostream formatting was a third of its CPU.
class writer {
 public:
  writer() { out_.reserve(16384); }
  // One metric family: its HELP and TYPE lines, then its samples.
  void family(std::string_view name, const char* type, std::string_view help) {
    out_.append("# HELP ").append(name).append(" ").append(help);
    out_.append("\n# TYPE ").append(name).append(" ").append(type).append("\n");
  }
  template <typename V>
  void sample(std::string_view name, std::string_view labels, V value) {
    out_.append(name);
    if (!labels.empty()) out_.append("{").append(labels).append("}");
    out_ += ' ';
    append_number(out_, value);
    out_ += '\n';
  }
  std::string take() { return std::move(out_); }

  // Integers as digits, doubles in their shortest exact form; NaN and infinities as Prometheus
  // spells them.
  template <typename V>
  static void append_number(std::string& out, V value) {
    if constexpr (std::is_floating_point_v<V>) {
      if (std::isnan(value)) {
        out += "NaN";
        return;
      }
      if (std::isinf(value)) {
        out += value > 0 ? "+Inf" : "-Inf";
        return;
      }
    }
    char buf[64];
    out.append(buf, std::to_chars(buf, buf + sizeof buf, value).ptr);
  }

 private:
  std::string out_;
};

std::string task_labels(const task_metrics& t) {
  return "connector=\"" + label(t.connector) + "\",task=\"" + std::to_string(t.task) + "\"";
}

double seconds(std::uint64_t us) {
  return static_cast<double>(us) / 1e6;
}

std::string scope_labels(const std::string& connector, const std::string& task) {
  return "connector=\"" + label(connector) + "\",task=\"" + label(task) + "\"";
}

template <std::size_t N>
void histogram_samples(writer& w, const std::string& name, const std::string& labels,
                       const clients::histogram<N>& h) {
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i < N; ++i) {
    cumulative += h.buckets[i].load(std::memory_order_relaxed);
    std::string le = labels + ",le=\"";
    writer::append_number(le, h.bounds[i]);
    le += '"';
    w.sample(name + "_bucket", le, cumulative);
  }
  auto count = h.count.load(std::memory_order_relaxed);
  w.sample(name + "_bucket", labels + ",le=\"+Inf\"", count);
  w.sample(name + "_sum", labels, h.sum.load(std::memory_order_relaxed));
  w.sample(name + "_count", labels, count);
}

// The Redis clients' counters per scope (client_metrics.hpp) and librdkafka's statistics.
void client_metrics(writer& w) {
  std::vector<std::shared_ptr<const clients::metrics_scope>> scopes;
  for (auto& s : clients::metrics_scopes()) {
    const auto& r = s->redis;
    if (r.connects.load(std::memory_order_relaxed) || r.io_errors.load(std::memory_order_relaxed) ||
        r.commands.load(std::memory_order_relaxed)) {
      scopes.push_back(s);
    }
  }
  std::sort(scopes.begin(), scopes.end(), [](const auto& a, const auto& b) {
    return std::tie(a->connector, a->task) < std::tie(b->connector, b->task);
  });
  auto counter = [&](const std::string& name, const std::string& help, auto field) {
    if (scopes.empty()) return;
    w.family(name, "counter", help);
    for (const auto& s : scopes) {
      w.sample(name, scope_labels(s->connector, s->task),
               (s->redis.*field).load(std::memory_order_relaxed));
    }
  };
  using rm = clients::redis_client_metrics;
  counter("ferry_redis_commands_total", "Commands sent to Redis.", &rm::commands);
  counter("ferry_redis_roundtrips_total", "Pipelines sent to Redis and answered.", &rm::roundtrips);
  counter("ferry_redis_error_replies_total", "Replies that were Redis errors.", &rm::error_replies);
  counter("ferry_redis_io_errors_total",
          "Redis connections that failed, broke or timed out (each is retried).", &rm::io_errors);
  counter("ferry_redis_connects_total", "Redis connections opened and logged in.", &rm::connects);
  counter("ferry_redis_reconnects_total", "Redis connections opened again after one was lost.",
          &rm::reconnects);
  if (!scopes.empty()) {
    w.family("ferry_redis_roundtrip_seconds", "histogram",
             "Round trip of one pipeline to Redis, first byte sent to last reply read.");
    for (const auto& s : scopes) {
      histogram_samples(w, "ferry_redis_roundtrip_seconds", scope_labels(s->connector, s->task),
                        s->redis.latency);
    }
    w.family("ferry_redis_pipeline_commands", "histogram", "Commands per pipeline sent to Redis.");
    for (const auto& s : scopes) {
      histogram_samples(w, "ferry_redis_pipeline_commands", scope_labels(s->connector, s->task),
                        s->redis.pipeline_size);
    }
  }

  auto stats = clients::kafka_stats();
  if (stats.empty()) return;
  std::sort(stats.begin(), stats.end(), [](const auto& a, const auto& b) {
    return std::tie(a.connector, a.task, a.stats.client) <
           std::tie(b.connector, b.task, b.stats.client);
  });
  auto client_labels = [](const clients::labelled_kafka_stats& s) {
    return scope_labels(s.connector, s.task) + ",client=\"" + label(s.stats.client) + "\",type=\"" +
           label(s.stats.type) + "\"";
  };
  auto gauge = [&](const std::string& name, const char* type, const std::string& help, auto value) {
    w.family(name, type, help);
    for (const auto& s : stats) w.sample(name, client_labels(s), value(s.stats));
  };
  gauge("ferry_kafka_client_queue_messages", "gauge",
        "librdkafka: messages in the client's queues (waiting to be sent or acknowledged).",
        [](const clients::kafka_client_stats& s) { return s.queue_messages; });
  gauge("ferry_kafka_client_queue_bytes", "gauge", "librdkafka: bytes in the client's queues.",
        [](const clients::kafka_client_stats& s) { return s.queue_bytes; });
  gauge("ferry_kafka_client_tx_bytes_total", "counter", "librdkafka: bytes sent to brokers.",
        [](const clients::kafka_client_stats& s) { return s.tx_bytes; });
  gauge("ferry_kafka_client_rx_bytes_total", "counter", "librdkafka: bytes received from brokers.",
        [](const clients::kafka_client_stats& s) { return s.rx_bytes; });
  w.family("ferry_kafka_broker_rtt_avg_seconds", "gauge",
           "librdkafka: average request round trip to each broker over the last interval.");
  for (const auto& s : stats) {
    for (const auto& [broker, rtt] : s.stats.broker_rtt_avg_seconds) {
      w.sample("ferry_kafka_broker_rtt_avg_seconds",
               client_labels(s) + ",broker=\"" + label(broker) + "\"", rtt);
    }
  }
  if (std::any_of(stats.begin(), stats.end(),
                  [](const auto& s) { return s.stats.consumer_lag >= 0; })) {
    w.family("ferry_kafka_consumer_lag_records", "gauge",
             "librdkafka: records behind the end of the assigned partitions, summed.");
    for (const auto& s : stats) {
      if (s.stats.consumer_lag >= 0) {
        w.sample("ferry_kafka_consumer_lag_records", client_labels(s), s.stats.consumer_lag);
      }
    }
  }
}

}  // namespace

std::string render_prometheus(const metrics_registry& registry, storage::status_store& statuses,
                              const std::vector<std::string>& connectors,
                              const std::string& worker_id) {
  writer w;
  const std::string worker = "worker=\"" + label(worker_id) + "\"";

  // Worker (Kafka Connect's connect-worker-metrics), as this worker sees the cluster.
  std::map<std::string, int> connector_states, task_states;
  int connectors_here = 0, tasks_here = 0;
  for (const auto& name : connectors) {
    if (auto s = statuses.connector(name)) {
      ++connector_states[storage::to_string(s->state)];
      if (s->worker_id == worker_id) ++connectors_here;
    }
    for (const auto& [id, s] : statuses.tasks(name)) {
      ++task_states[storage::to_string(s.state)];
      if (s.worker_id == worker_id) ++tasks_here;
    }
  }
  w.family("kafka_connect_worker_connector_count", "gauge", "Connectors that run on this worker.");
  w.sample("kafka_connect_worker_connector_count", worker, connectors_here);
  w.family("kafka_connect_worker_task_count", "gauge", "Tasks that run on this worker.");
  w.sample("kafka_connect_worker_task_count", worker, tasks_here);
  w.family("kafka_connect_worker_connectors", "gauge",
           "Connectors of the cluster by state, as this worker sees them.");
  for (const char* st : {"RUNNING", "PAUSED", "FAILED", "UNASSIGNED", "RESTARTING", "STOPPED"}) {
    auto it = connector_states.find(st);
    w.sample("kafka_connect_worker_connectors", worker + ",state=\"" + st + "\"",
             it == connector_states.end() ? 0 : it->second);
  }
  w.family("kafka_connect_worker_tasks", "gauge",
           "Tasks of the cluster by state, as this worker sees them.");
  for (const char* st : {"RUNNING", "PAUSED", "FAILED", "UNASSIGNED", "RESTARTING", "STOPPED"}) {
    auto it = task_states.find(st);
    w.sample("kafka_connect_worker_tasks", worker + ",state=\"" + st + "\"",
             it == task_states.end() ? 0 : it->second);
  }
  w.family("kafka_connect_worker_rebalance_completed_rebalances_total", "counter",
           "Group rebalances this worker went through (distributed mode).");
  w.sample("kafka_connect_worker_rebalance_completed_rebalances_total", worker,
           registry.rebalances());

  auto tasks = registry.tasks();
  std::sort(tasks.begin(), tasks.end(), [](const auto& a, const auto& b) {
    return std::tie(a->sink, a->connector, a->task) < std::tie(b->sink, b->connector, b->task);
  });
  enum class kind { source, sink, any };
  auto per_task = [&](kind k, const std::string& name, const char* type, const std::string& help,
                      auto value) {
    auto wanted = [k](const task_metrics& t) {
      return k == kind::any || t.sink == (k == kind::sink);
    };
    if (std::none_of(tasks.begin(), tasks.end(), [&](const auto& t) { return wanted(*t); })) {
      return;
    }
    w.family(name, type, help);
    for (const auto& t : tasks) {
      if (wanted(*t)) w.sample(name, task_labels(*t), value(*t));
    }
  };
  auto load = [](const std::atomic<std::uint64_t>& a) { return a.load(std::memory_order_relaxed); };

  // Source tasks (source-task-metrics).
  const std::string src = "kafka_connect_source_task_";
  per_task(kind::source, src + "source_record_poll_total", "counter",
           "Records this task's poll() returned.",
           [&](const task_metrics& t) { return load(t.records_read); });
  per_task(kind::source, src + "source_record_write_total", "counter",
           "Records Kafka acknowledged (after transformations).",
           [&](const task_metrics& t) { return load(t.records_written); });
  per_task(kind::source, src + "poll_batch_time_seconds_total", "counter",
           "Time spent in poll() calls that returned records.",
           [&](const task_metrics& t) { return seconds(load(t.batch_time_us)); });
  per_task(kind::source, src + "poll_batch_total", "counter", "poll() calls that returned records.",
           [&](const task_metrics& t) { return load(t.batches); });

  // Sink tasks (sink-task-metrics).
  const std::string snk = "kafka_connect_sink_task_";
  per_task(kind::sink, snk + "sink_record_read_total", "counter", "Records read from Kafka.",
           [&](const task_metrics& t) { return load(t.records_read); });
  per_task(kind::sink, snk + "sink_record_send_total", "counter",
           "Records put() accepted (after transformations).",
           [&](const task_metrics& t) { return load(t.records_written); });
  per_task(kind::sink, snk + "put_batch_time_seconds_total", "counter",
           "Time spent in put() calls.",
           [&](const task_metrics& t) { return seconds(load(t.batch_time_us)); });
  per_task(kind::sink, snk + "put_batch_total", "counter", "put() calls.",
           [&](const task_metrics& t) { return load(t.batches); });

  // Offset commits, both kinds (source-task / sink-task offset-commit metrics).
  for (bool sink : {false, true}) {
    const std::string p = sink ? snk : src;
    const kind k = sink ? kind::sink : kind::source;
    per_task(k, p + "offset_commit_completion_total", "counter", "Offset commits that succeeded.",
             [&](const task_metrics& t) { return load(t.offset_commits); });
    per_task(k, p + "offset_commit_failure_total", "counter", "Offset commits that failed.",
             [&](const task_metrics& t) { return load(t.offset_commit_failures); });
    per_task(k, p + "offset_commit_time_seconds_total", "counter", "Time spent committing offsets.",
             [&](const task_metrics& t) { return seconds(load(t.offset_commit_time_us)); });
  }

  // Consumer lag per partition of sink tasks.
  bool any_sink = std::any_of(tasks.begin(), tasks.end(), [](const auto& t) { return t->sink; });
  if (any_sink) {
    const std::string name = snk + "consumer_lag_records";
    w.family(name, "gauge",
             "Records in Kafka not yet consumed by the task (high watermark − position).");
    for (const auto& t : tasks) {
      if (!t->sink) continue;
      for (const auto& [tp, lag] : t->lag()) {
        w.sample(name,
                 task_labels(*t) + ",topic=\"" + label(tp.topic) + "\",partition=\"" +
                     std::to_string(tp.partition) + "\"",
                 lag);
      }
    }
  }

  // Errors (task-error-metrics), both kinds.
  const std::string err = "kafka_connect_task_error_";
  per_task(kind::any, err + "total_record_errors", "counter", "Records that failed in a stage.",
           [&](const task_metrics& t) { return load(t.record_errors); });
  per_task(kind::any, err + "total_retries", "counter",
           "Operations retried after a retriable error (errors.retry.timeout).",
           [&](const task_metrics& t) { return load(t.retries); });
  per_task(kind::any, err + "total_records_skipped", "counter",
           "Records skipped under errors.tolerance=all.",
           [&](const task_metrics& t) { return load(t.records_skipped); });
  per_task(kind::any, err + "deadletterqueue_produce_requests_total", "counter",
           "Records sent to the dead letter queue.",
           [&](const task_metrics& t) { return load(t.dlq_produce_requests); });
  per_task(kind::any, err + "deadletterqueue_produce_failures_total", "counter",
           "Dead letter records Kafka refused.",
           [&](const task_metrics& t) { return load(t.dlq_produce_failures); });
  client_metrics(w);
  return w.take();
}

}  // namespace ferry::core
