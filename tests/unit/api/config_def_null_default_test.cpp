#include <doctest/doctest.h>

#include "ferry/api/config_def.hpp"
#include "ferry/api/errors.hpp"
#include "ferry/api/plugin_registry.hpp"
#include "ferry/core/connector_config.hpp"

using namespace ferry::api;

namespace {

config_def def_with_optional() {
  config_def d;
  d.define({.name = "required.key"});
  d.define({.name = "optional.key", .doc = "Kafka's default null", .default_null = true});
  d.define({.name = "optional.number", .type = config_type::long_, .default_null = true});
  d.define({.name = "optional.list", .type = config_type::list, .default_null = true});
  d.define({.name = "empty.default", .default_value = ""});
  return d;
}

const config_value& value_of(const std::vector<config_value>& values, const std::string& name) {
  for (const auto& v : values) {
    if (v.name == name) return v;
  }
  FAIL("no config value " << name);
  return values.front();
}

}  // namespace

TEST_CASE("a default-null key is optional: validation does not demand it") {
  auto values = def_with_optional().validate({{"required.key", "x"}});
  CHECK(config_def::error_count(values) == 0);
  CHECK_FALSE(value_of(values, "optional.key").value.has_value());  // null, not ""
  CHECK(value_of(values, "empty.default").value == "");
  // Without the required key only that one is an error.
  CHECK(config_def::error_count(def_with_optional().validate({})) == 1);
}

TEST_CASE("a default-null key that is set is checked like any other") {
  auto values = def_with_optional().validate({{"required.key", "x"}, {"optional.number", "ten"}});
  CHECK(config_def::error_count(values) == 1);
  REQUIRE(value_of(values, "optional.number").errors.size() == 1);
  CHECK(value_of(values, "optional.number").errors[0].find("optional.number") != std::string::npos);
}

TEST_CASE("describe() shows a default-null key as Kafka does: not required, default null") {
  auto j = def_with_optional().describe();
  auto key = [&](const std::string& name) {
    for (const auto& k : j) {
      if (k["name"] == name) return k;
    }
    FAIL("no key " << name);
    return ferry::json();
  };
  CHECK(key("optional.key")["required"] == false);
  CHECK(key("optional.key")["default_value"].is_null());
  CHECK(key("required.key")["required"] == true);
  CHECK(key("required.key")["default_value"].is_null());
  CHECK(key("empty.default")["required"] == false);
  CHECK(key("empty.default")["default_value"] == "");
}

TEST_CASE("parsed_config reads an unset default-null key as absent") {
  auto def = def_with_optional();
  parsed_config unset(def, {{"required.key", "x"}});
  CHECK_FALSE(unset.get_optional("optional.key").has_value());
  CHECK_FALSE(unset.has("optional.key"));
  CHECK(unset.get_string("optional.key").empty());
  CHECK(unset.get_list("optional.list").empty());
  CHECK_THROWS_WITH_AS(unset.get_long("optional.number"),
                       doctest::Contains("\"optional.number\" is not set"), config_error);
  CHECK(unset.get_optional("empty.default") == "");
  CHECK(unset.get_optional("required.key") == "x");

  parsed_config set(def,
                    {{"optional.key", "v"}, {"optional.number", "7"}, {"optional.list", "a, b"}});
  CHECK(set.get_optional("optional.key") == "v");
  CHECK(set.get_long("optional.number") == 7);
  CHECK(set.get_list("optional.list") == std::vector<std::string>{"a", "b"});
  CHECK_THROWS_AS(set.get_optional("required.key"), config_error);  // required and missing
}

TEST_CASE("plugin_registry keeps the versions plug-ins gave their classes") {
  plugin_registry r;
  CHECK(r.class_version("com.example.X") == nullptr);
  r.set_class_version("com.example.X", "2.1.0");
  REQUIRE(r.class_version("com.example.X") != nullptr);
  CHECK(*r.class_version("com.example.X") == "2.1.0");
  CHECK(r.class_version("X") == nullptr);  // exact class names only
}

TEST_CASE(
    "a connector's key/value/header.converter default to null, as in Kafka's ConnectorConfig") {
  for (auto type : {connector_type::source, connector_type::sink}) {
    auto described = ferry::core::common_connector_def(type).describe();
    int seen = 0;
    for (const auto& k : described) {
      if (k["name"] == "key.converter" || k["name"] == "value.converter" ||
          k["name"] == "header.converter") {
        ++seen;
        CHECK(k["required"] == false);
        CHECK(k["default_value"].is_null());
      }
    }
    CHECK(seen == 3);
  }
}
