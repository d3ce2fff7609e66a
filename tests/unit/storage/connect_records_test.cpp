// Pins the bytes of Kafka Connect's internal-topic records: what a Java worker writes must read
// back, and what ferry writes must be what a Java worker would write.
#include <doctest/doctest.h>

#include "ferry/storage/config_topic_state.hpp"
#include "ferry/storage/connect_records.hpp"
#include "ferry/storage/offset_store.hpp"

using namespace ferry::storage;
using namespace ferry::storage::records;
using ferry::json;

namespace {

template <typename T>
const T& as(const config_record& r) {
  REQUIRE(std::holds_alternative<T>(r));
  return std::get<T>(r);
}

template <typename T>
const T& as_status(const status_record& r) {
  REQUIRE(std::holds_alternative<T>(r));
  return std::get<T>(r);
}

}  // namespace

TEST_CASE("config topic: keys and values as Kafka Connect writes them") {
  CHECK(connector_key("orders-sink") == "connector-orders-sink");
  CHECK(task_key("orders-sink", 2) == "task-orders-sink-2");
  CHECK(commit_key("orders-sink") == "commit-orders-sink");
  CHECK(target_state_key("orders-sink") == "target-state-orders-sink");
  CHECK(restart_key("orders-sink") == "restart-connector-orders-sink");
  CHECK(restart_task_key("orders-sink", 4) == "ferry-restart-task-orders-sink-4");

  CHECK(properties_value({{"name", "s"}, {"tasks.max", "2"}}) ==
        R"({"properties":{"name":"s","tasks.max":"2"}})");
  CHECK(commit_value(3) == R"({"tasks":3})");
  CHECK(target_state_value(target_state::started) == R"({"state":"STARTED","state.v2":"STARTED"})");
  CHECK(target_state_value(target_state::paused) == R"({"state":"PAUSED","state.v2":"PAUSED"})");
  // Workers that read only "state" see a stopped connector as paused (Kafka's rule).
  CHECK(target_state_value(target_state::stopped) == R"({"state":"PAUSED","state.v2":"STOPPED"})");
  CHECK(restart_value(true, false) == R"({"include-tasks":true,"only-failed":false})");
  CHECK(create_value({{"name", "s"}}, "w:1/7") ==
        R"({"properties":{"name":"s"},"ferry.create":"w:1/7"})");
}

TEST_CASE("config topic: records written by a Java worker parse") {
  // Connector properties come in HashMap order from Java; order does not matter when reading.
  auto c = as<connector_config_record>(parse_config_record(
      "connector-orders-sink",
      R"({"properties":{"topics":"orders","name":"orders-sink","connector.class":"com.redis.kafka.connect.RedisSinkConnector","tasks.max":"2"}})"));
  CHECK(c.connector == "orders-sink");
  REQUIRE(c.properties);
  CHECK(c.properties->at("connector.class") == "com.redis.kafka.connect.RedisSinkConnector");
  CHECK(c.properties->size() == 4);

  CHECK_FALSE(as<connector_config_record>(parse_config_record("connector-x", std::nullopt))
                  .properties.has_value());

  auto t = as<task_config_record>(
      parse_config_record("task-orders-sink-1", R"({"properties":{"task.id":"1"}})"));
  CHECK(t.connector == "orders-sink");
  CHECK(t.task == 1);
  CHECK(t.properties->at("task.id") == "1");

  auto commit = as<commit_record>(parse_config_record("commit-orders-sink", R"({"tasks":2})"));
  CHECK(commit.connector == "orders-sink");
  CHECK(commit.tasks == 2);

  // Old workers write only "state"; new ones both, and "state.v2" wins.
  CHECK(as<target_state_record>(parse_config_record("target-state-a", R"({"state":"PAUSED"})"))
            .state == target_state::paused);
  CHECK(as<target_state_record>(
            parse_config_record("target-state-a", R"({"state":"PAUSED","state.v2":"STOPPED"})"))
            .state == target_state::stopped);
  CHECK_FALSE(as<target_state_record>(parse_config_record("target-state-a", std::nullopt))
                  .state.has_value());

  auto r = as<restart_record>(
      parse_config_record("restart-connector-a", R"({"include-tasks":true,"only-failed":true})"));
  CHECK(r.include_tasks);
  CHECK(r.only_failed);
}

TEST_CASE("config topic: records ferry does not use, and bad ones, are skipped, not fatal") {
  for (auto [key, value] : std::vector<std::pair<std::string, std::optional<std::string>>>{
           {"session-key",
            R"({"key":"a2V5","algorithm":"HmacSHA256","creation-timestamp":1700000000000})"},
           {"tasks-fencing-a", R"({"task-count":2})"},
           {"logger-cluster-org.apache", R"({"level":"DEBUG"})"},
           {"connector-a", "not json"},
           {"connector-a", R"({"no":"properties"})"},
           {"task-a", R"({"properties":{}})"},
           {"task-a-x", R"({"properties":{}})"},
           {"commit-a", R"({"tasks":-1})"},
           {"target-state-a", R"({"state":"SLEEPING"})"},
           {"something-else", "{}"}}) {
    CAPTURE(key);
    CHECK(std::holds_alternative<ignored_record>(parse_config_record(key, value)));
  }
}

TEST_CASE("status topic: keys and values as Kafka Connect writes them") {
  CHECK(connector_status_key("a-b") == "status-connector-a-b");
  CHECK(task_status_key("a-b", 3) == "status-task-a-b-3");
  CHECK(topic_status_key("orders", "a-b") == "status-topic-orders:connector-a-b");
  CHECK(status_value({.state = connector_state::running,
                      .trace = {},
                      .worker_id = "10.0.0.1:8083",
                      .generation = 5}) ==
        R"({"state":"RUNNING","trace":null,"worker_id":"10.0.0.1:8083","generation":5})");
  CHECK(status_value({.state = connector_state::failed,
                      .trace = "boom\n\tat x",
                      .worker_id = "w:1",
                      .generation = 0}) ==
        R"({"state":"FAILED","trace":"boom\n\tat x","worker_id":"w:1","generation":0})");
  CHECK(
      topic_status_value("orders", "a-b", 0, 1700000000123) ==
      R"({"topic":{"name":"orders","connector":"a-b","task":0,"discoverTimestamp":1700000000123}})");

  auto c = as_status<connector_status_record>(parse_status_record(
      "status-connector-a-b",
      R"({"state":"PAUSED","trace":null,"worker_id":"10.0.0.1:8083","generation":7})"));
  CHECK(c.connector == "a-b");
  REQUIRE(c.value);
  CHECK(c.value->state == connector_state::paused);
  CHECK(c.value->worker_id == "10.0.0.1:8083");
  CHECK(c.value->generation == 7);
  auto t = as_status<task_status_record>(parse_status_record(
      "status-task-a-b-12", R"({"state":"FAILED","trace":"x","worker_id":"w:1","generation":1})"));
  CHECK(t.connector == "a-b");
  CHECK(t.task == 12);
  CHECK(t.value->trace == "x");
  auto topic = as_status<topic_status_record>(parse_status_record(
      "status-topic-orders:connector-a-b",
      R"({"topic":{"name":"orders","connector":"a-b","task":0,"discoverTimestamp":1}})"));
  CHECK(topic.connector == "a-b");
  CHECK(topic.topic == "orders");
  CHECK(topic.active);
  CHECK_FALSE(as_status<topic_status_record>(
                  parse_status_record("status-topic-orders:connector-a-b", std::nullopt))
                  .active);
  CHECK(std::holds_alternative<ignored_record>(
      parse_status_record("status-connector-a", R"({"state":"NAPPING"})")));
}

TEST_CASE("offsets topic: key and value bytes") {
  CHECK(offset_key("src", json{{"stream", "orders"}}) == R"(["src",{"stream":"orders"}])");
  CHECK(offset_value(json{{"offset", "1700000000000-0"}}) == R"({"offset":"1700000000000-0"})");
  auto r = parse_offset_record(R"(["src",{"filename":"test.txt"}])", R"({"position":30})");
  REQUIRE(r);
  CHECK(r->connector == "src");
  CHECK(r->partition == json{{"filename", "test.txt"}});
  CHECK(r->offset == json{{"position", 30}});
  auto reset = parse_offset_record(R"(["src",{"stream":"s"}])", std::nullopt);
  REQUIRE(reset);
  CHECK(reset->offset.is_null());
  CHECK_FALSE(parse_offset_record(R"({"not":"a list"})", "{}"));
  CHECK_FALSE(parse_offset_record(R"(["src"])", "{}"));
  CHECK_FALSE(parse_offset_record(R"(["src",{"s":1}])", "[1]"));
}

TEST_CASE("config topic state: Kafka Connect's replay rules") {
  config_topic_state s;
  using kind = config_topic_state::change::kind;
  auto apply = [&s](const std::string& k, std::optional<std::string> v) {
    return s.apply(parse_config_record(k, v));
  };
  // Created paused: the target state comes first.
  CHECK(apply("target-state-a", R"({"state":"PAUSED","state.v2":"PAUSED"})").what == kind::none);
  CHECK(apply("connector-a", R"({"properties":{"name":"a"}})").what == kind::connector_config);
  REQUIRE(s.find("a"));
  CHECK(s.find("a")->state == target_state::paused);
  CHECK(s.find("a")->tasks.empty());

  // Task configs apply only with their commit, all at once.
  CHECK(apply("task-a-0", R"({"properties":{"t":"0"}})").what == kind::none);
  CHECK(apply("task-a-1", R"({"properties":{"t":"1"}})").what == kind::none);
  CHECK(s.find("a")->tasks.empty());
  CHECK(apply("commit-a", R"({"tasks":2})").what == kind::tasks);
  REQUIRE(s.find("a")->tasks.size() == 2);
  CHECK(s.find("a")->tasks[1].at("t") == "1");

  // A commit missing a task record (compaction) marks the connector inconsistent and keeps the
  // previous task configs.
  apply("task-a-0", R"({"properties":{"t":"new"}})");
  CHECK(apply("commit-a", R"({"tasks":2})").what == kind::tasks);
  CHECK(s.find("a")->inconsistent);
  CHECK(s.find("a")->tasks[0].at("t") == "0");

  CHECK(apply("target-state-a", R"({"state":"STARTED","state.v2":"STARTED"})").what ==
        kind::target_state);
  CHECK(apply("target-state-a", R"({"state":"STARTED","state.v2":"STARTED"})").what ==
        kind::none);  // no change
  auto restart = apply("restart-connector-a", R"({"include-tasks":true,"only-failed":false})");
  CHECK(restart.what == kind::restart);
  CHECK(restart.restart.include_tasks);
  CHECK(apply("restart-connector-zzz", R"({"include-tasks":true})").what == kind::none);
  auto task_restart = apply("ferry-restart-task-a-1", std::nullopt);
  CHECK(task_restart.what == kind::restart_task);
  CHECK(task_restart.task == 1);

  // Create-only records: the first wins, later ones for an existing name are skipped.
  CHECK(apply("connector-n", create_value({{"name", "n"}, {"v", "1"}}, "w1/1")).what ==
        kind::connector_config);
  CHECK(apply("connector-n", create_value({{"name", "n"}, {"v", "2"}}, "w2/1")).what == kind::none);
  CHECK(s.find("n")->config.at("v") == "1");
  CHECK(s.find("n")->create_token == "w1/1");
  CHECK(apply("connector-n", properties_value({{"name", "n"}, {"v", "3"}})).what ==
        kind::connector_config);  // an update still applies
  CHECK(s.find("n")->config.at("v") == "3");

  // Deletion: connector tombstone, then target-state tombstone.
  CHECK(apply("connector-a", std::nullopt).what == kind::connector_removed);
  CHECK(apply("target-state-a", std::nullopt).what == kind::none);
  CHECK(s.find("a") == nullptr);
  CHECK(apply("connector-a", std::nullopt).what == kind::none);
  // Recreated without a target-state record: started.
  apply("connector-a", R"({"properties":{"name":"a"}})");
  CHECK(s.find("a")->state == target_state::started);
  CHECK(s.find("a")->tasks.empty());
}
