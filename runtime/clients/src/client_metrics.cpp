#include "ferry/clients/client_metrics.hpp"

#include <algorithm>
#include <mutex>

#include "ferry/api/json.hpp"

namespace ferry::clients {

namespace {

std::mutex g_scopes_mutex;
std::vector<std::shared_ptr<metrics_scope>> g_scopes;

std::shared_ptr<metrics_scope> find_or_add(const std::string& connector, const std::string& task) {
  std::lock_guard lock(g_scopes_mutex);
  for (const auto& s : g_scopes) {
    if (s->connector == connector && s->task == task) return s;
  }
  auto s = std::make_shared<metrics_scope>();
  s->connector = connector;
  s->task = task;
  g_scopes.push_back(s);
  return s;
}

thread_local std::shared_ptr<metrics_scope> t_scope;

struct stats_entry {
  std::shared_ptr<metrics_scope> scope;
  kafka_client_stats stats;
  std::chrono::milliseconds interval{0};
};
std::mutex g_stats_mutex;
std::map<std::string, stats_entry> g_stats;  // by client name

std::int64_t integer(const json& doc, const char* key) {
  auto it = doc.find(key);
  return it != doc.end() && it->is_number() ? it->get<std::int64_t>() : 0;
}

}  // namespace

std::shared_ptr<metrics_scope> thread_metrics_scope() {
  if (!t_scope) t_scope = find_or_add("", "");
  return t_scope;
}

void set_thread_metrics_scope(const std::string& connector, const std::string& task) {
  t_scope = find_or_add(connector, task);
}

std::vector<std::shared_ptr<const metrics_scope>> metrics_scopes() {
  std::lock_guard lock(g_scopes_mutex);
  // A task's scope ends with the task: once no thread and no connection holds it, it is
  // dropped, so a deleted connector's series leave /metrics (as Kafka Connect removes a stopped
  // task's metrics) and connectors that come and go do not grow the list.
  std::erase_if(g_scopes,
                [](const auto& s) { return !s->connector.empty() && s.use_count() == 1; });
  return {g_scopes.begin(), g_scopes.end()};
}

void record_kafka_stats(const char* text, std::size_t len, std::chrono::milliseconds interval) {
  json doc = json::parse(text, text + len, nullptr, /*allow_exceptions=*/false);
  if (!doc.is_object() || !doc.contains("name") || !doc["name"].is_string()) return;
  kafka_client_stats s;
  s.client = doc["name"].get<std::string>();
  s.type = doc.value("type", std::string());
  s.queue_messages = integer(doc, "msg_cnt");
  s.queue_bytes = integer(doc, "msg_size");
  s.tx_bytes = integer(doc, "tx_bytes");
  s.rx_bytes = integer(doc, "rx_bytes");
  if (auto b = doc.find("brokers"); b != doc.end() && b->is_object()) {
    for (const auto& [name, broker] : b->items()) {
      // Only real brokers (the coordinator and bootstrap entries repeat them, or have no id).
      if (integer(broker, "nodeid") < 0) continue;
      auto rtt = broker.find("rtt");
      if (rtt == broker.end() || !rtt->is_object() || integer(*rtt, "cnt") == 0) continue;
      s.broker_rtt_avg_seconds[name] = static_cast<double>(integer(*rtt, "avg")) / 1e6;
    }
  }
  if (s.type == "consumer") {
    s.consumer_lag = 0;
    if (auto topics = doc.find("topics"); topics != doc.end() && topics->is_object()) {
      for (const auto& [topic, t] : topics->items()) {
        auto parts = t.find("partitions");
        if (parts == t.end() || !parts->is_object()) continue;
        for (const auto& [id, p] : parts->items()) {
          if (id == "-1") continue;  // librdkafka's unassigned-partition placeholder
          auto lag = integer(p, "consumer_lag");
          if (lag > 0) s.consumer_lag += lag;
        }
      }
    }
  }
  s.updated = std::chrono::steady_clock::now();
  std::lock_guard lock(g_stats_mutex);
  auto& e = g_stats[s.client];
  e.scope = thread_metrics_scope();
  e.interval = interval;
  e.stats = std::move(s);
}

std::vector<labelled_kafka_stats> kafka_stats() {
  auto now = std::chrono::steady_clock::now();
  std::vector<labelled_kafka_stats> out;
  std::lock_guard lock(g_stats_mutex);
  for (auto it = g_stats.begin(); it != g_stats.end();) {
    auto max_age =
        std::max<std::chrono::milliseconds>(3 * it->second.interval, std::chrono::seconds(30));
    if (now - it->second.stats.updated > max_age) {
      it = g_stats.erase(it);
      continue;
    }
    out.push_back({it->second.scope->connector, it->second.scope->task, it->second.stats});
    ++it;
  }
  return out;
}

}  // namespace ferry::clients
