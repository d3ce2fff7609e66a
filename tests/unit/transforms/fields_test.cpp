#include <doctest/doctest.h>

#include "transform_test_util.hpp"

using namespace transforms_test;
using ferry::api::data_error;

TEST_SUITE("transforms") {
  TEST_CASE("ExtractField$Value takes a field of a map or struct, passing nulls through") {
    auto chain = single(pkg + "ExtractField$Value", {{"field", "id"}});
    CHECK(run(chain, schemaless(json{{"id", 5}, {"x", 1}})).value == 5);
    CHECK(run(chain, schemaless(json{{"x", 1}})).value.is_null());
    CHECK(run(chain, schemaless(nullptr)).value.is_null());
    CHECK_THROWS_WITH_AS(chain.apply(schemaless(json(3))),
                         "Only Map objects supported in absence of schema for [field extraction], "
                         "found: java.lang.Long",
                         data_error);

    auto s = struct_schema(json::array({field("id", "int64"), field("name", "string", true)}));
    auto out = run(chain, with_schema(s, json{{"id", 9}, {"name", "n"}}));
    CHECK(out.value == 9);
    CHECK(*out.value_schema == json{{"type", "int64"}, {"optional", false}});
    auto tomb = run(chain, with_schema(s, nullptr));
    CHECK(tomb.value.is_null());
    CHECK((*tomb.value_schema)["type"] == "int64");

    auto unknown = single(pkg + "ExtractField$Value", {{"field", "nope"}});
    CHECK_THROWS_WITH_AS(unknown.apply(with_schema(s, json{{"id", 1}})), "Unknown field: nope",
                         data_error);
  }

  TEST_CASE("ExtractField$Key with field.syntax.version=V2 follows dotted paths") {
    auto chain =
        single(pkg + "ExtractField$Key", {{"field", "a.`b.c`.d"}, {"field.syntax.version", "V2"}});
    auto r = schemaless(json(1), json{{"a", {{"b.c", {{"d", "deep"}}}}}});
    CHECK(run(chain, r).key == "deep");
    CHECK(run(chain, schemaless(json(1), json{{"a", 1}})).key.is_null());
    // V1 (the default) takes the name literally.
    auto v1 = single(pkg + "ExtractField$Key", {{"field", "a.b"}});
    CHECK(run(v1, schemaless(json(1), json{{"a.b", 2}})).key == 2);

    auto nested =
        single(pkg + "ExtractField$Value", {{"field", "a.b"}, {"field.syntax.version", "V2"}});
    auto inner = struct_schema(json::array({field("b", "string")}));
    inner["field"] = "a";
    auto s = struct_schema(json::array({inner}));
    auto out = run(nested, with_schema(s, json{{"a", {{"b", "x"}}}}));
    CHECK(out.value == "x");
    CHECK((*out.value_schema)["type"] == "string");
    // Backticks keep dots; \` before a dot keeps a backtick; an unclosed backtick is refused.
    auto escaped = single(pkg + "ExtractField$Value",
                          {{"field", "`x\\`.y`.z"}, {"field.syntax.version", "V2"}});
    CHECK(run(escaped, schemaless(json{{"x`.y", {{"z", 1}}}})).value == 1);
    CHECK(contains(config_error_of(pkg + "ExtractField$Value",
                                   {{"field", "`a.b"}, {"field.syntax.version", "V2"}}),
                   "Incomplete backtick pair in path: [`a.b]"));
    CHECK(contains(config_error_of(pkg + "ExtractField$Value",
                                   {{"field", "a"}, {"field.syntax.version", "V3"}}),
                   "transforms.t.field.syntax.version"));
    CHECK(contains(config_error_of(pkg + "ExtractField$Value"), "transforms.t.field"));
  }

  TEST_CASE("Flatten$Value joins nested names with the delimiter") {
    auto chain = single(pkg + "Flatten$Value");
    auto out = run(chain, schemaless(json{{"a", {{"b", 1}, {"c", {{"d", "x"}}}}},
                                          {"list", {1, 2}},
                                          {"n", nullptr},
                                          {"top", true}}));
    CHECK(out.value ==
          json{{"a.b", 1}, {"a.c.d", "x"}, {"list", {1, 2}}, {"n", nullptr}, {"top", true}});
    CHECK(run(chain, schemaless(nullptr)).value.is_null());

    auto under = single(pkg + "Flatten$Key", {{"delimiter", "_"}});
    CHECK(run(under, schemaless(json(1), json{{"a", {{"b", 1}}}})).key == json{{"a_b", 1}});
  }

  TEST_CASE(
      "Flatten$Value with a schema flattens structs and makes children of optionals optional") {
    auto chain = single(pkg + "Flatten$Value");
    auto inner = struct_schema(json::array({field("x", "int32"), field("y", "string")}), true);
    inner["field"] = "pos";
    auto s = struct_schema(json::array({field("id", "int64"), inner}));
    auto out = run(chain, with_schema(s, json{{"id", 1}, {"pos", {{"x", 3}, {"y", "u"}}}}));
    CHECK(out.value == json{{"id", 1}, {"pos.x", 3}, {"pos.y", "u"}});
    const auto& ns = *out.value_schema;
    CHECK(ns["fields"].size() == 3);
    CHECK(*find_field(ns, "pos.x") == field("pos.x", "int32", true));
    CHECK(*find_field(ns, "id") == field("id", "int64", false));
    // A null optional struct gives null children.
    auto nulls = run(chain, with_schema(s, json{{"id", 1}, {"pos", nullptr}}));
    CHECK(nulls.value == json{{"id", 1}, {"pos.x", nullptr}, {"pos.y", nullptr}});
    CHECK_THROWS_WITH_AS(chain.apply(with_schema(s, json("x"))),
                         "Only Struct objects supported for [flattening], found: java.lang.String",
                         data_error);
  }

  TEST_CASE("HoistField wraps the key or value in a single-field map or struct") {
    auto chain = single(pkg + "HoistField$Value", {{"field", "line"}});
    CHECK(run(chain, schemaless(json("text"))).value == json{{"line", "text"}});
    auto r = schemaless(json(5));
    r.value_schema = schema(json{{"type", "int32"}, {"optional", false}});
    auto out = run(chain, r);
    CHECK(out.value == json{{"line", 5}});
    CHECK(*out.value_schema == struct_schema(json::array({field("line", "int32")})));

    auto key = single(pkg + "HoistField$Key", {{"field", "k"}});
    auto k = run(key, schemaless(json(1), json("id")));
    CHECK(k.key == json{{"k", "id"}});
    CHECK(k.value == 1);
    CHECK(contains(config_error_of(pkg + "HoistField$Key"),
                   "Missing required configuration \"transforms.t.field\""));
  }

  TEST_CASE("InsertField$Value adds record metadata and a static field") {
    auto chain = single(pkg + "InsertField$Value", {{"topic.field", "t"},
                                                    {"partition.field", "p"},
                                                    {"timestamp.field", "ts"},
                                                    {"static.field", "src"},
                                                    {"static.value", "redis"}});
    auto out = run(chain, schemaless(json{{"a", 1}}));
    CHECK(out.value ==
          json{{"a", 1}, {"t", "orders"}, {"p", 3}, {"ts", 1'700'000'000'123}, {"src", "redis"}});
    CHECK(run(chain, schemaless(nullptr)).value.is_null());  // tombstones pass through
    CHECK_THROWS_AS(chain.apply(schemaless(json("x"))), data_error);

    auto s = struct_schema(json::array({field("a", "int32")}));
    auto r = run(chain, with_schema(s, json{{"a", 1}}));
    CHECK(r.value["t"] == "orders");
    const auto& ns = *r.value_schema;
    CHECK(ns["fields"].size() == 5);
    CHECK(*find_field(ns, "t") == field("t", "string", true));
    CHECK(*find_field(ns, "p") == field("p", "int32", true));
    CHECK((*find_field(ns, "ts"))["name"] == "org.apache.kafka.connect.data.Timestamp");
    CHECK(*find_field(ns, "src") == field("src", "string", true));

    // Without a schema, absent metadata adds no field; with one, the field is null.
    auto bare = schemaless(json{{"a", 1}});
    bare.partition.reset();
    bare.timestamp_ms.reset();
    CHECK(run(chain, bare).value == json{{"a", 1}, {"t", "orders"}, {"src", "redis"}});
    auto bare_schema = with_schema(s, json{{"a", 1}});
    bare_schema.partition.reset();
    CHECK(run(chain, bare_schema).value["p"].is_null());
  }

  TEST_CASE("InsertField config errors") {
    CHECK(contains(config_error_of(pkg + "InsertField$Value"), "No field insertion configured"));
    CHECK(contains(config_error_of(pkg + "InsertField$Value", {{"static.field", "s"}}),
                   "No value specified for static field: s"));
    CHECK(config_error_of(pkg + "InsertField$Value", {{"static.field", "s"}, {"static.value", ""}})
              .empty());
  }

  TEST_CASE("InsertField$Key: ! makes a field required, offset.field needs a sink record") {
    auto chain = single(pkg + "InsertField$Key", {{"topic.field", "t!"}, {"offset.field", "o?"}});
    auto sink = schemaless(json(1), json{{"id", 1}});
    sink.kafka_offset = 77;
    auto out = run(chain, sink);
    CHECK(out.key == json{{"id", 1}, {"t", "orders"}, {"o", 77}});
    CHECK_THROWS_WITH_AS(chain.apply(schemaless(json(1), json{{"id", 1}})),
                         "Only SinkRecord supported for [field insertion], found: "
                         "org.apache.kafka.connect.source.SourceRecord",
                         data_error);
    auto keyed = schemaless(json(1), json{{"id", 1}});
    keyed.kafka_offset = 1;
    keyed.key_schema = schema(struct_schema(json::array({field("id", "int64")})));
    auto k = run(chain, keyed);
    CHECK(*find_field(*k.key_schema, "t") == field("t", "string", false));
    CHECK(*find_field(*k.key_schema, "o") == field("o", "int64", true));
  }

  TEST_CASE("ReplaceField$Value includes, excludes and renames") {
    auto chain =
        single(pkg + "ReplaceField$Value", {{"exclude", "secret"}, {"renames", "a:alpha,b:beta"}});
    auto out = run(chain, schemaless(json{{"a", 1}, {"b", 2}, {"secret", 3}, {"c", 4}}));
    CHECK(out.value == json{{"alpha", 1}, {"beta", 2}, {"c", 4}});

    auto include = single(pkg + "ReplaceField$Value", {{"include", "a,c"}, {"exclude", "c"}});
    CHECK(run(include, schemaless(json{{"a", 1}, {"b", 2}, {"c", 3}})).value == json{{"a", 1}});

    auto s = struct_schema(
        json::array({field("a", "int32"), field("b", "string", true), field("c", "boolean")}));
    auto with = single(pkg + "ReplaceField$Value", {{"include", "a,b"}, {"renames", "b:bee"}});
    auto r = run(with, with_schema(s, json{{"a", 1}, {"b", "x"}, {"c", true}}));
    CHECK(r.value == json{{"a", 1}, {"bee", "x"}});
    CHECK(*r.value_schema ==
          struct_schema(json::array({field("a", "int32"), field("bee", "string", true)})));
    CHECK(run(with, schemaless(nullptr)).value.is_null());
  }

  TEST_CASE("ReplaceField keeps Kafka's old names blacklist and whitelist") {
    auto old_names = single(pkg + "ReplaceField$Key", {{"blacklist", "x"}});
    CHECK(run(old_names, schemaless(json(1), json{{"x", 1}, {"y", 2}})).key == json{{"y", 2}});
    auto white = single(pkg + "ReplaceField$Key", {{"whitelist", "x"}});
    CHECK(run(white, schemaless(json(1), json{{"x", 1}, {"y", 2}})).key == json{{"x", 1}});
    // The new name wins when both are given.
    auto both = single(pkg + "ReplaceField$Key", {{"whitelist", "x"}, {"include", "y"}});
    CHECK(run(both, schemaless(json(1), json{{"x", 1}, {"y", 2}})).key == json{{"y", 2}});
    CHECK(contains(config_error_of(pkg + "ReplaceField$Value", {{"renames", "a"}}),
                   "Invalid value a for configuration transforms.t.renames: Invalid rename "
                   "mapping: a"));
  }

  TEST_CASE("ValueToKey builds the key from value fields") {
    auto chain = single(pkg + "ValueToKey", {{"fields", "id,region"}});
    auto out = run(chain, schemaless(json{{"id", 1}, {"region", "eu"}, {"x", 0}}, json("old")));
    CHECK(out.key == json{{"id", 1}, {"region", "eu"}});
    CHECK(out.key_schema == nullptr);

    auto s = struct_schema(
        json::array({field("region", "string"), field("id", "int64"), field("x", "int32")}));
    auto r = run(chain, with_schema(s, json{{"region", "us"}, {"id", 2}, {"x", 0}}));
    CHECK(r.key == json{{"id", 2}, {"region", "us"}});
    CHECK(*r.key_schema ==
          struct_schema(json::array({field("id", "int64"), field("region", "string")})));

    auto missing = single(pkg + "ValueToKey", {{"fields", "nope"}});
    CHECK_THROWS_WITH_AS(missing.apply(with_schema(s, json{{"region", "us"}})),
                         "Field does not exist: nope", data_error);
    CHECK_THROWS_AS(chain.apply(schemaless(nullptr)), data_error);
    CHECK(contains(config_error_of(pkg + "ValueToKey"), "transforms.t.fields"));

    json with_default = field("id", "int64", true);
    with_default["default"] = 0;
    auto ds = struct_schema(json::array({with_default}));
    auto ids = single(pkg + "ValueToKey", {{"fields", "id"}});
    CHECK(run(ids, with_schema(ds, json{{"id", nullptr}})).key == json{{"id", 0}});
    auto raw =
        single(pkg + "ValueToKey", {{"fields", "id"}, {"replace.null.with.default", "false"}});
    CHECK(run(raw, with_schema(ds, json{{"id", nullptr}})).key == json{{"id", nullptr}});
  }

}  // TEST_SUITE
