#include <doctest/doctest.h>

#include <algorithm>

#include "ferry/api/errors.hpp"
#include "sink/redis_sink_config.hpp"

using ferry::api::config_error;
using ferry::api::config_map;
using ferry::api::config_value;
using namespace ferry::redis;
using namespace std::chrono_literals;

namespace {

std::vector<std::string> validation_errors(const config_map& config, const std::string& key) {
  auto values = redis_sink_config_def().validate(config);
  auto it = std::find_if(values.begin(), values.end(),
                         [&](const config_value& v) { return v.name == key; });
  REQUIRE_MESSAGE(it != values.end(), "no config_value for " << key);
  return it->errors;
}

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

}  // namespace

TEST_CASE("redis sink config defaults") {
  auto c = redis_sink_config::parse({});
  CHECK(c.type == sink_type::stream);
  CHECK(c.keyspace == "${topic}");
  CHECK(c.separator == ":");
  CHECK(c.ttl_seconds == -1);
  CHECK(c.multiexec == false);
  CHECK(c.endpoint.host == "localhost");
  CHECK(c.endpoint.port == 6379);
  CHECK(c.endpoint.database == 0);
  CHECK(c.endpoint.timeout == 60s);
  CHECK(ferry::api::config_def::error_count(redis_sink_config_def().validate({})) == 0);
}

TEST_CASE("redis sink config: redis.type is case-insensitive") {
  const std::vector<std::pair<std::string, sink_type>> cases = {
      {"string", sink_type::string}, {"Hash", sink_type::hash}, {"STREAM", sink_type::stream},
      {"list", sink_type::list},     {"set", sink_type::set},   {"zset", sink_type::zset}};
  for (const auto& [text, type] : cases) {
    CAPTURE(text);
    CHECK(validation_errors({{"redis.type", text}}, "redis.type").empty());
    CHECK(redis_sink_config::parse({{"redis.type", text}}).type == type);
  }
}

TEST_CASE("redis sink config: an unknown redis.type is refused") {
  auto errors = validation_errors({{"redis.type", "GRAPH"}}, "redis.type");
  REQUIRE(errors.size() == 1);
  CHECK(contains(errors[0], "GRAPH"));
  CHECK_THROWS_AS(redis_sink_config::parse({{"redis.type", "GRAPH"}}), config_error);
}

TEST_CASE("redis sink config: redis.uri wins over redis.host and redis.port") {
  auto c = redis_sink_config::parse({{"redis.uri", "redis://u:pw@cache:6390/2?timeout=3s"},
                                     {"redis.host", "ignored"},
                                     {"redis.port", "1234"}});
  CHECK(c.endpoint.host == "cache");
  CHECK(c.endpoint.port == 6390);
  CHECK(c.endpoint.database == 2);
  CHECK(c.endpoint.username == "u");
  CHECK(c.endpoint.password == "pw");
  CHECK(c.endpoint.timeout == 3s);

  auto host_port = redis_sink_config::parse({{"redis.host", "other"},
                                             {"redis.port", "1234"},
                                             {"redis.password", "x"},
                                             {"redis.database", "4"}});
  CHECK(host_port.endpoint.host == "other");
  CHECK(host_port.endpoint.port == 1234);
  CHECK(host_port.endpoint.password == "x");
  CHECK(host_port.endpoint.database == 4);
}

TEST_CASE("redis sink config: a malformed redis.uri is a validation error and a config_error") {
  CHECK(validation_errors({{"redis.uri", "rediss://h"}}, "redis.uri").size() == 1);
  CHECK(validation_errors({{"redis.uri", "nonsense"}}, "redis.uri").size() == 1);
  CHECK_THROWS_AS(redis_sink_config::parse({{"redis.uri", "nonsense"}}), config_error);
}

TEST_CASE("redis sink config: redis.cluster and redis.tls are refused as not supported") {
  for (std::string key : {"redis.cluster", "redis.tls"}) {
    CAPTURE(key);
    auto errors = validation_errors({{key, "true"}}, key);
    REQUIRE(errors.size() == 1);
    CHECK(contains(errors[0], "not supported"));
    CHECK(validation_errors({{key, "false"}}, key).empty());
  }
}

TEST_CASE("redis sink config: redis.key.ttl is -1 or positive; password is masked") {
  CHECK(validation_errors({{"redis.key.ttl", "-1"}}, "redis.key.ttl").empty());
  CHECK(validation_errors({{"redis.key.ttl", "30"}}, "redis.key.ttl").empty());
  CHECK(validation_errors({{"redis.key.ttl", "0"}}, "redis.key.ttl").size() == 1);
  CHECK(validation_errors({{"redis.key.ttl", "-5"}}, "redis.key.ttl").size() == 1);
  CHECK(redis_sink_config::parse({{"redis.key.ttl", "30"}}).ttl_seconds == 30);

  auto values = redis_sink_config_def().validate({{"redis.password", "pw"}});
  auto it = std::find_if(values.begin(), values.end(),
                         [](const config_value& v) { return v.name == "redis.password"; });
  REQUIRE(it != values.end());
  CHECK(it->value == std::optional<std::string>("[hidden]"));
}
