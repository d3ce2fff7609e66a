#include <doctest/doctest.h>

#include <stdexcept>

#include "../temp_dir.hpp"
#include "ferry/core/properties.hpp"

using ferry::core::load_properties_file;
using ferry::core::parse_properties;
using props = std::map<std::string, std::string>;

namespace {

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

}  // namespace

TEST_CASE("properties: # and ! comments and blank lines are skipped") {
  auto p = parse_properties(
      "# a comment\n"
      "! another comment\n"
      "   # indented comment\n"
      "\n"
      "   \n"
      "key=value\n");
  CHECK(p == props{{"key", "value"}});
}

TEST_CASE("properties: '=', ':' and whitespace separate key and value") {
  auto p = parse_properties(
      "a=1\n"
      "b:2\n"
      "c 3\n"
      "d = 4\n"
      "e\t:\t5\n"
      "  f  =  six  \n"
      "url=http://host:8083/x=y\n"
      "novalue\n"
      "empty=\n");
  CHECK(p["a"] == "1");
  CHECK(p["b"] == "2");
  CHECK(p["c"] == "3");
  CHECK(p["d"] == "4");
  CHECK(p["e"] == "5");
  CHECK(p["f"] == "six  ");  // trailing whitespace belongs to the value, as in Java
  CHECK(p["url"] == "http://host:8083/x=y");
  REQUIRE(p.count("novalue") == 1);
  CHECK(p["novalue"] == "");
  CHECK(p["empty"] == "");
  CHECK(p.size() == 9);
}

TEST_CASE("properties: a later duplicate key wins") {
  CHECK(parse_properties("k=1\nk=2\n") == props{{"k", "2"}});
}

TEST_CASE("properties: backslash continues a line, the next line's leading whitespace dropped") {
  auto p = parse_properties(
      "plugin.path=/a,\\\n"
      "            /b,\\\n"
      "\t/c\n"
      "after=x\n");
  CHECK(p["plugin.path"] == "/a,/b,/c");
  CHECK(p["after"] == "x");
}

TEST_CASE("properties: an escaped backslash at the end does not continue the line") {
  auto p = parse_properties("dir=C:\\\\\nnext=1\n");
  CHECK(p["dir"] == "C:\\");
  CHECK(p["next"] == "1");
}

TEST_CASE("properties: a comment ending in a backslash does not swallow the next line") {
  auto p = parse_properties("# comment \\\nkey=v\n");
  CHECK(p == props{{"key", "v"}});
}

TEST_CASE("properties: escapes \\t \\n \\\\ and \\uXXXX (to UTF-8)") {
  auto p = parse_properties(
      "tab=a\\tb\n"
      "nl=a\\nb\n"
      "slash=a\\\\b\n"
      "ascii=\\u0041\n"
      "e_acute=caf\\u00e9\n"
      "euro=\\u20AC\n"
      "other=\\q\n");
  CHECK(p["tab"] == "a\tb");
  CHECK(p["nl"] == "a\nb");
  CHECK(p["slash"] == "a\\b");
  CHECK(p["ascii"] == "A");
  CHECK(p["e_acute"] == "caf\xC3\xA9");
  CHECK(p["euro"] == "\xE2\x82\xAC");
  CHECK(p["other"] == "q");  // an unknown escape is the character itself
}

TEST_CASE("properties: escaped separators belong to the key") {
  auto p = parse_properties("my\\ key=v1\na\\=b=v2\nc\\:d:v3\n");
  CHECK(p["my key"] == "v1");
  CHECK(p["a=b"] == "v2");
  CHECK(p["c:d"] == "v3");
}

TEST_CASE("properties: CRLF line endings") {
  auto p = parse_properties("a=1\r\nb=2\r\n");
  CHECK(p == props{{"a", "1"}, {"b", "2"}});
}

TEST_CASE("properties: a malformed \\u escape throws invalid_argument naming the line") {
  SUBCASE("bad hex digit") {
    try {
      parse_properties("ok=1\nbad=\\u12G4\n");
      FAIL("expected invalid_argument");
    } catch (const std::invalid_argument& e) {
      CHECK(contains(e.what(), "line 2"));
    }
  }
  SUBCASE("too short") {
    try {
      parse_properties("# c\n\nbad=\\u12\n");
      FAIL("expected invalid_argument");
    } catch (const std::invalid_argument& e) {
      CHECK(contains(e.what(), "line 3"));
    }
  }
}

TEST_CASE("properties: a \\u surrogate pair becomes one 4-byte UTF-8 character") {
  auto p = parse_properties("smile=\\uD83D\\uDE00\n");
  CHECK(p["smile"] == "\xF0\x9F\x98\x80");
}

TEST_CASE("load_properties_file reads a file and names it in errors") {
  ferry::test::temp_dir dir;
  auto good = dir.file("worker.properties");
  ferry::test::write_text(good, "bootstrap.servers=localhost:9092\n");
  CHECK(load_properties_file(good) == props{{"bootstrap.servers", "localhost:9092"}});

  auto missing = dir.file("missing.properties");
  try {
    load_properties_file(missing);
    FAIL("expected runtime_error");
  } catch (const std::runtime_error& e) {
    CHECK(contains(e.what(), missing));
  }

  auto bad = dir.file("bad.properties");
  ferry::test::write_text(bad, "x=\\uZZZZ\n");
  try {
    load_properties_file(bad);
    FAIL("expected runtime_error");
  } catch (const std::runtime_error& e) {
    CHECK(contains(e.what(), bad));
    CHECK(contains(e.what(), "line 1"));
  }
}
