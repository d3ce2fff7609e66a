#include <doctest/doctest.h>

#include "transform_test_util.hpp"

using namespace transforms_test;
using ferry::api::data_error;
using ferry::api::header;

namespace {

std::vector<std::string> header_keys(const connect_record& r) {
  std::vector<std::string> out;
  for (const auto& h : r.headers) out.push_back(h.key);
  return out;
}

}  // namespace

TEST_SUITE("transforms") {
  TEST_CASE("DropHeaders removes every header with a listed name") {
    auto chain = single(pkg + "DropHeaders", {{"headers", "a, c"}});
    auto r = schemaless(json(1));
    r.headers = {{"a", "1"}, {"b", "2"}, {"a", "3"}, {"c", std::nullopt}};
    auto out = run(chain, r);
    CHECK(header_keys(out) == std::vector<std::string>{"b"});
    CHECK(contains(config_error_of(pkg + "DropHeaders"),
                   "Missing required configuration \"transforms.t.headers\""));
    CHECK(contains(config_error_of(pkg + "DropHeaders", {{"headers", ""}}), "Empty list"));
  }

  TEST_CASE("Filter drops every record") {
    auto chain = single(pkg + "Filter");
    CHECK_FALSE(chain.apply(schemaless(json(1))).has_value());
    CHECK_FALSE(chain.apply(schemaless(nullptr)).has_value());
  }

  TEST_CASE("HeaderFrom$Value copies or moves fields into headers") {
    auto copy = single(pkg + "HeaderFrom$Value", {{"fields", "id,name,obj,nil"},
                                                  {"headers", "h_id,h_name,h_obj,h_nil"},
                                                  {"operation", "copy"}});
    auto out = run(
        copy, schemaless(json{{"id", 7}, {"name", "n"}, {"obj", {{"k", 1}}}, {"nil", nullptr}}));
    REQUIRE(out.headers.size() == 4);
    CHECK(out.headers[0].key == "h_id");
    CHECK(out.headers[0].value == "7");
    CHECK(out.headers[1].value == "n");
    CHECK(out.headers[2].value == R"({"k":1})");
    CHECK_FALSE(out.headers[3].value.has_value());

    auto raw = single(pkg + "HeaderFrom$Value",
                      {{"fields", "f,bin,flag"}, {"headers", "f,bin,flag"}, {"operation", "copy"}});
    auto r =
        run(raw, schemaless(json{{"f", 2.5}, {"bin", json::binary({0, 255})}, {"flag", true}}));
    REQUIRE(r.headers.size() == 3);
    CHECK(r.headers[0].value == "2.5");
    CHECK(r.headers[1].value == std::string("\x00\xff", 2));
    CHECK(r.headers[2].value == "true");
    CHECK(out.value["id"] == 7);

    auto move = single(pkg + "HeaderFrom$Value",
                       {{"fields", "id"}, {"headers", "h"}, {"operation", "move"}});
    auto m = run(move, schemaless(json{{"id", 7}, {"x", 1}}));
    CHECK(m.value == json{{"x", 1}});
    CHECK(m.headers.size() == 1);

    auto s = struct_schema(json::array({field("id", "int64"), field("x", "int32")}));
    auto ws = run(move, with_schema(s, json{{"id", 8}, {"x", 1}}));
    CHECK(ws.value == json{{"x", 1}});
    CHECK(*ws.value_schema == struct_schema(json::array({field("x", "int32")})));
    REQUIRE(ws.headers.size() == 1);
    CHECK(ws.headers[0].value == "8");
  }

  TEST_CASE("HeaderFrom$Key and its config errors") {
    auto chain =
        single(pkg + "HeaderFrom$Key", {{"fields", "k"}, {"headers", "kh"}, {"operation", "copy"}});
    auto out = run(chain, schemaless(json(1), json{{"k", "key"}}));
    REQUIRE(out.headers.size() == 1);
    CHECK(out.headers[0].value == "key");
    CHECK_THROWS_WITH_AS(
        chain.apply(schemaless(json(1), json("scalar"))),
        "Only Map objects supported in absence of schema for [header copy], found: "
        "java.lang.String",
        data_error);
    CHECK_THROWS_AS(chain.apply(schemaless(json(1), nullptr)), data_error);

    CHECK(contains(config_error_of(pkg + "HeaderFrom$Value",
                                   {{"fields", "a,b"}, {"headers", "a"}, {"operation", "copy"}}),
                   "'fields' config must have the same number of elements as 'headers' config."));
    CHECK(contains(config_error_of(pkg + "HeaderFrom$Value",
                                   {{"fields", "a"}, {"headers", "a"}, {"operation", "steal"}}),
                   "Invalid value steal for configuration transforms.t.operation"));
    CHECK(contains(config_error_of(pkg + "HeaderFrom$Value", {{"fields", "a"}, {"headers", "a"}}),
                   "transforms.t.operation"));
  }

  TEST_CASE("InsertHeader adds a literal header to each record") {
    auto chain = single(pkg + "InsertHeader", {{"header", "source"}, {"value.literal", "redis"}});
    auto r = schemaless(json(1));
    r.headers = {{"source", "old"}};
    auto out = run(chain, r);
    REQUIRE(out.headers.size() == 2);
    CHECK(out.headers[1].key == "source");
    CHECK(out.headers[1].value == "redis");
    CHECK(contains(config_error_of(pkg + "InsertHeader", {{"header", "h"}}),
                   "transforms.t.value.literal"));
  }

  TEST_CASE("RegexRouter rewrites topics that match entirely") {
    auto chain = single(pkg + "RegexRouter", {{"regex", "(.*)-(\\d+)"}, {"replacement", "$1_v$2"}});
    auto r = schemaless(json(1));
    r.topic = "orders-42";
    CHECK(run(chain, r).topic == "orders_v42");
    r.topic = "orders-x";
    CHECK(run(chain, r).topic == "orders-x");  // no full match: unchanged
    r.topic = "pre-orders-1-post";
    CHECK(run(chain, r).topic == "pre-orders-1-post");

    auto dollar = single(pkg + "RegexRouter", {{"regex", "a"}, {"replacement", "\\$b"}});
    r.topic = "a";
    CHECK(run(dollar, r).topic == "$b");
    CHECK(contains(config_error_of(pkg + "RegexRouter", {{"regex", "(a"}, {"replacement", "x"}}),
                   "Invalid value (a for configuration transforms.t.regex: Invalid regex"));
    CHECK(contains(config_error_of(pkg + "RegexRouter", {{"regex", "a"}}),
                   "transforms.t.replacement"));
  }

  TEST_CASE("SetSchemaMetadata sets the name and version of a schema") {
    auto chain = single(pkg + "SetSchemaMetadata$Value",
                        {{"schema.name", "com.example.Order"}, {"schema.version", "3"}});
    json with_default = field("n", "int32", true);
    with_default["default"] = 5;
    auto s = struct_schema(json::array({with_default}));
    auto out = run(chain, with_schema(s, json{{"n", nullptr}}));
    CHECK((*out.value_schema)["name"] == "com.example.Order");
    CHECK((*out.value_schema)["version"] == 3);
    CHECK(out.value == json{{"n", 5}});  // Struct copy fills defaults, as in Kafka
    auto keep_null = single(pkg + "SetSchemaMetadata$Value",
                            {{"schema.name", "x"}, {"replace.null.with.default", "false"}});
    CHECK(run(keep_null, with_schema(s, json{{"n", nullptr}})).value == json{{"n", nullptr}});

    auto key = single(pkg + "SetSchemaMetadata$Key", {{"schema.version", "2"}});
    auto r = schemaless(json(1), json("k"));
    r.key_schema = schema(json{{"type", "string"}, {"optional", false}, {"name", "old"}});
    auto k = run(key, r);
    CHECK((*k.key_schema)["name"] == "old");
    CHECK((*k.key_schema)["version"] == 2);
    CHECK_THROWS_WITH_AS(key.apply(schemaless(json(1), json("k"))),
                         "Schema required for [updating schema metadata]", data_error);
    CHECK(contains(config_error_of(pkg + "SetSchemaMetadata$Value", {{"schema.version", "x"}}),
                   "transforms.t.schema.version"));
    CHECK(contains(config_error_of(pkg + "SetSchemaMetadata$Value"),
                   "Neither schema name nor version configured"));
    // A null key without a schema passes through.
    CHECK(run(key, schemaless(json(1), nullptr)).key.is_null());
  }

}  // TEST_SUITE
