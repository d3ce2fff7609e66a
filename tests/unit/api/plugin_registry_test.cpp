#include <doctest/doctest.h>

#include <stdexcept>

#include "ferry/api/plugin_registry.hpp"
#include "ferry/redis/register.hpp"

using namespace ferry::api;

namespace {

connector_plugin plugin(std::string class_name, std::vector<std::string> aliases = {},
                        connector_type type = connector_type::source) {
  connector_plugin p;
  p.class_name = std::move(class_name);
  p.aliases = std::move(aliases);
  p.type = type;
  p.version = "1.0";
  return p;
}

}  // namespace

TEST_CASE("plugin_registry finds a plugin by class, alias, simple name and short name") {
  plugin_registry r;
  r.add(plugin("org.example.FileStreamSourceConnector", {"legacy.FileSource"}));
  r.add(plugin("org.example.HttpSinkConnector", {}, connector_type::sink));

  const auto* by_class = r.find("org.example.FileStreamSourceConnector");
  REQUIRE(by_class != nullptr);
  CHECK(by_class->class_name == "org.example.FileStreamSourceConnector");
  CHECK(r.find("legacy.FileSource") == by_class);
  CHECK(r.find("FileStreamSourceConnector") == by_class);
  CHECK(r.find("FileStreamSource") == by_class);

  const auto* sink = r.find("HttpSink");
  REQUIRE(sink != nullptr);
  CHECK(sink->type == connector_type::sink);
  CHECK(r.plugins().size() == 2);
}

TEST_CASE("plugin_registry does not match partial or empty names") {
  plugin_registry r;
  r.add(plugin("org.example.FileStreamSourceConnector"));
  CHECK(r.find("") == nullptr);
  CHECK(r.find("FileStream") == nullptr);
  CHECK(r.find("Connector") == nullptr);
  CHECK(r.find("example.FileStreamSourceConnector") == nullptr);
  CHECK(r.find("filestreamsourceconnector") == nullptr);
}

TEST_CASE("plugin_registry refuses duplicate class names and aliases") {
  plugin_registry r;
  r.add(plugin("a.OneConnector", {"alias.One"}));

  SUBCASE("same class name") {
    CHECK_THROWS_AS(r.add(plugin("a.OneConnector")), std::logic_error);
  }
  SUBCASE("alias that is another plugin's class name") {
    CHECK_THROWS_AS(r.add(plugin("b.TwoConnector", {"a.OneConnector"})), std::logic_error);
  }
  SUBCASE("class name that is another plugin's alias") {
    CHECK_THROWS_AS(r.add(plugin("alias.One")), std::logic_error);
  }
  SUBCASE("alias taken twice") {
    CHECK_THROWS_AS(r.add(plugin("b.TwoConnector", {"alias.One"})), std::logic_error);
  }
  // The failed registration left nothing behind.
  CHECK(r.plugins().size() == 1);
}

TEST_CASE("plugin_registry with the Redis connectors resolves their names and aliases") {
  plugin_registry r;
  ferry::redis::register_redis_connectors(r);

  const auto* sink = r.find("ferry.redis.RedisSinkConnector");
  REQUIRE(sink != nullptr);
  CHECK(sink->type == connector_type::sink);
  CHECK(r.find("com.redis.kafka.connect.RedisSinkConnector") == sink);
  CHECK(r.find("RedisSink") == sink);
  CHECK(sink->make_sink_task != nullptr);
  CHECK(sink->make_source_task == nullptr);

  const auto* source = r.find("RedisStreamSourceConnector");
  REQUIRE(source != nullptr);
  CHECK(source->type == connector_type::source);
  CHECK(source->class_name == "ferry.redis.RedisStreamSourceConnector");
  CHECK(source->make_source_task != nullptr);

  // Registering the same set twice is a start-up bug the registry must catch.
  CHECK_THROWS_AS(ferry::redis::register_redis_connectors(r), std::logic_error);
}

TEST_CASE("connector_type to_string") {
  CHECK(to_string(connector_type::source) == "source");
  CHECK(to_string(connector_type::sink) == "sink");
}
