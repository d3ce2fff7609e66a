#include <doctest/doctest.h>

#include "ferry/storage/states.hpp"

using namespace ferry::storage;

TEST_CASE("target_state to_string and parse round trip") {
  for (auto s : {target_state::started, target_state::paused, target_state::stopped}) {
    CAPTURE(to_string(s));
    CHECK(parse_target_state(to_string(s)) == s);
  }
  CHECK(to_string(target_state::started) == "STARTED");
  CHECK(to_string(target_state::paused) == "PAUSED");
  CHECK(to_string(target_state::stopped) == "STOPPED");
}

TEST_CASE("\"RUNNING\" parses as target state started (REST initial_state spelling)") {
  CHECK(parse_target_state("RUNNING") == target_state::started);
  CHECK_FALSE(parse_target_state("FAILED").has_value());
  CHECK_FALSE(parse_target_state("").has_value());
}

TEST_CASE("connector_state to_string and parse round trip") {
  for (auto s : {connector_state::unassigned, connector_state::running, connector_state::paused,
                 connector_state::failed, connector_state::restarting, connector_state::stopped,
                 connector_state::destroyed}) {
    CAPTURE(to_string(s));
    CHECK(parse_connector_state(to_string(s)) == s);
  }
  CHECK(to_string(connector_state::running) == "RUNNING");
  CHECK(to_string(connector_state::unassigned) == "UNASSIGNED");
  CHECK_FALSE(parse_connector_state("STARTED").has_value());
}
