#include <doctest/doctest.h>

#include <stdexcept>

#include "../temp_dir.hpp"
#include "ferry/storage/config_store.hpp"

using namespace ferry::storage;
using ferry::api::config_map;
using ferry::test::temp_dir;

TEST_CASE("file_config_store keeps connectors, target states and task configs across instances") {
  temp_dir dir;
  auto path = dir.file("connectors.json");
  const config_map cfg{{"connector.class", "RedisSink"}, {"topics", "orders"}};
  const std::vector<config_map> tasks{{{"task", "0"}}, {{"task", "1"}}};
  {
    file_config_store store(path);
    CHECK(store.snapshot().empty());
    store.put_connector("sink", cfg, target_state::started);
    store.put_connector("src", {{"connector.class", "RedisStreamSource"}}, target_state::stopped);
    store.put_task_configs("sink", tasks);
    store.put_target_state("sink", target_state::paused);
  }
  file_config_store reloaded(path);
  auto snap = reloaded.snapshot();
  REQUIRE(snap.size() == 2);
  REQUIRE(snap.count("sink") == 1);
  CHECK(snap["sink"].config == cfg);
  CHECK(snap["sink"].state == target_state::paused);
  CHECK(snap["sink"].tasks == tasks);
  CHECK(snap["src"].state == target_state::stopped);
  CHECK(snap["src"].tasks.empty());
}

TEST_CASE("file_config_store remove_connector forgets the connector, also on disk") {
  temp_dir dir;
  auto path = dir.file("connectors.json");
  {
    file_config_store store(path);
    store.put_connector("a", {{"k", "v"}}, target_state::started);
    store.put_connector("b", {{"k", "v"}}, target_state::started);
    store.remove_connector("a");
    CHECK(store.snapshot().count("a") == 0);
  }
  auto snap = file_config_store(path).snapshot();
  CHECK(snap.count("a") == 0);
  CHECK(snap.count("b") == 1);
}

TEST_CASE("file_config_store ignores state and task updates for unknown connectors") {
  file_config_store store("");
  store.put_target_state("ghost", target_state::paused);
  store.put_task_configs("ghost", {{{"k", "v"}}});
  CHECK(store.snapshot().empty());
}

TEST_CASE("file_config_store refuses a corrupt file with runtime_error") {
  temp_dir dir;
  auto path = dir.file("connectors.json");
  SUBCASE("not JSON") {
    ferry::test::write_text(path, "{\"connectors\": {");
  }
  SUBCASE("no connectors object") {
    ferry::test::write_text(path, R"({"other": 1})");
  }
  SUBCASE("config value not a string") {
    ferry::test::write_text(path, R"({"connectors": {"a": {"config": {"k": {"x": 1}}}}})");
  }
  SUBCASE("unknown target state") {
    ferry::test::write_text(path,
                            R"({"connectors": {"a": {"config": {}, "target_state": "SLEEPING"}}})");
  }
  CHECK_THROWS_AS(file_config_store{path}, std::runtime_error);
}

TEST_CASE("file_config_store with an empty path is memory only") {
  file_config_store store("");
  store.put_connector("a", {{"k", "v"}}, target_state::started);
  CHECK(store.snapshot().size() == 1);
  CHECK(file_config_store("").snapshot().empty());
}
