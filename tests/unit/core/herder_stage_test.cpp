#include <doctest/doctest.h>

#include <regex>

#include "ferry/core/herder_stage.hpp"

using ferry::core::herder_stage;

TEST_CASE("herder_stage: idle, busy, nested, and back to idle") {
  herder_stage stage;
  CHECK(stage.timeout_message() == "Request timed out");
  {
    herder_stage::scope outer(stage, "deleting connector a");
    auto busy = stage.timeout_message();
    CHECK(
        std::regex_match(busy, std::regex("Request timed out\\. The worker is currently deleting "
                                          "connector a, which began at "
                                          "\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z")));
    {
      herder_stage::scope inner(stage, "waiting for connector a to stop");
      CHECK(stage.timeout_message().find("waiting for connector a to stop") != std::string::npos);
    }
    CHECK(stage.timeout_message() == busy);  // the outer stage, with its own start time
  }
  CHECK(stage.timeout_message() == "Request timed out");
}
