#include <doctest/doctest.h>

#include "ferry/api/errors.hpp"
#include "ferry/core/converters.hpp"

using ferry::json;
using ferry::api::config_error;
using ferry::api::data_error;
using namespace ferry::core;

namespace {

connect_data decode(converter& c, const std::string& bytes) {
  return c.to_connect("topic", bytes.data(), bytes.size());
}

json binary(const std::string& bytes) {
  return json::binary(json::binary_t::container_type(bytes.begin(), bytes.end()));
}

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

}  // namespace

TEST_CASE("StringConverter round trips text and maps null both ways") {
  auto c = make_converter("StringConverter", {}, false);
  auto bytes = c->from_connect("t", json("h\xC3\xA9llo"), nullptr);
  REQUIRE(bytes.has_value());
  CHECK(*bytes == "h\xC3\xA9llo");
  auto back = decode(*c, *bytes);
  CHECK(back.value == "h\xC3\xA9llo");
  CHECK((*back.schema)["type"] == "string");

  CHECK_FALSE(c->from_connect("t", nullptr, nullptr).has_value());
  CHECK(c->to_connect("t", nullptr, 0).value.is_null());
  CHECK(c->from_connect("t", json(42), nullptr) == std::optional<std::string>("42"));
}

TEST_CASE("ByteArrayConverter passes bytes through unchanged, including NUL and CR LF") {
  auto c = make_converter("org.apache.kafka.connect.converters.ByteArrayConverter", {}, false);
  const std::string raw("\x00\xff\r\n", 4);
  auto bytes = c->from_connect("t", binary(raw), nullptr);
  REQUIRE(bytes.has_value());
  CHECK(*bytes == raw);
  auto back = decode(*c, raw);
  REQUIRE(back.value.is_binary());
  CHECK(back.value == binary(raw));
  CHECK((*back.schema)["type"] == "bytes");

  CHECK(c->from_connect("t", json("text"), nullptr) == std::optional<std::string>("text"));
  CHECK_FALSE(c->from_connect("t", nullptr, nullptr).has_value());
  CHECK(c->to_connect("t", nullptr, 0).value.is_null());
  CHECK_THROWS_AS(c->from_connect("t", json{{"a", 1}}, nullptr), data_error);
}

TEST_CASE("JsonConverter with schemas.enable=false writes and reads plain JSON") {
  auto c = make_converter("JsonConverter", {{"schemas.enable", "false"}}, false);
  json value = {{"id", 7}, {"name", "x"}, {"tags", {"a", "b"}}};
  auto bytes = c->from_connect("t", value, nullptr);
  REQUIRE(bytes.has_value());
  CHECK(*bytes == R"({"id":7,"name":"x","tags":["a","b"]})");
  auto back = decode(*c, *bytes);
  CHECK(back.value == value);
  CHECK(back.schema == nullptr);

  CHECK_FALSE(c->from_connect("t", nullptr, nullptr).has_value());
  CHECK(c->to_connect("t", nullptr, 0).value.is_null());
}

TEST_CASE("JsonConverter with schemas.enable=true writes a {schema, payload} envelope") {
  auto c = make_converter("org.apache.kafka.connect.json.JsonConverter",
                          {{"schemas.enable", "true"}}, false);
  SUBCASE("inferred schema") {
    auto bytes = c->from_connect("t", json{{"a", 1}}, nullptr);
    REQUIRE(bytes.has_value());
    auto env = json::parse(*bytes);
    std::vector<std::string> keys;
    for (const auto& [k, v] : env.items()) keys.push_back(k);
    CHECK(keys == std::vector<std::string>{"schema", "payload"});
    CHECK(env["schema"]["type"] == "struct");
    CHECK(env["payload"] == json{{"a", 1}});
  }
  SUBCASE("given schema is kept and comes back") {
    json schema = {{"type", "string"}, {"optional", false}};
    auto bytes = c->from_connect("t", json("v"), &schema);
    REQUIRE(bytes.has_value());
    CHECK(*bytes == R"({"schema":{"type":"string","optional":false},"payload":"v"})");
    auto back = decode(*c, *bytes);
    CHECK(back.value == "v");
    CHECK(*back.schema == schema);
  }
  SUBCASE("null with no schema is a null record") {
    CHECK_FALSE(c->from_connect("t", nullptr, nullptr).has_value());
  }
}

TEST_CASE("JsonConverter schemas.enable defaults to true") {
  auto c = make_converter("JsonConverter", {}, true);
  auto bytes = c->from_connect("t", json("k"), nullptr);
  REQUIRE(bytes.has_value());
  CHECK(json::parse(*bytes).contains("payload"));
}

TEST_CASE("JsonConverter with schemas.enable=true refuses plain JSON with data_error") {
  auto c = make_converter("JsonConverter", {{"schemas.enable", "true"}}, false);
  for (std::string plain : {R"({"a":1})", R"({"schema":{},"payload":1,"extra":2})", "42"}) {
    CAPTURE(plain);
    try {
      decode(*c, plain);
      FAIL("expected data_error");
    } catch (const data_error& e) {
      CHECK(contains(e.what(), "schemas.enable=false"));
    }
  }
}

TEST_CASE("JsonConverter throws data_error on malformed JSON in both modes") {
  for (std::string enable : {"true", "false"}) {
    CAPTURE(enable);
    auto c = make_converter("JsonConverter", {{"schemas.enable", enable}}, false);
    CHECK_THROWS_AS(decode(*c, "{\"a\":"), data_error);
    CHECK_THROWS_AS(decode(*c, "not json"), data_error);
  }
}

TEST_CASE("JsonConverter writes binary values as base64 text") {
  auto c = make_converter("JsonConverter", {{"schemas.enable", "false"}}, false);
  auto bytes = c->from_connect("t", json{{"b", binary("foo")}}, nullptr);
  REQUIRE(bytes.has_value());
  CHECK(*bytes == R"({"b":"Zm9v"})");
}

TEST_CASE("JsonConverter with schemas round trips binary values as bytes") {
  auto c = make_converter("JsonConverter", {{"schemas.enable", "true"}}, false);
  auto bytes = c->from_connect("t", binary("foo"), nullptr);
  REQUIRE(bytes.has_value());
  CHECK(*bytes == R"({"schema":{"type":"bytes","optional":false},"payload":"Zm9v"})");
  auto back = decode(*c, *bytes);
  CHECK((*back.schema)["type"] == "bytes");
  CHECK(back.value == binary("foo"));
}

TEST_CASE("make_converter: class names, simple names and bad settings") {
  for (std::string name : {"JsonConverter", "StringConverter", "ByteArrayConverter",
                           "org.apache.kafka.connect.json.JsonConverter",
                           "org.apache.kafka.connect.storage.StringConverter",
                           "org.apache.kafka.connect.converters.ByteArrayConverter"}) {
    CAPTURE(name);
    CHECK(make_converter(name, {}, false) != nullptr);
    CHECK(is_known_converter(name));
  }
  CHECK_THROWS_AS(make_converter("io.confluent.connect.avro.AvroConverter", {}, false),
                  config_error);
  CHECK_FALSE(is_known_converter("io.confluent.connect.avro.AvroConverter"));
  CHECK_THROWS_AS(make_converter("JsonConverter", {{"schemas.enable", "maybe"}}, false),
                  config_error);
}

TEST_CASE("infer_schema follows Kafka Connect's JSON schema form") {
  CHECK(infer_schema(json(5)) == json{{"type", "int64"}, {"optional", false}});
  CHECK(infer_schema(json(1.5)) == json{{"type", "double"}, {"optional", false}});
  CHECK(infer_schema(json("s")) == json{{"type", "string"}, {"optional", false}});
  CHECK(infer_schema(json(true)) == json{{"type", "boolean"}, {"optional", false}});
  CHECK(infer_schema(nullptr)["optional"] == true);

  auto s = infer_schema(json{{"id", 1}, {"name", "n"}, {"ok", false}});
  CHECK(s["type"] == "struct");
  CHECK(s["optional"] == false);
  REQUIRE(s["fields"].size() == 3);
  CHECK(s["fields"][0] == json{{"type", "int64"}, {"optional", false}, {"field", "id"}});
  CHECK(s["fields"][1] == json{{"type", "string"}, {"optional", false}, {"field", "name"}});
  CHECK(s["fields"][2]["type"] == "boolean");
  CHECK(s["fields"][2]["field"] == "ok");

  auto nested = infer_schema(json{{"inner", {{"x", 1.0}}}});
  CHECK(nested["fields"][0]["type"] == "struct");
  CHECK(nested["fields"][0]["fields"][0]["type"] == "double");

  auto arr = infer_schema(json::array({1, 2}));
  CHECK(arr["type"] == "array");
  CHECK(arr["items"]["type"] == "int64");
}

TEST_CASE("base64 encode and decode, with padding (RFC 4648 test vectors)") {
  const std::vector<std::pair<std::string, std::string>> vectors = {{"", ""},
                                                                    {"f", "Zg=="},
                                                                    {"fo", "Zm8="},
                                                                    {"foo", "Zm9v"},
                                                                    {"foob", "Zm9vYg=="},
                                                                    {"fooba", "Zm9vYmE="},
                                                                    {"foobar", "Zm9vYmFy"}};
  for (const auto& [plain, encoded] : vectors) {
    CAPTURE(plain);
    CHECK(base64_encode(plain) == encoded);
    CHECK(base64_decode(encoded) == std::optional<std::string>(plain));
  }
  const std::string all_bytes("\x00\x01\xfe\xff\x80", 5);
  CHECK(base64_decode(base64_encode(all_bytes)) == std::optional<std::string>(all_bytes));
  CHECK(base64_encode("\xfb\xff") == "+/8=");
}

TEST_CASE("base64_decode refuses invalid input") {
  for (std::string bad : {"Zg=", "Zm9", "Zm9v!A==", "====", "Z===", "Zm 9v", "Zg==\n"}) {
    CAPTURE(bad);
    CHECK_FALSE(base64_decode(bad).has_value());
  }
}

TEST_CASE("base64_decode refuses data after padding") {
  CHECK_FALSE(base64_decode("Zg==Zm9v").has_value());
  CHECK_FALSE(base64_decode("Zg=v").has_value());
}
