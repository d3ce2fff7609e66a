#include <doctest/doctest.h>

#include <algorithm>
#include <set>

#include "transform_test_util.hpp"

using namespace transforms_test;
using ferry::api::config_error;
using ferry::api::config_value;
using ferry::transforms::catalog;
using ferry::transforms::find_plugin;
using ferry::transforms::plugin_kind;
using ferry::transforms::validate_transforms;

namespace {

std::string error_of(const config_map& c) {
  try {
    transform_chain::from_config(c);
  } catch (const config_error& e) {
    return e.what();
  }
  return "";
}

// `transforms` ending in a Filter "drop" that applies to topics matching foo.* (predicate isFoo).
config_map dropping_foo_topics(const std::string& transforms) {
  return {{"transforms", transforms},
          {"transforms.drop.type", pkg + "Filter"},
          {"transforms.drop.predicate", "isFoo"},
          {"predicates", "isFoo"},
          {"predicates.isFoo.type", pkg + "predicates.TopicNameMatches"},
          {"predicates.isFoo.pattern", "foo.*"}};
}

std::vector<std::string> errors_for(const std::vector<config_value>& values,
                                    const std::string& name) {
  for (const auto& v : values) {
    if (v.name == name) return v.errors;
  }
  FAIL("no config_value for " << name);
  return {};
}

}  // namespace

TEST_SUITE("transforms") {
  TEST_CASE("the catalog has Kafka's 16 transformations with $Key/$Value and 3 predicates") {
    std::set<std::string> names;
    for (const auto& p : catalog()) names.insert(p.class_name);
    for (const char* keyed :
         {"Cast", "ExtractField", "Flatten", "HeaderFrom", "HoistField", "InsertField", "MaskField",
          "ReplaceField", "SetSchemaMetadata", "TimestampConverter"}) {
      CHECK(names.count(pkg + keyed + "$Key") == 1);
      CHECK(names.count(pkg + keyed + "$Value") == 1);
    }
    for (const char* single_class : {"DropHeaders", "Filter", "InsertHeader", "RegexRouter",
                                     "TimestampRouter", "ValueToKey"}) {
      CHECK(names.count(pkg + single_class) == 1);
    }
    for (const char* p : {"TopicNameMatches", "HasHeaderKey", "RecordIsTombstone"}) {
      const auto* info = find_plugin(pkg + "predicates." + p);
      REQUIRE(info != nullptr);
      CHECK(info->kind == plugin_kind::predicate);
    }
    CHECK(names.size() == 10 * 2 + 6 + 3);
    CHECK(std::is_sorted(catalog().begin(), catalog().end(),
                         [](const auto& a, const auto& b) { return a.class_name < b.class_name; }));
    // Documented keys for GET /connector-plugins/{p}/config.
    const auto* cast = find_plugin(pkg + "Cast$Value");
    REQUIRE(cast != nullptr);
    CHECK(cast->config.find("spec") != nullptr);
    CHECK(cast->config.describe()[0]["name"] == "spec");
    CHECK(cast->config.describe()[0]["required"] == true);
  }

  TEST_CASE("simple class names are accepted where Kafka has an unambiguous alias") {
    CHECK(find_plugin("RegexRouter") == find_plugin(pkg + "RegexRouter"));
    CHECK(find_plugin("TopicNameMatches") == find_plugin(pkg + "predicates.TopicNameMatches"));
    CHECK(find_plugin("Value") == nullptr);
    CHECK(find_plugin("Cast") == nullptr);
    CHECK(find_plugin("com.example.Nope") == nullptr);
  }

  TEST_CASE("no transforms key gives an empty chain that keeps records unchanged") {
    auto chain = transform_chain::from_config({{"name", "c"}});
    CHECK(chain.empty());
    auto out = run(chain, schemaless(json{{"a", 1}}));
    CHECK(out.value == json{{"a", 1}});
  }

  TEST_CASE("transformations run in the order of the transforms list") {
    config_map c{
        {"transforms", "hoist, route"},        {"transforms.hoist.type", pkg + "HoistField$Value"},
        {"transforms.hoist.field", "wrapped"}, {"transforms.route.type", pkg + "RegexRouter"},
        {"transforms.route.regex", "(.*)"},    {"transforms.route.replacement", "$1-routed"}};
    auto chain = transform_chain::from_config(c);
    CHECK(chain.aliases() == std::vector<std::string>{"hoist", "route"});
    auto out = run(chain, schemaless(json("x")));
    CHECK(out.value == json{{"wrapped", "x"}});
    CHECK(out.topic == "orders-routed");

    // Reversed order: ExtractField after HoistField gives the original back; before it fails.
    config_map twice{{"transforms", "h,e"},
                     {"transforms.h.type", pkg + "HoistField$Value"},
                     {"transforms.h.field", "f"},
                     {"transforms.e.type", pkg + "ExtractField$Value"},
                     {"transforms.e.field", "f"}};
    auto round_trip = transform_chain::from_config(twice);
    CHECK(run(round_trip, schemaless(json(7))).value == json(7));
    twice["transforms"] = "e,h";
    auto reversed = transform_chain::from_config(twice);
    CHECK_THROWS_AS(reversed.apply(schemaless(json(7))), ferry::api::data_error);
  }

  TEST_CASE("stages run one at a time and name their transformation's class") {
    config_map c = dropping_foo_topics("route, hoist, drop");
    c.insert({{"transforms.route.type", "RegexRouter"},  // Kafka's short alias
              {"transforms.route.regex", "(.*)"},
              {"transforms.route.replacement", "$1-routed"},
              {"transforms.hoist.type", pkg + "HoistField$Value"},
              {"transforms.hoist.field", "wrapped"}});
    auto chain = transform_chain::from_config(c);
    REQUIRE(chain.size() == 3);
    CHECK(chain.class_name(0) == pkg + "RegexRouter");
    CHECK(chain.class_name(1) == pkg + "HoistField$Value");
    CHECK(chain.class_name(2) == pkg + "Filter");

    auto r = schemaless(json("x"));
    CHECK(chain.apply_stage(1, r));  // only the hoist: the topic stays
    CHECK(r.value == json{{"wrapped", "x"}});
    CHECK(r.topic == "orders");
    CHECK(chain.apply_stage(2, r));  // the predicate does not hold: kept as it is
    CHECK(r.value == json{{"wrapped", "x"}});
    r.topic = "foo-1";
    CHECK_FALSE(chain.apply_stage(2, r));  // now it holds: Filter drops the record
  }

  TEST_CASE("a predicate decides whether a transformation applies, negate inverts it") {
    config_map c = dropping_foo_topics("drop");
    auto chain = transform_chain::from_config(c);
    auto foo = schemaless(json(1));
    foo.topic = "foo-1";
    CHECK_FALSE(chain.apply(foo).has_value());
    CHECK(chain.apply(schemaless(json(1))).has_value());  // topic "orders"

    c["transforms.drop.negate"] = "true";
    auto negated = transform_chain::from_config(c);
    CHECK(negated.apply(foo).has_value());
    CHECK_FALSE(negated.apply(schemaless(json(1))).has_value());
  }

  TEST_CASE("a dropped record stops the chain") {
    config_map c{{"transforms", "f,boom"},
                 {"transforms.f.type", pkg + "Filter"},
                 {"transforms.boom.type", pkg + "ExtractField$Value"},
                 {"transforms.boom.field", "x"}};
    auto chain = transform_chain::from_config(c);
    // ExtractField would throw on a string value; Filter drops the record first.
    CHECK_FALSE(chain.apply(schemaless(json("text"))).has_value());
  }

  TEST_CASE("one predicate can serve several transformations") {
    config_map c{{"transforms", "a,b"},
                 {"transforms.a.type", pkg + "InsertHeader"},
                 {"transforms.a.header", "h1"},
                 {"transforms.a.value.literal", "1"},
                 {"transforms.a.predicate", "tomb"},
                 {"transforms.b.type", pkg + "InsertHeader"},
                 {"transforms.b.header", "h2"},
                 {"transforms.b.value.literal", "2"},
                 {"transforms.b.predicate", "tomb"},
                 {"transforms.b.negate", "true"},
                 {"predicates", "tomb"},
                 {"predicates.tomb.type", "RecordIsTombstone"}};
    auto chain = transform_chain::from_config(c);
    auto tomb = run(chain, schemaless(nullptr));
    REQUIRE(tomb.headers.size() == 1);
    CHECK(tomb.headers[0].key == "h1");
    auto live = run(chain, schemaless(json(1)));
    REQUIRE(live.headers.size() == 1);
    CHECK(live.headers[0].key == "h2");
  }

  TEST_CASE("config errors name the key like Kafka") {
    SUBCASE("unknown class") {
      auto e = error_of({{"transforms", "a"}, {"transforms.a.type", "com.example.Nope"}});
      CHECK(e ==
            "Invalid value com.example.Nope for configuration transforms.a.type: Class "
            "com.example.Nope could not be found.");
    }
    SUBCASE("missing type") {
      auto e = error_of({{"transforms", "a"}});
      CHECK(e ==
            "Missing required configuration \"transforms.a.type\" which has no default value.");
    }
    SUBCASE("a predicate class as a transformation") {
      auto e = error_of({{"transforms", "a"}, {"transforms.a.type", "RecordIsTombstone"}});
      CHECK(contains(e, "transforms.a.type: Not a Transformation"));
    }
    SUBCASE("a transformation class as a predicate") {
      auto e = error_of({{"predicates", "p"}, {"predicates.p.type", pkg + "Filter"}});
      CHECK(contains(e, "predicates.p.type: Not a Predicate"));
    }
    SUBCASE("duplicate alias") {
      auto e = error_of({{"transforms", "a,a"}, {"transforms.a.type", pkg + "Filter"}});
      CHECK(contains(e, "for configuration transforms: Duplicate alias provided."));
    }
    SUBCASE("predicate alias not listed in predicates") {
      auto e = error_of({{"transforms", "a"},
                         {"transforms.a.type", pkg + "Filter"},
                         {"transforms.a.predicate", "p"}});
      CHECK(contains(e, "Invalid value p for configuration transforms.a.predicate"));
    }
    SUBCASE("a plugin setting") {
      auto e = error_of({{"transforms", "a"}, {"transforms.a.type", pkg + "Cast$Value"}});
      CHECK(e ==
            "Missing required configuration \"transforms.a.spec\" which has no default value.");
      e = error_of({{"transforms", "a"},
                    {"transforms.a.type", pkg + "Cast$Value"},
                    {"transforms.a.spec", "x:nope"}});
      CHECK(e ==
            "Invalid value x:nope for configuration transforms.a.spec: Invalid type found in "
            "casting spec: nope");
    }
    SUBCASE("a bad negate") {
      auto e = error_of({{"transforms", "a"},
                         {"transforms.a.type", pkg + "Filter"},
                         {"transforms.a.negate", "maybe"}});
      CHECK(contains(e, "transforms.a.negate"));
    }
    SUBCASE("a predicate setting") {
      auto e = error_of({{"predicates", "p"},
                         {"predicates.p.type", pkg + "predicates.TopicNameMatches"},
                         {"predicates.p.pattern", "(unclosed"}});
      CHECK(contains(e,
                     "Invalid value (unclosed for configuration predicates.p.pattern: Invalid "
                     "regex"));
    }
  }

  TEST_CASE("validate_transforms reports every key with its errors and Kafka's groups") {
    config_map c{{"transforms", "ok,bad,missing,pair"},
                 {"transforms.ok.type", pkg + "InsertField$Value"},
                 {"transforms.ok.topic.field", "t"},
                 {"transforms.bad.type", "com.example.Nope"},
                 {"transforms.pair.type", pkg + "HeaderFrom$Value"},
                 {"transforms.pair.fields", "a,b"},
                 {"transforms.pair.headers", "a"},
                 {"transforms.pair.operation", "copy"},
                 {"predicates", "p"},
                 {"predicates.p.type", pkg + "predicates.HasHeaderKey"}};
    auto values = validate_transforms(c);
    CHECK(errors_for(values, "transforms").empty());
    CHECK(errors_for(values, "transforms.ok.type").empty());
    CHECK(errors_for(values, "transforms.ok.topic.field").empty());
    CHECK(errors_for(values, "transforms.bad.type").size() == 1);
    CHECK(errors_for(values, "transforms.missing.type").size() == 1);
    // Cross-key checks a plugin makes when it is built land on its type key.
    auto pair = errors_for(values, "transforms.pair.type");
    REQUIRE(pair.size() == 1);
    CHECK(contains(pair[0], "same number of elements"));
    // A required predicate setting.
    auto name = errors_for(values, "predicates.p.name");
    REQUIRE(name.size() == 1);
    CHECK(contains(name[0], "Missing required configuration \"predicates.p.name\""));

    auto def = ferry::transforms::transforms_config_def(c);
    REQUIRE(def.find("transforms.ok.static.value") != nullptr);
    CHECK(def.find("transforms.ok.static.value")->group == "Transforms: ok");
    CHECK(def.find("predicates.p.type")->group == "Predicates: p");
    CHECK(def.find("transforms.bad.spec") == nullptr);
  }

  TEST_CASE("a derived schema is built once per input schema object") {
    auto chain = single(pkg + "ReplaceField$Value", {{"exclude", "b"}});
    auto s = schema(struct_schema(json::array({field("a", "int32"), field("b", "int32")})));
    auto first = schemaless(json{{"a", 1}, {"b", 2}});
    first.value_schema = s;
    auto second = first;
    auto out1 = run(chain, first);
    auto out2 = run(chain, second);
    CHECK(out1.value_schema == out2.value_schema);  // the same object, not an equal copy
    CHECK(out1.value == json{{"a", 1}});
    // An equal schema in another object gets its own (equal) result.
    auto third = first;
    third.value_schema = schema(*s);
    auto out3 = run(chain, third);
    CHECK(out3.value_schema != out1.value_schema);
    CHECK(*out3.value_schema == *out1.value_schema);
  }

  TEST_CASE("records move in and out of the chain's record type") {
    ferry::api::source_record src;
    src.source_partition = json{{"stream", "s"}};
    src.source_offset = json{{"offset", "1-0"}};
    src.topic = "t";
    src.value = json{{"a", std::string(1000, 'x')}};
    src.headers.push_back({"h", "v"});
    src.timestamp_ms = 5;
    const auto* data = src.value["a"].get_ref<const std::string&>().data();
    auto r = ferry::transforms::take_record(src);
    CHECK(r.value["a"].get_ref<const std::string&>().data() == data);  // moved, not copied
    CHECK(r.timestamp_ms == 5);
    CHECK_FALSE(r.kafka_offset.has_value());
    r.topic = "t2";
    ferry::transforms::put_record(std::move(r), src);
    CHECK(src.topic == "t2");
    CHECK(src.source_offset == json{{"offset", "1-0"}});
    CHECK(src.value["a"].get_ref<const std::string&>().data() == data);
    CHECK(src.headers.size() == 1);

    ferry::api::sink_record sink;
    sink.topic = "k";
    sink.partition = 2;
    sink.offset = 42;
    sink.timestamp_ms = -1;
    auto s = ferry::transforms::take_record(sink);
    CHECK(s.kafka_offset == 42);
    CHECK(s.partition == 2);
    CHECK_FALSE(s.timestamp_ms.has_value());
    s.partition.reset();
    ferry::transforms::put_record(std::move(s), sink);
    CHECK(sink.partition == 2);
    CHECK(sink.timestamp_ms == -1);
  }

}  // TEST_SUITE
