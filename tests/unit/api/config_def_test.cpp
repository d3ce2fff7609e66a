#include <doctest/doctest.h>

#include "ferry/api/config_def.hpp"
#include "ferry/api/errors.hpp"

using namespace ferry::api;

TEST_CASE("config_def reports every key's errors at once") {
  config_def d;
  d.define({.name = "a", .type = config_type::int_, .default_value = std::nullopt});
  d.define({.name = "b", .type = config_type::boolean, .default_value = "false"});
  d.define({.name = "c", .type = config_type::string, .default_value = "x",
            .validate = one_of({"x", "y"})});
  auto values = d.validate({{"b", "maybe"}, {"c", "z"}});
  REQUIRE(values.size() == 3);
  CHECK(values[0].errors.size() == 1);  // a missing
  CHECK(values[1].errors.size() == 1);  // b not a boolean
  CHECK(values[2].errors.size() == 1);  // c not allowed
  CHECK(config_def::error_count(values) == 3);
}
