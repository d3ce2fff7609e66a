#include <doctest/doctest.h>

#include "ferry/storage/status_store.hpp"

using namespace ferry::storage;

namespace {

status make_status(connector_state state, std::string trace = {}) {
  return {
      .state = state, .trace = std::move(trace), .worker_id = "127.0.0.1:8083", .generation = 1};
}

}  // namespace

TEST_CASE("memory_status_store keeps connector and task states") {
  memory_status_store store;
  CHECK_FALSE(store.connector("c").has_value());
  CHECK(store.tasks("c").empty());

  store.put_connector("c", make_status(connector_state::running));
  store.put_task("c", 0, make_status(connector_state::running));
  store.put_task("c", 1, make_status(connector_state::failed, "boom"));
  store.put_connector("c", make_status(connector_state::paused));  // latest wins

  auto c = store.connector("c");
  REQUIRE(c.has_value());
  CHECK(c->state == connector_state::paused);
  CHECK(c->worker_id == "127.0.0.1:8083");
  auto tasks = store.tasks("c");
  REQUIRE(tasks.size() == 2);
  CHECK(tasks[1].state == connector_state::failed);
  CHECK(tasks[1].trace == "boom");
}

TEST_CASE("memory_status_store remove drops the connector and its tasks only") {
  memory_status_store store;
  store.put_connector("a", make_status(connector_state::running));
  store.put_task("a", 0, make_status(connector_state::running));
  store.put_connector("b", make_status(connector_state::running));
  store.remove("a");
  CHECK_FALSE(store.connector("a").has_value());
  CHECK(store.tasks("a").empty());
  CHECK(store.connector("b").has_value());
}

TEST_CASE("memory_status_store remove_tasks_from drops tasks at and above the index") {
  memory_status_store store;
  for (int i = 0; i < 4; ++i) store.put_task("c", i, make_status(connector_state::running));
  store.remove_tasks_from("c", 2);
  auto tasks = store.tasks("c");
  CHECK(tasks.size() == 2);
  CHECK(tasks.count(0) == 1);
  CHECK(tasks.count(1) == 1);
  store.remove_tasks_from("unknown", 0);  // no effect, no throw
  CHECK(store.tasks("c").size() == 2);
}
