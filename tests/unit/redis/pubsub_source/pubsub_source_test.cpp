#include <doctest/doctest.h>

#include "ferry/api/errors.hpp"
#include "pubsub_source/pubsub_source_config.hpp"
#include "pubsub_source/pubsub_source_connector.hpp"

using namespace ferry::redis;

TEST_CASE("pubsub source config: channels or patterns are required") {
  CHECK_THROWS_AS(pubsub_source_config::parse({{"redis.uri", "redis://127.0.0.1:7000"}}),
                  ferry::api::config_error);
  auto c = pubsub_source_config::parse(
      {{"redis.uri", "redis://127.0.0.1:7000"}, {"redis.pubsub.patterns", "news.*, sport:*"}});
  CHECK(c.patterns == std::vector<std::string>{"news.*", "sport:*"});
  CHECK(c.channels.empty());
}

TEST_CASE("pubsub source: topics from channel names, made legal for Kafka") {
  pubsub_source_config c;
  CHECK(c.topic_for("orders") == "orders");
  CHECK(c.topic_for("sport:golf/us") == "sport_golf_us");
  c.topic_template = "redis-${channel}-${channel}";
  CHECK(c.topic_for("a.b") == "redis-a.b-a.b");
  c.topic_template = "fixed";
  CHECK(c.topic_for("x") == "fixed");
}

TEST_CASE("pubsub source connector: each channel and pattern goes to one task") {
  pubsub_source_connector connector;
  connector.start({{"redis.uri", "redis://127.0.0.1:7000"},
                   {"redis.pubsub.channels", "a,b,c"},
                   {"redis.pubsub.patterns", "p*"}});
  auto tasks = connector.task_configs(3);
  REQUIRE(tasks.size() == 3);
  CHECK(tasks[0]["redis.pubsub.channels"] == "a");
  CHECK(tasks[0]["redis.pubsub.patterns"] == "p*");
  CHECK(tasks[1]["redis.pubsub.channels"] == "b");
  CHECK(tasks[1]["redis.pubsub.patterns"] == "");
  CHECK(tasks[2]["redis.pubsub.channels"] == "c");
  CHECK(connector.task_configs(10).size() == 4);
  CHECK(connector.task_configs(1).size() == 1);
}
