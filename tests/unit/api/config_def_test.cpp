#include <doctest/doctest.h>

#include <algorithm>
#include <stdexcept>

#include "ferry/api/config_def.hpp"
#include "ferry/api/errors.hpp"

using namespace ferry::api;

namespace {

const config_value& value_of(const std::vector<config_value>& values, const std::string& name) {
  auto it = std::find_if(values.begin(), values.end(),
                         [&](const config_value& v) { return v.name == name; });
  REQUIRE_MESSAGE(it != values.end(), "no config_value for " << name);
  return *it;
}

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

config_def typed_def() {
  config_def d;
  d.define({.name = "i", .type = config_type::int_, .default_value = "1"});
  d.define({.name = "l", .type = config_type::long_, .default_value = "1"});
  d.define({.name = "b", .type = config_type::boolean, .default_value = "false"});
  d.define({.name = "d", .type = config_type::double_, .default_value = "1.0"});
  return d;
}

std::size_t errors_for(const config_def& d, const std::string& key, const std::string& value) {
  return value_of(d.validate({{key, value}}), key).errors.size();
}

}  // namespace

TEST_CASE("config_def reports every key's errors at once") {
  config_def d;
  d.define({.name = "a", .type = config_type::int_, .default_value = std::nullopt});
  d.define({.name = "b", .type = config_type::boolean, .default_value = "false"});
  d.define({.name = "c",
            .type = config_type::string,
            .default_value = "x",
            .validate = one_of({"x", "y"})});
  auto values = d.validate({{"b", "maybe"}, {"c", "z"}});
  REQUIRE(values.size() == 3);
  CHECK(values[0].errors.size() == 1);  // a missing
  CHECK(values[1].errors.size() == 1);  // b not a boolean
  CHECK(values[2].errors.size() == 1);  // c not allowed
  CHECK(config_def::error_count(values) == 3);
}

TEST_CASE("config_def error messages name the key and the offending value") {
  config_def d;
  d.define({.name = "required.key", .type = config_type::string, .default_value = std::nullopt});
  d.define({.name = "port", .type = config_type::int_, .default_value = "1"});
  auto values = d.validate({{"port", "eighty"}});
  REQUIRE(value_of(values, "required.key").errors.size() == 1);
  CHECK(contains(value_of(values, "required.key").errors[0], "\"required.key\""));
  REQUIRE(value_of(values, "port").errors.size() == 1);
  CHECK(contains(value_of(values, "port").errors[0], "port"));
  CHECK(contains(value_of(values, "port").errors[0], "eighty"));
}

TEST_CASE("config_def validate returns declared keys in declaration order with defaults applied") {
  config_def d;
  d.define({.name = "z", .type = config_type::string, .default_value = "zz"});
  d.define({.name = "a", .type = config_type::string, .default_value = "aa"});
  auto values = d.validate({{"a", "given"}});
  REQUIRE(values.size() == 2);
  CHECK(values[0].name == "z");
  CHECK(values[0].value == "zz");
  CHECK(values[1].name == "a");
  CHECK(values[1].value == "given");
  CHECK(config_def::error_count(values) == 0);
}

// As Kafka's ConfigDef: undeclared keys are accepted (connectors may take extra keys) and are
// not part of the validation result.
TEST_CASE("config_def validate ignores undeclared keys") {
  config_def d;
  d.define({.name = "known", .type = config_type::string, .default_value = ""});
  auto values = d.validate({{"known", "x"}, {"extra.key", "1"}});
  REQUIRE(values.size() == 1);
  CHECK(values[0].name == "known");
  CHECK(config_def::error_count(values) == 0);
}

TEST_CASE("config_def type checks INT, LONG, BOOLEAN and DOUBLE") {
  auto d = typed_def();
  SUBCASE("INT") {
    CHECK(errors_for(d, "i", "42") == 0);
    CHECK(errors_for(d, "i", "-7") == 0);
    CHECK(errors_for(d, "i", "2147483647") == 0);
    CHECK(errors_for(d, "i", "2147483648") == 1);  // overflows a Java int
    CHECK(errors_for(d, "i", "4.2") == 1);
    CHECK(errors_for(d, "i", "abc") == 1);
    CHECK(errors_for(d, "i", "") == 1);
  }
  SUBCASE("LONG") {
    CHECK(errors_for(d, "l", "2147483648") == 0);
    CHECK(errors_for(d, "l", "-9223372036854775808") == 0);
    CHECK(errors_for(d, "l", "9223372036854775808") == 1);
    CHECK(errors_for(d, "l", "1.5") == 1);
    CHECK(errors_for(d, "l", "12abc") == 1);
  }
  SUBCASE("BOOLEAN") {
    CHECK(errors_for(d, "b", "true") == 0);
    CHECK(errors_for(d, "b", "FALSE") == 0);
    CHECK(errors_for(d, "b", "yes") == 1);
    CHECK(errors_for(d, "b", "1") == 1);
  }
  SUBCASE("DOUBLE") {
    CHECK(errors_for(d, "d", "1.5") == 0);
    CHECK(errors_for(d, "d", "-3") == 0);
    CHECK(errors_for(d, "d", "1e3") == 0);
    CHECK(errors_for(d, "d", "one") == 1);
  }
}

TEST_CASE("config_def validators: one_of, at_least, in_range, non_empty") {
  SUBCASE("one_of is case-insensitive by default and lists the allowed values") {
    auto v = one_of({"STRING", "HASH"});
    CHECK_FALSE(v("hash").has_value());
    CHECK_FALSE(v("STRING").has_value());
    auto err = v("LIST");
    REQUIRE(err.has_value());
    CHECK(contains(*err, "LIST"));
    CHECK(contains(*err, "STRING, HASH"));
  }
  SUBCASE("one_of can be case-sensitive") {
    auto v = one_of({"STRING"}, false);
    CHECK_FALSE(v("STRING").has_value());
    CHECK(v("string").has_value());
  }
  SUBCASE("at_least") {
    auto v = at_least(1);
    CHECK_FALSE(v("1").has_value());
    CHECK_FALSE(v("1000").has_value());
    REQUIRE(v("0").has_value());
    CHECK(contains(*v("0"), "at least 1"));
  }
  SUBCASE("in_range is inclusive at both ends") {
    auto v = in_range(1, 10);
    CHECK_FALSE(v("1").has_value());
    CHECK_FALSE(v("10").has_value());
    CHECK(v("0").has_value());
    CHECK(v("11").has_value());
    REQUIRE(v("11").has_value());
    CHECK(contains(*v("11"), "[1, 10]"));
  }
  SUBCASE("non_empty refuses blank strings") {
    auto v = non_empty();
    CHECK_FALSE(v("x").has_value());
    CHECK(v("").has_value());
    CHECK(v("   ").has_value());
  }
}

TEST_CASE("config_def runs the validator through validate() and reports one error per key") {
  config_def d;
  d.define(
      {.name = "tasks", .type = config_type::int_, .default_value = "1", .validate = at_least(1)});
  auto bad_range = d.validate({{"tasks", "0"}});
  REQUIRE(bad_range[0].errors.size() == 1);
  CHECK(contains(bad_range[0].errors[0], "at least 1"));
  // A value that is not even an INT gets the type error only, not a second validator error.
  auto bad_type = d.validate({{"tasks", "many"}});
  REQUIRE(bad_type[0].errors.size() == 1);
  CHECK(contains(bad_type[0].errors[0], "INT"));
}

TEST_CASE("config_def masks password values as [hidden]") {
  config_def d;
  d.define({.name = "secret", .type = config_type::password, .default_value = std::nullopt});
  auto given = d.validate({{"secret", "hunter2"}});
  REQUIRE(given[0].value.has_value());
  CHECK(*given[0].value == "[hidden]");
  CHECK(given[0].errors.empty());

  auto missing = d.validate({});
  CHECK_FALSE(missing[0].value.has_value());  // nothing to hide
  CHECK(missing[0].errors.size() == 1);
}

TEST_CASE("config_def define refuses a key twice; merge keeps existing definitions") {
  config_def d;
  d.define({.name = "a", .type = config_type::string, .default_value = "mine"});
  CHECK_THROWS_AS(d.define({.name = "a", .type = config_type::int_}), std::logic_error);

  config_def other;
  other.define({.name = "a", .type = config_type::string, .default_value = "theirs"});
  other.define({.name = "b", .type = config_type::string, .default_value = "b"});
  d.merge(other);
  REQUIRE(d.keys().size() == 2);
  REQUIRE(d.find("a") != nullptr);
  CHECK(d.find("a")->default_value == "mine");
  CHECK(d.find("b") != nullptr);
  CHECK(d.find("nope") == nullptr);
}

TEST_CASE("config_def describe() has Kafka's ConfigKeyInfo shape") {
  config_def d;
  d.define({.name = "port",
            .type = config_type::int_,
            .default_value = std::nullopt,
            .importance = importance_level::high,
            .doc = "The port.",
            .group = "Net",
            .display_name = "Port number"});
  d.define({.name = "mode",
            .type = config_type::string,
            .default_value = "fast",
            .importance = importance_level::low,
            .doc = "Mode."});
  auto j = d.describe();
  REQUIRE(j.is_array());
  REQUIRE(j.size() == 2);

  std::vector<std::string> names;
  for (const auto& [k, v] : j[0].items()) names.push_back(k);
  CHECK(names == std::vector<std::string>{"name", "type", "required", "default_value", "importance",
                                          "documentation", "group", "order", "width",
                                          "display_name", "dependents"});
  CHECK(j[0]["name"] == "port");
  CHECK(j[0]["type"] == "INT");
  CHECK(j[0]["required"] == true);
  CHECK(j[0]["default_value"].is_null());
  CHECK(j[0]["importance"] == "HIGH");
  CHECK(j[0]["documentation"] == "The port.");
  CHECK(j[0]["group"] == "Net");
  CHECK(j[0]["order"] == 1);
  CHECK(j[0]["width"] == "NONE");
  CHECK(j[0]["display_name"] == "Port number");
  CHECK(j[0]["dependents"] == ferry::json::array());

  CHECK(j[1]["type"] == "STRING");
  CHECK(j[1]["required"] == false);
  CHECK(j[1]["default_value"] == "fast");
  CHECK(j[1]["importance"] == "LOW");
  CHECK(j[1]["group"] == "Common");
  CHECK(j[1]["order"] == 2);
  CHECK(j[1]["display_name"] == "mode");  // falls back to the key name
}

TEST_CASE("to_string of config types and importance uses Kafka's names") {
  CHECK(to_string(config_type::boolean) == "BOOLEAN");
  CHECK(to_string(config_type::int_) == "INT");
  CHECK(to_string(config_type::long_) == "LONG");
  CHECK(to_string(config_type::double_) == "DOUBLE");
  CHECK(to_string(config_type::list) == "LIST");
  CHECK(to_string(config_type::class_) == "CLASS");
  CHECK(to_string(config_type::password) == "PASSWORD");
  CHECK(to_string(importance_level::medium) == "MEDIUM");
}

TEST_CASE("parsed_config getters apply defaults and parse by type") {
  config_def d;
  d.define({.name = "s", .type = config_type::string, .default_value = "dflt"});
  d.define({.name = "n", .type = config_type::long_, .default_value = "10"});
  d.define({.name = "i", .type = config_type::int_, .default_value = "3"});
  d.define({.name = "x", .type = config_type::double_, .default_value = "0.5"});
  d.define({.name = "b", .type = config_type::boolean, .default_value = "false"});
  d.define({.name = "list", .type = config_type::list, .default_value = ""});
  d.define({.name = "req", .type = config_type::string, .default_value = std::nullopt});

  parsed_config defaults(d, {});
  CHECK(defaults.get_string("s") == "dflt");
  CHECK(defaults.get_long("n") == 10);
  CHECK(defaults.get_int("i") == 3);
  CHECK(defaults.get_double("x") == doctest::Approx(0.5));
  CHECK(defaults.get_bool("b") == false);
  CHECK(defaults.get_list("list").empty());
  CHECK_FALSE(defaults.has("s"));

  parsed_config given(
      d, {{"s", "v"}, {"n", "9000000000"}, {"b", "TRUE"}, {"list", "a, b,,c "}, {"x", "2.25"}});
  CHECK(given.get_string("s") == "v");
  CHECK(given.get_long("n") == 9000000000LL);
  CHECK(given.get_bool("b") == true);
  CHECK(given.get_double("x") == doctest::Approx(2.25));
  CHECK(given.get_list("list") == std::vector<std::string>{"a", "b", "c"});
  CHECK(given.has("s"));
  CHECK(given.raw().size() == 5);
}

TEST_CASE("parsed_config throws config_error for a missing required key or a malformed value") {
  config_def d;
  d.define({.name = "req", .type = config_type::string, .default_value = std::nullopt});
  d.define({.name = "n", .type = config_type::long_, .default_value = "1"});
  d.define({.name = "b", .type = config_type::boolean, .default_value = "true"});
  parsed_config pc(d, {{"n", "lots"}, {"b", "sure"}});

  CHECK_THROWS_AS(pc.get_string("req"), config_error);
  try {
    pc.get_string("req");
  } catch (const config_error& e) {
    CHECK(contains(e.what(), "req"));
  }
  CHECK_THROWS_AS(pc.get_long("n"), config_error);
  CHECK_THROWS_AS(pc.get_bool("b"), config_error);
  // Asking for a key nobody declared is a programming error, not a user error.
  CHECK_THROWS_AS(pc.get_string("undeclared"), std::logic_error);
}

TEST_CASE("trim, split_list and parse helpers") {
  CHECK(trim("  a b \t\r\n") == "a b");
  CHECK(trim("   ") == "");
  CHECK(trim("") == "");

  CHECK(split_list(" a, ,b ,, c ") == std::vector<std::string>{"a", "b", "c"});
  CHECK(split_list("").empty());
  CHECK(split_list(",,,").empty());
  CHECK(split_list("single") == std::vector<std::string>{"single"});

  CHECK(parse_long(" 12 ") == 12);
  CHECK(parse_long("-5") == -5);
  CHECK_FALSE(parse_long("12abc").has_value());
  CHECK_FALSE(parse_long("").has_value());
  CHECK_FALSE(parse_long("1.0").has_value());

  REQUIRE(parse_double("2.5").has_value());
  CHECK(*parse_double("2.5") == doctest::Approx(2.5));
  CHECK(*parse_double("1e3") == doctest::Approx(1000.0));
  CHECK_FALSE(parse_double("2.5x").has_value());

  CHECK(parse_bool(" True ") == true);
  CHECK(parse_bool("false") == false);
  CHECK_FALSE(parse_bool("0").has_value());
  CHECK_FALSE(parse_bool("").has_value());
}
