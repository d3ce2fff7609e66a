#include <doctest/doctest.h>

#include <random>
#include <string>
#include <vector>

#include "ferry/api/json.hpp"
#include "ferry/api/json_text.hpp"

using ferry::json;
using ferry::api::append_json_string;

namespace {

// What the JSON converter writes for a string value, or nullopt where it refuses (not UTF-8).
std::optional<std::string> converter_text(const std::string& s) {
  try {
    return json(s).dump();
  } catch (const json::type_error&) {
    return std::nullopt;
  }
}

// Appends after a prefix, so a refusal must leave the prefix as it was.
void check_same_as_converter(const std::string& s) {
  std::string out = "prefix";
  bool ok = append_json_string(out, s);
  auto expected = converter_text(s);
  CAPTURE(json::binary_t(std::vector<std::uint8_t>(s.begin(), s.end())));
  REQUIRE(ok == expected.has_value());
  CHECK(out == (ok ? "prefix" + *expected : std::string("prefix")));
}

}  // namespace

TEST_CASE("append_json_string writes what the JSON converter writes, escapes included") {
  for (int c = 0; c < 0x80; ++c) check_same_as_converter(std::string(1, static_cast<char>(c)));
  for (const char* s :
       {"", "plain", "say \"hi\"", "back\\slash", "a/b", "tab\there", "\x7f", "line\nfeed\r\n",
        "caf\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80", "\xc2\x80", "\xdf\xbf", "\xe0\xa0\x80",
        "\xef\xbf\xbf", "\xf0\x90\x80\x80", "\xf4\x8f\xbf\xbf"}) {
    check_same_as_converter(s);
  }
  CHECK(converter_text(std::string("\x01", 1)) == "\"\\u0001\"");  // the form checked against
}

TEST_CASE("append_json_string refuses what is not UTF-8, as the converter does") {
  for (const char* s :
       {"\x80", "a\xbf", "\xc0\x80", "\xc1\xbf", "\xc3", "\xe0\x80\x80", "\xe0\x9f\xbf",
        "\xed\xa0\x80", "\xed\xbf\xbf", "\xe2\x82", "\xf0\x80\x80\x80", "\xf0\x8f\xbf\xbf",
        "\xf4\x90\x80\x80", "\xf5\x80\x80\x80", "\xff", "ok\xf0\x9f\x98", "\xc3\xa9\xc3"}) {
    std::string out = "kept";
    CHECK_FALSE(append_json_string(out, s));
    CHECK(out == "kept");
    CHECK_FALSE(converter_text(s).has_value());
  }
}

TEST_CASE("append_json_string agrees with the converter on random bytes") {
  std::mt19937 rng(20261127);
  // Alphabets that make escapes, valid sequences and broken ones all likely.
  const std::vector<std::string> alphabets = {
      std::string("ab\"\\\n\x01\x1f\x7f", 8), "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80xy",
      std::string("\x80\xbf\xc0\xc2\xdf\xe0\xed\xef\xf0\xf4\xf5\xff"
                  "a",
                  13)};
  for (int i = 0; i < 20000; ++i) {
    const auto& alphabet = alphabets[i % alphabets.size()];
    std::string s(rng() % 12, '\0');
    for (auto& c : s) {
      c = (i % 4 == 3) ? static_cast<char>(rng() % 256) : alphabet[rng() % alphabet.size()];
    }
    check_same_as_converter(s);
  }
}
