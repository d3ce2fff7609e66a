#include <doctest/doctest.h>

#include "ferry/api/errors.hpp"
#include "sink/command_builder.hpp"
#include "sink/redis_sink_task.hpp"
#include "sink_test_support.hpp"

using ferry::json;
using ferry::api::config_error;
using ferry::api::config_map;
using namespace ferry::redis;
using sink_test::command;
using sink_test::record;

TEST_CASE("redis sink exactly-once: off by default, needs the connector name") {
  CHECK_FALSE(redis_sink_config::parse({}).exactly_once);
  auto c = redis_sink_config::parse({{"name", "orders"}, {"redis.exactly.once", "true"}});
  CHECK(c.exactly_once);
  CHECK(c.connector_name == "orders");
  CHECK_THROWS_WITH_AS(redis_sink_config::parse({{"redis.exactly.once", "true"}}),
                       doctest::Contains("connector's name"), config_error);
}

TEST_CASE("redis sink exactly-once: refused on a Redis Cluster, with the reason") {
  CHECK_THROWS_WITH_AS(
      redis_sink_config::parse(
          {{"name", "orders"}, {"redis.exactly.once", "true"}, {"redis.cluster", "true"}}),
      doctest::Contains("one hash slot"), config_error);
}

TEST_CASE("redis sink exactly-once: offset keys share the connector's hash tag") {
  CHECK(offset_key("orders", {"events", 3}) == "ferry:offsets:{orders}:events:3");
}

TEST_CASE("redis sink exactly-once: the builder emits writes only (the task adds MULTI, WAIT)") {
  auto c = redis_sink_config::parse({{"name", "s"},
                                     {"redis.exactly.once", "true"},
                                     {"redis.multiexec", "true"},
                                     {"redis.key.ttl", "60"},
                                     {"redis.wait.replicas", "1"},
                                     {"redis.command", "RPUSH"}});
  command_builder b(c);
  CHECK_FALSE(b.waits());
  ferry::clients::redis_pipeline p;
  b.build(std::vector{record("t", "a", "one", 0)}, p);
  b.build(std::vector{record("t", "b", "two", 1)}, p);  // one transaction, built in runs
  CHECK(sink_test::decode(p) == std::vector<command>{{"RPUSH", "t", "a"},
                                                     {"EXPIRE", "t", "60"},
                                                     {"RPUSH", "t", "b"},
                                                     {"EXPIRE", "t", "60"}});
}
