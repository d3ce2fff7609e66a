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
  CHECK(c.push == push_side::right);
  CHECK(c.ttl_field.empty());
  CHECK(c.wait_replicas == 0);
  CHECK(c.wait_timeout_ms == 1000);
  CHECK(c.zset_score_field.empty());
  CHECK(c.stream_id_field.empty());
  CHECK(c.stream_maxlen == 0);
  CHECK(c.command.empty());
  CHECK(c.delete_command.empty());
  CHECK(c.endpoint.host == "localhost");
  CHECK(c.endpoint.port == 6379);
  CHECK(c.endpoint.database == 0);
  CHECK(c.endpoint.timeout == 60s);
  CHECK(ferry::api::config_def::error_count(redis_sink_config_def().validate({})) == 0);
}

TEST_CASE("redis sink config: redis.type is case-insensitive") {
  const std::vector<std::pair<std::string, sink_type>> cases = {
      {"string", sink_type::string}, {"Hash", sink_type::hash},      {"STREAM", sink_type::stream},
      {"list", sink_type::list},     {"set", sink_type::set},        {"zset", sink_type::zset},
      {"json", sink_type::json},     {"PUBLISH", sink_type::publish}};
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
  CHECK(validation_errors({{"redis.uri", "nonsense"}}, "redis.uri").size() == 1);
  CHECK_THROWS_AS(redis_sink_config::parse({{"redis.uri", "nonsense"}}), config_error);
}

TEST_CASE("redis sink config: redis.cluster reaches the endpoint (per-key MULTI/EXEC)") {
  CHECK(redis_sink_config::parse({{"redis.cluster", "true"}}).endpoint.cluster);
  CHECK_FALSE(redis_sink_config::parse({}).endpoint.cluster);
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

TEST_CASE("redis sink config: TIMESERIES is refused by name") {
  auto errors = validation_errors({{"redis.type", "TIMESERIES"}}, "redis.type");
  REQUIRE(errors.size() == 1);
  CHECK(contains(errors[0], "not supported"));
}

TEST_CASE("redis sink config: every ferry and redis-kafka-connect key is parsed") {
  auto c = redis_sink_config::parse({{"redis.type", "ZSET"},
                                     {"redis.keyspace", "z:${topic}"},
                                     {"redis.separator", "/"},
                                     {"redis.charset", "utf-8"},
                                     {"redis.key.ttl", "60"},
                                     {"redis.key.ttl.field", "ttl"},
                                     {"redis.multiexec", "true"},
                                     {"redis.wait.replicas", "2"},
                                     {"redis.wait.timeout", "250"},
                                     {"redis.zset.score.field", "score"},
                                     {"redis.stream.id.field", "id"},
                                     {"redis.stream.maxlen", "1000"}});
  CHECK(c.type == sink_type::zset);
  CHECK(c.keyspace == "z:${topic}");
  CHECK(c.separator == "/");
  CHECK(c.ttl_seconds == 60);
  CHECK(c.ttl_field == "ttl");
  CHECK(c.multiexec);
  CHECK(c.wait_replicas == 2);
  CHECK(c.wait_timeout_ms == 250);
  CHECK(c.zset_score_field == "score");
  CHECK(c.stream_id_field == "id");
  CHECK(c.stream_maxlen == 1000);
}

TEST_CASE("redis sink config: redis.command is a template or a 0.9 command name") {
  auto t = redis_sink_config::parse(
      {{"redis.command", "GEOADD ${key} ${value.lon} ${value.lat} ${value.name}"},
       {"redis.command.delete", "ZREM ${key} ${key}"}});
  CHECK(t.type == sink_type::command);
  CHECK(t.command == "GEOADD ${key} ${value.lon} ${value.lat} ${value.name}");
  CHECK(t.delete_command == "ZREM ${key} ${key}");

  const std::vector<std::tuple<std::string, sink_type, push_side>> legacy = {
      {"SET", sink_type::string, push_side::right},   {"HSET", sink_type::hash, push_side::right},
      {"JSONSET", sink_type::json, push_side::right}, {"XADD", sink_type::stream, push_side::right},
      {"RPUSH", sink_type::list, push_side::right},   {"LPUSH", sink_type::list, push_side::left},
      {"sadd", sink_type::set, push_side::right},     {"ZADD", sink_type::zset, push_side::right}};
  for (const auto& [name, type, push] : legacy) {
    CAPTURE(name);
    auto c = redis_sink_config::parse({{"redis.command", name}});
    CHECK(c.type == type);
    CHECK(c.push == push);
    CHECK(c.command.empty());
  }
  CHECK(redis_sink_config::parse({{"redis.command", "LPUSH"}, {"redis.type", "list"}}).push ==
        push_side::left);
}

TEST_CASE("redis sink config: malformed or conflicting keys are refused") {
  const std::vector<std::pair<config_map, std::string>> bad = {
      {{{"redis.command", "GEOADD ${key} ${nope}"}}, "redis.command"},
      {{{"redis.command", "SET ${key"}}, "redis.command"},
      {{{"redis.command", "SET ${value.} x"}}, "redis.command"},
      {{{"redis.command", "TSADD"}}, "redis.command"},
      {{{"redis.command", "SET k v"}, {"redis.command.delete", "DEL ${what}"}},
       "redis.command.delete"},
      {{{"redis.keyspace", "${topik}"}}, "redis.keyspace"},
      {{{"redis.key", "${"}}, "redis.key"},
      {{{"redis.charset", "ISO-8859-1"}}, "redis.charset"},
      {{{"redis.wait.replicas", "-1"}}, "redis.wait.replicas"},
      {{{"redis.wait.timeout", "0"}}, "redis.wait.timeout"},
      {{{"redis.stream.maxlen", "-3"}}, "redis.stream.maxlen"},
      {{{"redis.multiexec", "maybe"}}, "redis.multiexec"},
  };
  for (const auto& [config, key] : bad) {
    CAPTURE(key);
    CHECK(validation_errors(config, key).size() == 1);
    CHECK_THROWS_AS(redis_sink_config::parse(config), config_error);
  }
  // cross-key conflicts are found by parse()
  CHECK_THROWS_AS(redis_sink_config::parse({{"redis.command", "SET k v"}, {"redis.type", "HASH"}}),
                  config_error);
  CHECK_THROWS_AS(redis_sink_config::parse({{"redis.command", "LPUSH"}, {"redis.type", "SET"}}),
                  config_error);
  CHECK_THROWS_AS(redis_sink_config::parse({{"redis.command.delete", "DEL x"}}), config_error);
}

TEST_CASE("redis sink config: redis.key is the keyspace only when redis.keyspace is unset") {
  CHECK(redis_sink_config::parse({{"redis.key", "k"}}).keyspace == "k");
  CHECK(redis_sink_config::parse({{"redis.key", "k"}, {"redis.keyspace", "ks"}}).keyspace == "ks");
  CHECK(redis_sink_config::parse({{"redis.keyspace", ""}}).keyspace.empty());
}
