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

TEST_CASE("stream source config: the stream name is required") {
  CHECK(stream_name_errors({}) == 1);
  CHECK(stream_name_errors({{"redis.stream.name", ""}}) == 1);
  CHECK(stream_name_errors({{"redis.stream.name", "s"}}) == 0);
  CHECK_THROWS_AS(stream_source_config::parse({}), config_error);
  CHECK_THROWS_AS(stream_source_config::parse({{"redis.stream.name", " , "}}), config_error);
}

TEST_CASE("stream source config: a list with no stream names fails validation") {
  CHECK(stream_name_errors({{"redis.stream.name", " , "}}) == 1);
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
