#include <doctest/doctest.h>

#include "ferry/api/errors.hpp"
#include "list_source/list_source_config.hpp"
#include "list_source/list_source_connector.hpp"
#include "list_source/processing_window.hpp"

using ferry::api::config_error;
using ferry::api::config_map;
using namespace ferry::redis;

TEST_CASE("list source config: defaults, several lists, BRPOP, templates") {
  auto c = list_source_config::parse({{"redis.list.name", " jobs, mail ,,"}, {"name", "q"}});
  CHECK(c.lists == std::vector<std::string>{"jobs", "mail"});
  CHECK(c.end == list_end::head);
  CHECK(c.move == list_move_mode::script);
  CHECK(c.batch_size == 500);
  CHECK(c.block == std::chrono::milliseconds(100));
  CHECK(c.processing_key_for("jobs") == "jobs:processing:q");
  CHECK(c.topic_for("mail") == "mail");

  auto t = list_source_config::parse({{"redis.list.name", "a"},
                                      {"name", "c1"},
                                      {"redis.list.command", "brpop"},
                                      {"redis.list.move", "pipeline"},
                                      {"redis.list.processing", "inflight:{${list}}:${connector}"},
                                      {"topic", "redis.${list}"}});
  CHECK(t.end == list_end::tail);
  CHECK(t.move == list_move_mode::pipeline);
  CHECK(t.processing_key_for("a") == "inflight:{a}:c1");
  CHECK(t.topic_for("a") == "redis.a");
}

TEST_CASE("list source config refuses what would mix up processing lists") {
  CHECK_THROWS_AS(list_source_config::parse({{"name", "c"}}), config_error);
  CHECK_THROWS_AS(list_source_config::parse({{"redis.list.name", " , "}}), config_error);
  CHECK_THROWS_WITH_AS(
      list_source_config::parse({{"redis.list.name", "a,b"}, {"redis.list.processing", "p"}}),
      doctest::Contains("put ${list} in it"), config_error);
  CHECK_THROWS_AS(list_source_config::parse({{"redis.list.name", "a,a"}}), config_error);
  CHECK_THROWS_WITH_AS(
      list_source_config::parse(
          {{"redis.list.name", "a,ax"}, {"redis.list.processing", "${list}x"}, {"name", "c"}}),
      doctest::Contains("as its processing list"), config_error);
  CHECK_THROWS_WITH_AS(
      list_source_config::parse({{"redis.list.name", "jobs"}, {"redis.list.command", "LPOP"}}),
      doctest::Contains("redis.list.command"), config_error);
  CHECK_THROWS_AS(list_source_config::parse({{"redis.list.name", "jobs"}, {"batch.size", "0"}}),
                  config_error);
}

TEST_CASE("list source config: BLMOVE's wait must end before the connection's deadline") {
  CHECK_THROWS_WITH_AS(
      list_source_config::parse(
          {{"redis.list.name", "jobs"}, {"redis.list.block", "2000"}, {"redis.timeout", "2"}}),
      doctest::Contains("shorter than redis.timeout"), config_error);
  CHECK_NOTHROW(list_source_config::parse(
      {{"redis.list.name", "jobs"}, {"redis.list.block", "1999"}, {"redis.timeout", "2"}}));
}

TEST_CASE("list source config on a cluster: list and processing list share a slot") {
  CHECK_THROWS_WITH_AS(
      list_source_config::parse({{"redis.list.name", "jobs"}, {"redis.cluster", "true"}}),
      doctest::Contains("hash slot"), config_error);
  auto c = list_source_config::parse(
      {{"redis.list.name", "{jobs}"}, {"redis.cluster", "true"}, {"name", "c"}});
  CHECK(c.processing_key_for("{jobs}") == "{jobs}:processing:c");
  auto d = list_source_config::parse({{"redis.list.name", "jobs"},
                                      {"redis.cluster", "true"},
                                      {"redis.list.processing", "{${list}}:processing"}});
  CHECK(d.processing_key_for("jobs") == "{jobs}:processing");
}

TEST_CASE("list source connector spreads lists over tasks round-robin") {
  list_source_connector c;
  c.start({{"redis.list.name", "a,b,c"}, {"name", "q"}});
  auto tasks = c.task_configs(2);
  REQUIRE(tasks.size() == 2);
  CHECK(tasks[0].at("redis.list.name") == "a,c");
  CHECK(tasks[1].at("redis.list.name") == "b");
  CHECK(tasks[1].at("name") == "q");
  CHECK(c.task_configs(8).size() == 3);
}

TEST_CASE("processing window: only the acknowledged prefix is trimmable") {
  processing_window w;
  w.reset(0);
  CHECK_FALSE(w.redelivering());
  CHECK(w.appended(3) == 0);
  CHECK(w.appended(2) == 3);
  CHECK(w.tail() == 5);
  w.acknowledge(1);
  w.acknowledge(2);
  CHECK(w.trimmable() == 0);  // position 0 not acknowledged yet
  w.acknowledge(0);
  CHECK(w.trimmable() == 3);
  w.trimmed(3);
  CHECK(w.head() == 3);
  CHECK(w.in_flight() == 2);
  w.acknowledge(1);   // trimmed already: ignored
  w.acknowledge(99);  // never appended: ignored
  CHECK(w.trimmable() == 0);
  w.acknowledge(4);
  CHECK(w.trimmable() == 0);
  w.acknowledge(3);
  CHECK(w.trimmable() == 2);
}

TEST_CASE("processing window: a committed offset covers records acknowledged without a call") {
  processing_window w;
  w.reset(0);
  w.appended(4);
  w.delivered_through(2);  // e.g. a transform dropped position 1: no commit_record for it
  CHECK(w.trimmable() == 3);
  w.delivered_through(100);  // never past what was appended
  CHECK(w.trimmable() == 4);
  w.trimmed(4);
  CHECK(w.head() == 4);
  w.delivered_through(2);  // an older offset: nothing changes
  CHECK(w.trimmable() == 0);
}

TEST_CASE("processing window: elements found at the start are delivered again first") {
  processing_window w;
  w.reset(5);
  CHECK(w.redelivering());
  CHECK(w.redeliver_next() == 0);
  CHECK(w.redeliver_end() == 5);
  w.redelivered(3);
  CHECK(w.redelivering());
  w.acknowledge(0);
  w.trimmed(w.trimmable());
  CHECK(w.head() == 1);
  CHECK(w.redeliver_next() == 3);  // index 3 - head() = 2 in the processing list now
  w.redelivered(2);
  CHECK_FALSE(w.redelivering());
  CHECK(w.appended(1) == 5);
  w.reset(2);  // a resync: a new epoch starts at position 0
  CHECK(w.head() == 0);
  CHECK(w.tail() == 2);
  CHECK(w.trimmable() == 0);
}
