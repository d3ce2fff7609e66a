#include <doctest/doctest.h>

#include <algorithm>

#include "ferry/core/connector_config.hpp"
#include "ferry/redis/register.hpp"

using ferry::json;
using ferry::api::config_map;
using ferry::api::config_value;
using namespace ferry::core;

namespace {

const ferry::api::plugin_registry& registry() {
  static const ferry::api::plugin_registry r = [] {
    ferry::api::plugin_registry reg;
    ferry::redis::register_redis_connectors(reg);
    return reg;
  }();
  return r;
}

const ferry::api::connector_plugin& sink_plugin() {
  return *registry().find("ferry.redis.RedisSinkConnector");
}

const ferry::api::connector_plugin& source_plugin() {
  return *registry().find("ferry.redis.RedisStreamSourceConnector");
}

config_map sink_config(config_map extra = {}) {
  config_map c{{"name", "redis-sink"}, {"connector.class", "ferry.redis.RedisSinkConnector"}};
  for (auto& [k, v] : extra) c[k] = v;
  return c;
}

const config_value* find_value(const std::vector<config_value>& values, const std::string& name) {
  auto it = std::find_if(values.begin(), values.end(),
                         [&](const config_value& v) { return v.name == name; });
  return it == values.end() ? nullptr : &*it;
}

std::vector<std::string> errors_of(const std::vector<config_value>& values,
                                   const std::string& name) {
  const auto* v = find_value(values, name);
  REQUIRE_MESSAGE(v != nullptr, "no config_value for " << name);
  return v->errors;
}

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

}  // namespace

TEST_CASE("a complete sink config validates without errors") {
  auto values = validate_connector_config(sink_plugin(), sink_config({{"topics", "orders"}}));
  CHECK(ferry::api::config_def::error_count(values) == 0);
  CHECK(describe_errors(values).empty());
  // The plugin's own keys are validated too.
  CHECK(find_value(values, "redis.type") != nullptr);
}

TEST_CASE("a sink needs topics or topics.regex, and not both") {
  SUBCASE("neither") {
    auto values = validate_connector_config(sink_plugin(), sink_config());
    auto errors = errors_of(values, "topics");
    REQUIRE(errors.size() == 1);
    CHECK(contains(errors[0], "topics.regex"));
  }
  SUBCASE("only topics.regex") {
    auto values = validate_connector_config(sink_plugin(), sink_config({{"topics.regex", "o.*"}}));
    CHECK(ferry::api::config_def::error_count(values) == 0);
  }
  SUBCASE("blank topics count as none") {
    auto values = validate_connector_config(sink_plugin(), sink_config({{"topics", " , "}}));
    CHECK(errors_of(values, "topics").size() == 1);
  }
  SUBCASE("both") {
    auto values = validate_connector_config(
        sink_plugin(), sink_config({{"topics", "orders"}, {"topics.regex", "o.*"}}));
    CHECK(ferry::api::config_def::error_count(values) == 1);
    auto errors = errors_of(values, "topics.regex");
    REQUIRE(errors.size() == 1);
    CHECK(contains(errors[0], "mutually exclusive"));
  }
}

TEST_CASE("connector config: unknown converter class and tasks.max=0 are errors on their keys") {
  auto values = validate_connector_config(
      sink_plugin(),
      sink_config({{"topics", "t"},
                   {"value.converter", "io.confluent.connect.avro.AvroConverter"},
                   {"key.converter", "org.apache.kafka.connect.storage.StringConverter"},
                   {"tasks.max", "0"}}));
  auto conv = errors_of(values, "value.converter");
  REQUIRE(conv.size() == 1);
  CHECK(contains(conv[0], "AvroConverter"));
  CHECK(errors_of(values, "key.converter").empty());
  CHECK(errors_of(values, "tasks.max").size() == 1);
  CHECK(ferry::api::config_def::error_count(values) == 2);
}

TEST_CASE("connector config: name and connector.class are required") {
  auto values = validate_connector_config(source_plugin(), {{"redis.stream.name", "s"}});
  CHECK(errors_of(values, "name").size() == 1);
  CHECK(errors_of(values, "connector.class").size() == 1);
  // Sources have no topics keys.
  CHECK(find_value(values, "topics") == nullptr);
  CHECK(find_value(values, "topics.regex") == nullptr);
}

TEST_CASE("describe_errors counts every error and lists them") {
  auto values =
      validate_connector_config(sink_plugin(), {{"connector.class", "x"}, {"tasks.max", "0"}});
  // name missing, tasks.max too small, no topics
  auto msg = describe_errors(values);
  CAPTURE(msg);
  CHECK(
      msg.starts_with("Connector configuration is invalid and contains the following 3 error(s):"));
  CHECK(contains(msg, "\"name\""));
  CHECK(contains(msg, "tasks.max"));
  CHECK(contains(msg, "topics"));
}

TEST_CASE("config_infos has Kafka's ConfigInfos shape") {
  auto config = sink_config({{"redis.password", "s3cret"}, {"redis.type", "GRAPH"}});
  auto j = config_infos(sink_plugin(), config, {.values = config, .secrets = {}});
  CHECK(j["name"] == "ferry.redis.RedisSinkConnector");
  CHECK(j["error_count"] == 2);  // redis.type and the missing topics

  REQUIRE(j["groups"].is_array());
  std::vector<std::string> groups = j["groups"].get<std::vector<std::string>>();
  CHECK(groups.front() == "Common");
  CHECK(std::count(groups.begin(), groups.end(), "Redis connection") == 1);
  CHECK(std::count(groups.begin(), groups.end(), "Redis sink") == 1);

  REQUIRE(j["configs"].is_array());
  bool saw_password = false, saw_type = false;
  for (const auto& c : j["configs"]) {
    REQUIRE(c.contains("definition"));
    REQUIRE(c.contains("value"));
    CHECK(c["definition"]["name"] == c["value"]["name"]);
    CHECK(c["value"]["errors"].is_array());
    CHECK(c["value"].contains("recommended_values"));
    CHECK(c["value"]["visible"] == true);
    if (c["value"]["name"] == "redis.password") {
      saw_password = true;
      CHECK(c["value"]["value"] == "[hidden]");
      CHECK(c["definition"]["type"] == "PASSWORD");
    }
    if (c["value"]["name"] == "redis.type") {
      saw_type = true;
      CHECK(c["value"]["value"] == "GRAPH");
      CHECK(c["value"]["errors"].size() == 1);
    }
  }
  CHECK(saw_password);
  CHECK(saw_type);
  CHECK(j.dump().find("s3cret") == std::string::npos);
}

TEST_CASE("config_infos works with a hand-made plugin without its own config") {
  ferry::api::connector_plugin bare;
  bare.class_name = "test.BareSourceConnector";
  bare.type = ferry::api::connector_type::source;
  ferry::api::config_map config{{"name", "n"}, {"connector.class", "test.BareSourceConnector"}};
  auto j = config_infos(bare, config, {.values = config, .secrets = {}});
  CHECK(j["error_count"] == 0);
  // Kafka's groups: the common keys, error handling, a source's exactly-once and topic creation
  // keys, then transforms and predicates.
  CHECK(j["groups"] ==
        json::array({"Common", "Error Handling", "Automatic restart (ferry)",
                     "Exactly Once Support", "Topic Creation", "Transforms", "Predicates"}));
  CHECK(j["configs"].size() ==
        common_connector_def(ferry::api::connector_type::source).keys().size() + 2);
}

TEST_CASE("config_infos shows config-provider references, never what they resolved to") {
  auto raw = sink_config({{"redis.type", "${env:REDIS_TYPE}"}, {"redis.uri", "${file:/s:uri}"}});
  auto resolved = raw;
  resolved["redis.type"] = "GRAPH-OF-SECRETS";
  resolved["redis.uri"] = "redis://user:pw0rd@127.0.0.1:6379";
  ferry::core::resolved_config rc{
      .values = resolved,
      .secrets = {{"redis://user:pw0rd@127.0.0.1:6379", "${file:/s:uri}"},
                  {"GRAPH-OF-SECRETS", "${env:REDIS_TYPE}"}}};
  auto j = config_infos(sink_plugin(), raw, rc);
  bool saw_type = false;
  for (const auto& c : j["configs"]) {
    if (c["value"]["name"] == "redis.type") {
      saw_type = true;
      CHECK(c["value"]["value"] == "${env:REDIS_TYPE}");
      REQUIRE(c["value"]["errors"].size() == 1);  // validated resolved: GRAPH-... is not a type
      CHECK(contains(c["value"]["errors"][0].get<std::string>(), "${env:REDIS_TYPE}"));
    }
    if (c["value"]["name"] == "redis.uri") CHECK(c["value"]["value"] == "${file:/s:uri}");
  }
  CHECK(saw_type);
  CHECK(j.dump().find("GRAPH-OF-SECRETS") == std::string::npos);
  CHECK(j.dump().find("pw0rd") == std::string::npos);
}

TEST_CASE("client overrides are checked for the clients the connector uses") {
  auto none = worker_config::parse({{"connector.client.config.override.policy", "None"}}, true);
  const std::string refusal =
      "The 'None' policy does not allow 'max.poll.records' to be overridden in the connector "
      "configuration.";
  auto sink = sink_config({{"topics", "t"},
                           {"consumer.override.max.poll.records", "7"},
                           {"producer.override.linger.ms", "1"}});
  auto values = validate_connector_config(sink_plugin(), sink, &none);
  CHECK(errors_of(values, "consumer.override.max.poll.records") ==
        std::vector<std::string>{refusal});
  // No dead letter queue: the sink has no producer, so its producer overrides are not checked.
  CHECK(find_value(values, "producer.override.linger.ms") == nullptr);
  CHECK(contains(describe_errors(values), refusal));
  sink["errors.deadletterqueue.topic.name"] = "dlq";
  values = validate_connector_config(sink_plugin(), sink, &none);
  CHECK(errors_of(values, "producer.override.linger.ms").size() == 1);

  // A source's producer always; its admin client only with topic creation or its own offsets
  // topic; never a consumer.
  config_map source{{"name", "s"},
                    {"connector.class", "ferry.redis.RedisStreamSourceConnector"},
                    {"redis.stream.name", "s"},
                    {"producer.override.acks", "1"},
                    {"admin.override.request.timeout.ms", "1"},
                    {"consumer.override.fetch.min.bytes", "1"}};
  values = validate_connector_config(source_plugin(), source, &none);
  CHECK(errors_of(values, "producer.override.acks").size() == 1);
  CHECK(find_value(values, "admin.override.request.timeout.ms") == nullptr);
  CHECK(find_value(values, "consumer.override.fetch.min.bytes") == nullptr);
  source["topic.creation.default.partitions"] = "1";
  source["topic.creation.default.replication.factor"] = "1";
  values = validate_connector_config(source_plugin(), source, &none);
  CHECK(errors_of(values, "admin.override.request.timeout.ms").size() == 1);

  // Without a worker (or with the default policy) nothing is refused.
  CHECK(ferry::api::config_def::error_count(validate_connector_config(sink_plugin(), sink)) == 0);
  auto all = worker_config::parse({}, true);
  CHECK(ferry::api::config_def::error_count(validate_connector_config(sink_plugin(), sink, &all)) ==
        0);
}

TEST_CASE("config_infos lists client overrides without a definition and hides their secrets") {
  auto all = worker_config::parse({}, true);
  auto config = sink_config({{"topics", "t"},
                             {"consumer.override.fetch.min.bytes", "9"},
                             {"consumer.override.sasl.jaas.config", "Login pw=hunter22;"}});
  auto j = config_infos(sink_plugin(), config, {.values = config, .secrets = {}}, &all);
  CHECK(j["error_count"] == 0);
  int seen = 0;
  for (const auto& c : j["configs"]) {
    const auto& name = c["value"]["name"];
    if (name == "consumer.override.fetch.min.bytes") {
      ++seen;
      CHECK(c["definition"].is_null());
      CHECK(c["value"]["value"] == "9");
    }
    if (name == "consumer.override.sasl.jaas.config") {
      ++seen;
      CHECK(c["value"]["value"] == "[hidden]");
    }
  }
  CHECK(seen == 2);
  CHECK(j.dump().find("hunter22") == std::string::npos);
}
