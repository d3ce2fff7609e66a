#include <doctest/doctest.h>

#include "ferry/api/errors.hpp"
#include "stream_source/stream_source_config.hpp"
#include "stream_source/stream_source_connector.hpp"

using ferry::api::config_map;
using ferry::redis::stream_source_connector;

namespace {

std::vector<std::string> stream_lists(const std::vector<config_map>& tasks) {
  std::vector<std::string> out;
  for (const auto& t : tasks) out.push_back(t.at("redis.stream.name"));
  return out;
}

}  // namespace

TEST_CASE("stream source connector spreads 5 streams over 2 tasks round-robin") {
  stream_source_connector c;
  c.start({{"redis.stream.name", "s1,s2,s3,s4,s5"}, {"topic", "t-${stream}"}, {"name", "src"}});
  auto tasks = c.task_configs(2);
  REQUIRE(tasks.size() == 2);
  CHECK(stream_lists(tasks) == std::vector<std::string>{"s1,s3,s5", "s2,s4"});
  for (const auto& t : tasks) {
    CHECK(t.at("topic") == "t-${stream}");  // the rest of the config is passed on
    CHECK(t.at("name") == "src");
  }
  c.stop();
}

TEST_CASE("stream source connector never makes more tasks than streams") {
  stream_source_connector c;
  c.start({{"redis.stream.name", "a, b, c"}});
  CHECK(stream_lists(c.task_configs(10)) == std::vector<std::string>{"a", "b", "c"});
  CHECK(stream_lists(c.task_configs(1)) == std::vector<std::string>{"a,b,c"});
  CHECK(c.task_configs(0).size() == 1);  // at least one task
}

TEST_CASE("stream source connector start() refuses a config with no stream") {
  stream_source_connector c;
  CHECK_THROWS_AS(c.start({}), ferry::api::config_error);
}

TEST_CASE("stream source connector: each task knows its index, the count and every named stream") {
  stream_source_connector c;
  c.start({{"redis.stream.name", "s1,s2,s3"}});
  auto tasks = c.task_configs(2);
  REQUIRE(tasks.size() == 2);
  for (std::size_t i = 0; i < tasks.size(); ++i) {
    CHECK(tasks[i].at("ferry.stream.task.index") == std::to_string(i));
    CHECK(tasks[i].at("ferry.stream.task.count") == "2");
    CHECK(tasks[i].at("ferry.stream.listed") == "s1,s2,s3");
  }
}

TEST_CASE("stream source connector with a pattern makes tasks.max tasks") {
  stream_source_connector c;
  c.start({{"redis.stream.pattern", "orders:*"}, {"redis.stream.name", "audit"}});
  auto tasks = c.task_configs(3);
  REQUIRE(tasks.size() == 3);
  CHECK(stream_lists(tasks) == std::vector<std::string>{"audit", "", ""});
  CHECK(tasks[2].at("ferry.stream.task.index") == "2");
  CHECK(tasks[2].at("ferry.stream.task.count") == "3");
  CHECK(tasks[2].at("redis.stream.pattern") == "orders:*");
  // A task config parses on its own, with its share of the work.
  auto t = ferry::redis::stream_source_config::parse(tasks[1]);
  CHECK(t.streams.empty());
  CHECK(t.task_index == 1);
  CHECK(t.listed == std::vector<std::string>{"audit"});
}
