#include "ferry/core/json_reader.hpp"

#include <doctest/doctest.h>

#include <random>
#include <string>
#include <vector>

using ferry::json;
using ferry::core::json_reader;
using ferry::core::json_syntax_error;

namespace {

// json::parse's verdict on a text: the value, or nothing when it refuses it.
std::optional<json> reference(const std::string& text) {
  try {
    return json::parse(text);
  } catch (const json::exception&) {
    return std::nullopt;
  }
}

std::optional<json> ours(json_reader& reader, const std::string& text) {
  try {
    return reader.parse(text);
  } catch (const json_syntax_error&) {
    return std::nullopt;
  }
}

// Same value, same number types (unsigned / signed / floating) and same key order.
bool identical(const json& a, const json& b) {
  if (a.type() != b.type()) return false;
  if (a.is_object()) {
    if (a.size() != b.size()) return false;
    auto i = a.begin();
    auto j = b.begin();
    for (; i != a.end(); ++i, ++j) {
      if (i.key() != j.key() || !identical(i.value(), j.value())) return false;
    }
    return true;
  }
  if (a.is_array()) {
    if (a.size() != b.size()) return false;
    for (std::size_t k = 0; k < a.size(); ++k) {
      if (!identical(a[k], b[k])) return false;
    }
    return true;
  }
  if (a.is_number_float()) {
    return a.get<double>() == b.get<double>() ||
           (std::isnan(a.get<double>()) && std::isnan(b.get<double>()));
  }
  return a == b;
}

void check_same_as_reference(json_reader& reader, const std::string& text) {
  auto expected = reference(text);
  auto got = ours(reader, text);
  INFO("text: ", text);
  REQUIRE(expected.has_value() == got.has_value());
  if (expected) CHECK(identical(*expected, *got));
}

const std::vector<std::string> k_valid = {
    R"({"name":"ada","score":12,"city":"Paris","email":"ada@example.com","plan":"pro"})",
    R"({})",
    R"([])",
    R"(  {"a" : [1, -2, 3.5, -0.0, 1e3, 2E-2, 0, -0, 1.0e+10] , "b":{"c":{"d":[]}}}  )",
    R"("just a string")",
    R"(42)",
    R"(-42)",
    R"(18446744073709551615)",
    R"(18446744073709551616)",
    R"(-9223372036854775808)",
    R"(-9223372036854775809)",
    R"(1e-400)",
    R"(0.1)",
    R"(123456789.123456789e-5)",
    R"(true)",
    R"(false)",
    R"(null)",
    R"({"dup":1,"x":2,"dup":3})",
    R"({"a":{"k":1,"k":{"z":2}},"a":[1]})",
    R"("esc \" \\ \/ \b \f \n \r \t \u0041 \u00e9 \u20AC \ud83d\ude00")",
    "\"caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80\"",
    "\xEF\xBB\xBF{\"bom\":true}",
    "{\"k\":\"v\"}\n",
    R"([[[[[[[[[[1]]]]]]]]]])",
    R"({"":""})",
    R"({"nested":{"list":[{"a":null},{"b":false}],"n":-1.5e-3}})",
};

const std::vector<std::string> k_invalid = {
    "",
    " ",
    "{",
    "}",
    "[1,]",
    "{\"a\":1,}",
    "{\"a\" 1}",
    "{a:1}",
    "01",
    "-",
    "1.",
    ".5",
    "1e",
    "1e+",
    "+1",
    "tru",
    "nul",
    "falsey",
    "1 2",
    "\"unterminated",
    "\"bad escape \\x\"",
    "\"\\u12\"",
    "\"\\ud83d\"",
    "\"\\ude00\"",
    "\"\\ud83d\\u0041\"",
    "\"tab\tinside\"",
    "\"\xC3\"",
    "\"\xC0\xAF\"",
    "\"\xED\xA0\x80\"",
    "\"\xF4\x90\x80\x80\"",
    "\"\xFF\"",
    "1e400",
    "-1e400",
    "[1 2]",
    "{\"a\":1 \"b\":2}",
    "\xEF\xBB",
};

}  // namespace

TEST_CASE("json_reader gives json::parse's value for valid texts") {
  json_reader reader;
  for (const auto& text : k_valid) check_same_as_reference(reader, text);
}

TEST_CASE("json_reader refuses what json::parse refuses, saying where") {
  json_reader reader;
  for (const auto& text : k_invalid) check_same_as_reference(reader, text);
  try {
    reader.parse("{\"a\":tru}");
    FAIL("no error");
  } catch (const json_syntax_error& e) {
    CHECK(std::string(e.what()) == "JSON parse error at byte 5: invalid literal; expected 'true'");
  }
}

TEST_CASE("json_reader keeps a duplicated key's first position and last value in big objects") {
  std::string text = "{";
  for (int i = 0; i < 40; ++i) text += "\"k" + std::to_string(i) + "\":" + std::to_string(i) + ",";
  text += "\"k7\":\"again\",\"k39\":null}";
  json_reader reader;
  check_same_as_reference(reader, text);
  auto v = reader.parse(text);
  CHECK(v.size() == 40);
  CHECK(v["k7"] == "again");
  CHECK(v.begin().key() == "k0");
}

TEST_CASE("json_reader refuses nesting deeper than its limit instead of exhausting the stack") {
  json_reader reader;
  std::string ok(json_reader::max_depth, '[');
  ok += std::string(json_reader::max_depth, ']');
  CHECK(reader.parse(ok).is_array());
  std::string deep(json_reader::max_depth + 1, '[');
  deep += std::string(json_reader::max_depth + 1, ']');
  CHECK_THROWS_AS(reader.parse(deep), json_syntax_error);
  std::string deep_objects;
  for (int i = 0; i <= json_reader::max_depth; ++i) deep_objects += "{\"a\":";
  deep_objects += "1" + std::string(json_reader::max_depth + 1, '}');
  CHECK_THROWS_AS(reader.parse(deep_objects), json_syntax_error);
}

TEST_CASE("json_reader agrees with json::parse on mutated texts") {
  // Byte-level mutations of valid texts: inserted, deleted and replaced bytes, including the
  // characters that matter to the grammar and non-ASCII bytes. Both parsers must agree on
  // whether each is valid and, if so, on its value.
  std::mt19937 rng(20261127);
  const std::string alphabet =
      "{}[]\",:\\/-+.eE0123456789tfnu \t\nabc\x80\xBF\xC3\xE2\xED\xF0\xF4\xFF";
  json_reader reader;
  int valid = 0;
  for (int round = 0; round < 20000; ++round) {
    std::string text = k_valid[rng() % k_valid.size()];
    int edits = 1 + static_cast<int>(rng() % 3);
    for (int e = 0; e < edits && !text.empty(); ++e) {
      std::size_t at = rng() % text.size();
      char c = alphabet[rng() % alphabet.size()];
      switch (rng() % 3) {
        case 0:
          text.insert(text.begin() + static_cast<std::ptrdiff_t>(at), c);
          break;
        case 1:
          text.erase(at, 1);
          break;
        default:
          text[at] = c;
      }
    }
    if (reference(text)) ++valid;
    check_same_as_reference(reader, text);
  }
  CHECK(valid > 1000);  // the mutations exercised the valid path too
}
