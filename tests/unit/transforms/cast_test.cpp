#include <doctest/doctest.h>

#include "transform_test_util.hpp"

using namespace transforms_test;
using ferry::api::data_error;

TEST_SUITE("transforms") {
  TEST_CASE("Cast$Value casts fields of a schemaless map") {
    auto chain =
        single(pkg + "Cast$Value", {{"spec",
                                     "int8:int8,int16:int16,int32:int32,int64:int64,f32:float32,"
                                     "f64:float64,b:boolean,s:string,missing:int32"}});
    auto out = run(chain, schemaless(json{{"int8", 300},
                                          {"int16", "12"},
                                          {"int32", 1.9},
                                          {"int64", true},
                                          {"f32", "1.1"},
                                          {"f64", 2},
                                          {"b", "TRUE"},
                                          {"s", 42},
                                          {"other", "kept"}}));
    CHECK(out.value["int8"] == 44);  // Java's narrowing wraps: (byte) 300
    CHECK(out.value["int16"] == 12);
    CHECK(out.value["int32"] == 1);
    CHECK(out.value["int64"] == 1);
    CHECK(out.value["f32"].dump() == "1.1");
    CHECK(out.value["f64"] == 2.0);
    CHECK(out.value["f64"].is_number_float());
    CHECK(out.value["b"] == true);
    CHECK(out.value["s"] == "42");
    CHECK(out.value["other"] == "kept");
    CHECK(out.value["missing"].is_null());
    CHECK(out.value_schema == nullptr);
  }

  TEST_CASE("Cast$Key casts the whole key; numbers to string read like Java's") {
    auto chain = single(pkg + "Cast$Key", {{"spec", "string"}});
    auto r = schemaless(json{{"v", 1}}, json(1.5));
    auto out = run(chain, r);
    CHECK(out.key == "1.5");
    CHECK(out.value == json{{"v", 1}});
    CHECK(run(chain, schemaless(nullptr, json(3.0))).key == "3.0");
    CHECK(run(chain, schemaless(nullptr, json(1e10))).key == "1.0E10");
    CHECK(run(chain, schemaless(nullptr, json(false))).key == "false");
    // Bytes become base64.
    auto bytes = json::binary({0x00, 0xff, 0x10});
    CHECK(run(chain, schemaless(nullptr, bytes)).key == "AP8Q");
  }

  TEST_CASE("Cast$Value with a schema changes field schemas and keeps optional and defaults") {
    auto chain = single(pkg + "Cast$Value", {{"spec", "id:string,score:int32"}});
    json score = field("score", "float64", true);
    score["default"] = 2.7;
    auto s = struct_schema(json::array({field("id", "int64"), score, field("name", "string")}));
    s["name"] = "com.example.Order";
    auto out = run(chain, with_schema(s, json{{"id", 7}, {"score", 9.99}, {"name", "x"}}));
    CHECK(out.value == json{{"id", "7"}, {"score", 9}, {"name", "x"}});
    REQUIRE(out.value_schema);
    const auto& ns = *out.value_schema;
    CHECK(ns["name"] == "com.example.Order");
    CHECK((*find_field(ns, "id"))["type"] == "string");
    CHECK((*find_field(ns, "id"))["optional"] == false);
    CHECK((*find_field(ns, "score"))["type"] == "int32");
    CHECK((*find_field(ns, "score"))["optional"] == true);
    CHECK((*find_field(ns, "score"))["default"] == 2);
    CHECK(*find_field(ns, "name") == field("name", "string"));

    // A null field with a default takes the default unless replace.null.with.default=false.
    auto nulls = run(chain, with_schema(s, json{{"id", 1}, {"score", nullptr}, {"name", "x"}}));
    CHECK(nulls.value["score"] == 2);
    auto keep = single(pkg + "Cast$Value",
                       {{"spec", "score:int32"}, {"replace.null.with.default", "false"}});
    CHECK(run(keep, with_schema(s, json{{"id", 1}, {"score", nullptr}, {"name", "x"}}))
              .value["score"]
              .is_null());
  }

  TEST_CASE("Cast$Value of a whole value with a schema, and logical types to string") {
    auto chain = single(pkg + "Cast$Value", {{"spec", "int16"}});
    auto r = schemaless(json(70000));
    r.value_schema = schema(json{{"type", "int64"}, {"optional", true}});
    auto out = run(chain, r);
    CHECK(out.value == 4464);
    CHECK(*out.value_schema == json{{"type", "int16"}, {"optional", true}});

    auto to_string = single(pkg + "Cast$Value", {{"spec", "ts:string,d:string"}});
    auto s = struct_schema(json::array({json{{"type", "int64"},
                                             {"optional", false},
                                             {"name", "org.apache.kafka.connect.data.Timestamp"},
                                             {"version", 1},
                                             {"field", "ts"}},
                                        json{{"type", "int32"},
                                             {"optional", false},
                                             {"name", "org.apache.kafka.connect.data.Date"},
                                             {"version", 1},
                                             {"field", "d"}}}));
    auto t = run(to_string, with_schema(s, json{{"ts", 1'700'000'000'123}, {"d", 19675}}));
    CHECK(t.value["ts"] == "2023-11-14T22:13:20.123Z");
    CHECK(t.value["d"] == "2023-11-14");
  }

  TEST_CASE("Cast passes tombstones through and refuses what Kafka refuses") {
    auto chain = single(pkg + "Cast$Value", {{"spec", "a:int32"}});
    auto tomb = run(chain, schemaless(nullptr));
    CHECK(tomb.value.is_null());
    CHECK_THROWS_WITH_AS(chain.apply(schemaless(json("text"))),
                         "Only Map objects supported in absence of schema for [cast types], found: "
                         "java.lang.String",
                         data_error);
    CHECK_THROWS_WITH_AS(chain.apply(schemaless(json{{"a", "abc"}})),
                         "Value (abc) was out of range for requested data type", data_error);
    CHECK_THROWS_WITH_AS(chain.apply(schemaless(json{{"a", "99999999999"}})),
                         "Value (99999999999) was out of range for requested data type",
                         data_error);
    CHECK_THROWS_AS(chain.apply(schemaless(json{{"a", json{{"nested", 1}}}})), data_error);
    auto whole = single(pkg + "Cast$Value", {{"spec", "int32"}});
    CHECK_THROWS_AS(whole.apply(schemaless(json::binary({1, 2}))), data_error);
  }

  TEST_CASE("Cast config errors") {
    CHECK(contains(config_error_of(pkg + "Cast$Value", {{"spec", ""}}),
                   "Must specify at least one field to cast."));
    CHECK(contains(config_error_of(pkg + "Cast$Value", {{"spec", "a:bytes"}}),
                   "Cast transformation does not support casting to BYTES"));
    CHECK(contains(config_error_of(pkg + "Cast$Value", {{"spec", "int8,a:int16"}}),
                   "may only specify a single cast"));
    CHECK(contains(config_error_of(pkg + "Cast$Value", {{"spec", "a:b:c"}}),
                   "Invalid rename mapping: a:b:c"));
    CHECK(config_error_of(pkg + "Cast$Key", {{"spec", "a:INT8, b:Float64"}}).empty());
  }

  TEST_CASE("MaskField$Value masks with the type's empty value, schemaless and with schema") {
    auto chain = single(pkg + "MaskField$Value", {{"fields", "i,u,d,s,long,b,l,m,n,absent"}});
    auto out = run(chain, schemaless(json{{"i", 5},
                                          {"u", std::uint64_t{18446744073709551615u}},
                                          {"d", 1.5},
                                          {"s", "secret"},
                                          {"long", "a string longer than any small-string buffer"},
                                          {"b", true},
                                          {"l", {1, 2}},
                                          {"m", {{"k", "v"}}},
                                          {"n", nullptr},
                                          {"keep", "me"}}));
    CHECK(out.value["i"] == 0);
    CHECK(out.value["u"] == 0);
    CHECK(out.value["d"] == 0.0);
    CHECK(out.value["d"].is_number_float());
    CHECK(out.value["s"] == "");
    CHECK(out.value["long"] == "");
    CHECK(out.value["b"] == false);
    CHECK(out.value["l"] == json::array());
    CHECK(out.value["m"] == json::object());
    CHECK(out.value["n"].is_null());
    CHECK(out.value["keep"] == "me");
    CHECK(out.value["absent"].is_null());

    auto s = struct_schema(json::array({field("ssn", "string"), field("age", "int32")}));
    auto keyed = single(pkg + "MaskField$Key", {{"fields", "ssn"}});
    auto r = schemaless(json(1), json{{"ssn", "123"}, {"age", 40}});
    r.key_schema = schema(s);
    auto k = run(keyed, r);
    CHECK(k.key == json{{"ssn", ""}, {"age", 40}});
    CHECK(*k.key_schema == s);
    CHECK(k.value == 1);

    // Unlike most transformations, MaskField does not pass tombstones through (as in Kafka).
    CHECK_THROWS_WITH_AS(chain.apply(schemaless(nullptr)),
                         "Only Map objects supported in absence of schema for [mask fields], "
                         "found: null",
                         data_error);
  }

  TEST_CASE("MaskField with a schema masks null fields' defaults unless told not to") {
    json with_default = field("pin", "int32", true);
    with_default["default"] = 1234;
    auto s = struct_schema(json::array({with_default, field("other", "string", true)}));
    auto chain = single(pkg + "MaskField$Value", {{"fields", "pin"}});
    CHECK(run(chain, with_schema(s, json{{"pin", nullptr}, {"other", "x"}})).value ==
          json{{"pin", 0}, {"other", "x"}});
    auto keep = single(pkg + "MaskField$Value",
                       {{"fields", "pin"}, {"replace.null.with.default", "false"}});
    CHECK(run(keep, with_schema(s, json{{"pin", nullptr}, {"other", "x"}})).value ==
          json{{"pin", nullptr}, {"other", "x"}});
  }

  TEST_CASE("MaskField replacement is converted to the field's type") {
    auto chain = single(pkg + "MaskField$Value", {{"fields", "s,i,f"}, {"replacement", "42"}});
    auto out = run(chain, schemaless(json{{"s", "x"}, {"i", 7}, {"f", 2.5}}));
    CHECK(out.value == json{{"s", "42"}, {"i", 42}, {"f", 42.0}});
    auto bad = single(pkg + "MaskField$Value", {{"fields", "i"}, {"replacement", "abc"}});
    CHECK_THROWS_WITH_AS(bad.apply(schemaless(json{{"i", 7}})),
                         "Unable to convert abc (class java.lang.String) to number", data_error);
    auto boolean = single(pkg + "MaskField$Value", {{"fields", "b"}, {"replacement", "x"}});
    CHECK_THROWS_AS(boolean.apply(schemaless(json{{"b", true}})), data_error);
    CHECK(contains(config_error_of(pkg + "MaskField$Value", {{"fields", "a"}, {"replacement", ""}}),
                   "transforms.t.replacement: String must be non-empty"));
    CHECK(contains(config_error_of(pkg + "MaskField$Value", {{"fields", ""}}),
                   "transforms.t.fields: Empty list"));
  }

}  // TEST_SUITE
