#include <doctest/doctest.h>

#include <set>
#include <sstream>

#include "ferry/core/metrics.hpp"
#include "ferry/storage/status_store.hpp"

using ferry::core::metrics_registry;
using ferry::core::render_prometheus;

namespace {

std::size_t count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto pos = text.find(what); pos != std::string::npos; pos = text.find(what, pos + 1)) ++n;
  return n;
}

}  // namespace

TEST_CASE("metrics: Prometheus text with one TYPE line per family and escaped labels") {
  metrics_registry registry;
  auto src = registry.add("a\"b\\c", 0, false);
  auto snk = registry.add("s", 1, true);
  src->records_read.fetch_add(7);
  src->records_written.fetch_add(5);
  snk->records_written.fetch_add(3);
  snk->record_errors.fetch_add(2);
  snk->set_lag({{{"t", 0}, 4}, {{"t", 1}, 0}});
  ferry::storage::memory_status_store statuses;
  statuses.put_task("s", 1,
                    {.state = ferry::storage::connector_state::running,
                     .trace = {},
                     .worker_id = "w1",
                     .generation = 0});
  auto text = render_prometheus(registry, statuses, {"s"}, "w1");

  CHECK(count(text,
              "kafka_connect_source_task_source_record_poll_total{connector=\"a\\\"b\\\\c\","
              "task=\"0\"} 7\n") == 1);
  CHECK(count(text,
              "kafka_connect_sink_task_sink_record_send_total{connector=\"s\",task=\"1\"} 3\n") ==
        1);
  CHECK(count(text,
              "kafka_connect_sink_task_consumer_lag_records{connector=\"s\",task=\"1\","
              "topic=\"t\",partition=\"0\"} 4\n") == 1);
  CHECK(count(text,
              "kafka_connect_task_error_total_record_errors{connector=\"s\",task=\"1\"} 2\n") == 1);
  CHECK(count(text, "kafka_connect_worker_task_count{worker=\"w1\"} 1\n") == 1);
  CHECK(count(text, "kafka_connect_worker_tasks{worker=\"w1\",state=\"RUNNING\"} 1\n") == 1);

  // Every family is declared once, before its samples.
  std::istringstream lines(text);
  std::set<std::string> declared;
  for (std::string line; std::getline(lines, line);) {
    if (line.starts_with("# TYPE ")) {
      auto name = line.substr(7, line.find(' ', 7) - 7);
      CHECK(declared.insert(name).second);
    } else if (!line.starts_with("#")) {
      auto name = line.substr(0, line.find_first_of("{ "));
      // A histogram's samples are <family>_bucket, _sum and _count.
      for (const char* suffix : {"_bucket", "_sum", "_count"}) {
        if (!declared.count(name) && name.ends_with(suffix)) {
          name.resize(name.size() - std::string(suffix).size());
        }
      }
      CHECK(declared.count(name) == 1);
    }
  }

  registry.remove(src);
  CHECK(registry.tasks().size() == 1);
}
