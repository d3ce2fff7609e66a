#include "ferry/core/metrics.hpp"

#include <algorithm>
#include <sstream>

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

class writer {
 public:
  // One metric family: its HELP and TYPE lines, then its samples.
  void family(const std::string& name, const char* type, const std::string& help) {
    out_ << "# HELP " << name << ' ' << help << "\n# TYPE " << name << ' ' << type << '\n';
  }
  template <typename V>
  void sample(const std::string& name, const std::string& labels, V value) {
    out_ << name;
    if (!labels.empty()) out_ << '{' << labels << '}';
    out_ << ' ' << value << '\n';
  }
  std::string text() const { return out_.str(); }

 private:
  std::ostringstream out_;
};

std::string task_labels(const task_metrics& t) {
  return "connector=\"" + label(t.connector) + "\",task=\"" + std::to_string(t.task) + "\"";
}

double seconds(std::uint64_t us) {
  return static_cast<double>(us) / 1e6;
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
  per_task(kind::any, err + "total_records_skipped", "counter",
           "Records skipped under errors.tolerance=all.",
           [&](const task_metrics& t) { return load(t.records_skipped); });
  per_task(kind::any, err + "deadletterqueue_produce_requests_total", "counter",
           "Records sent to the dead letter queue.",
           [&](const task_metrics& t) { return load(t.dlq_produce_requests); });
  per_task(kind::any, err + "deadletterqueue_produce_failures_total", "counter",
           "Dead letter records Kafka refused.",
           [&](const task_metrics& t) { return load(t.dlq_produce_failures); });
  return w.text();
}

}  // namespace ferry::core
