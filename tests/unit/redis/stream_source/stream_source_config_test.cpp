#include <doctest/doctest.h>

#include <algorithm>

#include "ferry/api/errors.hpp"
#include "stream_source/stream_source_config.hpp"

using ferry::api::config_error;
using ferry::api::config_value;
using namespace ferry::redis;

namespace {

std::size_t stream_name_errors(const ferry::api::config_map& config) {
  auto values = stream_source_config_def().validate(config);
  auto it = std::find_if(values.begin(), values.end(),
                         [](const config_value& v) { return v.name == "redis.stream.name"; });
  REQUIRE(it != values.end());
  return it->errors.size();
}

}  // namespace

TEST_CASE("stream source config reads a comma list of streams and applies defaults") {
  auto c = stream_source_config::parse({{"redis.stream.name", " orders, payments ,,audit "}});
  CHECK(c.streams == std::vector<std::string>{"orders", "payments", "audit"});
  CHECK(c.start_id == "0-0");
  CHECK(c.block == std::chrono::milliseconds(100));
  CHECK(c.batch_size == 500);
  CHECK(c.topic_template == "${stream}");
  CHECK(c.endpoint.port == 6379);
}

TEST_CASE("stream source config: topic_for replaces ${stream}") {
  auto c = stream_source_config::parse({{"redis.stream.name", "s"}, {"topic", "redis.${stream}"}});
  CHECK(c.topic_for("orders") == "redis.orders");
  c.topic_template = "${stream}-${stream}";
  CHECK(c.topic_for("a") == "a-a");
  c.topic_template = "fixed";
  CHECK(c.topic_for("a") == "fixed");
  c.topic_template = "${stream}";
  CHECK(c.topic_for("${stream}") == "${stream}");  // no endless replacement
}

TEST_CASE("stream source config: a stream name or a pattern is required") {
  CHECK_THROWS_AS(stream_source_config::parse({}), config_error);
  CHECK_THROWS_AS(stream_source_config::parse({{"redis.stream.name", " , "}}), config_error);
  CHECK_THROWS_AS(stream_source_config::parse({{"redis.stream.pattern", "orders:*"}}),
                  config_error);  // required, as in redis-kafka-connect
  auto c = stream_source_config::parse(
      {{"redis.stream.name", ""}, {"redis.stream.pattern", "orders:*"}});
  CHECK(c.streams.empty());
  CHECK(c.pattern == "orders:*");
  CHECK(c.rescan == std::chrono::milliseconds(10000));
  CHECK(stream_name_errors({}) == 1);
  // Empty is valid on its own: the pair is checked when the connector starts.
  CHECK(stream_name_errors({{"redis.stream.name", ""}}) == 0);
  CHECK_THROWS_AS(stream_source_config::parse({{"redis.stream.name", ""}}), config_error);
}

TEST_CASE("stream source config: a list with no stream names fails validation") {
  CHECK(stream_name_errors({{"redis.stream.name", " , "}}) == 1);
  CHECK(stream_name_errors({{"redis.stream.name", "s"}}) == 0);
}

TEST_CASE("stream source config: numeric ranges are validated") {
  auto errors_of = [](const ferry::api::config_map& config, const std::string& key) {
    auto values = stream_source_config_def().validate(config);
    auto it = std::find_if(values.begin(), values.end(),
                           [&](const config_value& v) { return v.name == key; });
    REQUIRE(it != values.end());
    return it->errors.size();
  };
  CHECK(errors_of({{"redis.stream.block", "0"}}, "redis.stream.block") == 1);
  CHECK(errors_of({{"redis.stream.block", "5000"}}, "redis.stream.block") == 0);
  CHECK(errors_of({{"batch.size", "0"}}, "batch.size") == 1);
  CHECK(errors_of({{"topic", ""}}, "topic") == 1);
}

TEST_CASE("stream source config: xread mode unless consumer-group keys are set") {
  auto c = stream_source_config::parse({{"redis.stream.name", "s"}});
  CHECK(c.mode == stream_read_mode::xread);
  CHECK(c.group == "kafka-consumer-group");
  CHECK(c.consumer_name() == "consumer-0");
  CHECK(c.delivery == stream_delivery::at_least_once);
  CHECK(c.claim_idle == std::chrono::milliseconds(60000));
  for (const char* key :
       {"redis.stream.consumer.group", "redis.stream.consumer.name", "redis.stream.delivery"}) {
    std::string value = std::string(key) == "redis.stream.delivery" ? "at-least-once" : "g";
    auto g = stream_source_config::parse({{"redis.stream.name", "s"}, {key, value}});
    CHECK(g.mode == stream_read_mode::group);
  }
  auto forced = stream_source_config::parse({{"redis.stream.name", "s"},
                                             {"redis.stream.mode", "xread"},
                                             {"redis.stream.consumer.group", "g"}});
  CHECK(forced.mode == stream_read_mode::xread);
  auto group = stream_source_config::parse({{"redis.stream.name", "s"},
                                            {"redis.stream.mode", "group"},
                                            {"redis.stream.delivery", "at-most-once"},
                                            {"redis.stream.consumer.name", "w-${task}-${task}"},
                                            {"ferry.stream.task.index", "3"},
                                            {"ferry.stream.task.count", "4"}});
  CHECK(group.mode == stream_read_mode::group);
  CHECK(group.delivery == stream_delivery::at_most_once);
  CHECK(group.consumer_name() == "w-3-3");
}

TEST_CASE("stream source config: key and value layouts") {
  auto c = stream_source_config::parse({{"redis.stream.name", "s"}});
  CHECK(c.key_layout == stream_key_layout::id);
  CHECK(c.value_layout == stream_value_layout::record);
  c = stream_source_config::parse({{"redis.stream.name", "s"},
                                   {"redis.stream.key", "body.user"},
                                   {"redis.stream.value", "body"}});
  CHECK(c.key_layout == stream_key_layout::body_field);
  CHECK(c.key_field == "user");
  CHECK(c.value_layout == stream_value_layout::body);
  c = stream_source_config::parse({{"redis.stream.name", "s"}, {"redis.stream.key", "stream"}});
  CHECK(c.key_layout == stream_key_layout::stream);
  auto errors_of = [](const ferry::api::config_map& config, const std::string& key) {
    auto values = stream_source_config_def().validate(config);
    auto it = std::find_if(values.begin(), values.end(),
                           [&](const config_value& v) { return v.name == key; });
    REQUIRE(it != values.end());
    return it->errors.size();
  };
  CHECK(errors_of({{"redis.stream.key", "body."}}, "redis.stream.key") == 1);
  CHECK(errors_of({{"redis.stream.key", "entry"}}, "redis.stream.key") == 1);
  CHECK(errors_of({{"redis.stream.value", "json"}}, "redis.stream.value") == 1);
  CHECK(errors_of({{"redis.stream.mode", "poll"}}, "redis.stream.mode") == 1);
  CHECK(errors_of({{"redis.stream.delivery", "exactly-once"}}, "redis.stream.delivery") == 1);
  CHECK(errors_of({{"redis.stream.offset", "abc"}}, "redis.stream.offset") == 1);
  CHECK(errors_of({{"redis.stream.offset", "$"}}, "redis.stream.offset") == 0);
  CHECK(errors_of({{"redis.stream.offset", "1700000000000-5"}}, "redis.stream.offset") == 0);
  CHECK(errors_of({{"redis.stream.claim.idle.ms", "-1"}}, "redis.stream.claim.idle.ms") == 1);
  CHECK(errors_of({{"redis.stream.pattern.rescan.ms", "10"}}, "redis.stream.pattern.rescan.ms") ==
        1);
}

TEST_CASE("stream source config: a task index outside the task count is refused") {
  CHECK_THROWS_AS(stream_source_config::parse({{"redis.stream.name", "s"},
                                               {"ferry.stream.task.index", "2"},
                                               {"ferry.stream.task.count", "2"}}),
                  config_error);
  CHECK_THROWS_AS(stream_source_config::parse(
                      {{"redis.stream.name", "s"}, {"ferry.stream.task.count", "zero"}}),
                  config_error);
}
