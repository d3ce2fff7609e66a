#include <doctest/doctest.h>

#include "ferry/rest/http.hpp"

using namespace ferry::rest;

namespace {

struct target {
  std::string path;
  std::multimap<std::string, std::string> query;
};

target parse(const std::string& t) {
  target out;
  parse_target(t, out.path, out.query);
  return out;
}

std::vector<std::string> values(const target& t, const std::string& key) {
  std::vector<std::string> out;
  for (auto [it, end] = t.query.equal_range(key); it != end; ++it) out.push_back(it->second);
  return out;
}

}  // namespace

TEST_CASE("parse_target splits path and query") {
  auto t = parse("/connectors?expand=status");
  CHECK(t.path == "/connectors");
  CHECK(t.query.size() == 1);
  CHECK(values(t, "expand") == std::vector<std::string>{"status"});

  auto no_query = parse("/connectors/c1/status");
  CHECK(no_query.path == "/connectors/c1/status");
  CHECK(no_query.query.empty());
}

TEST_CASE("parse_target keeps repeated keys in order") {
  auto t = parse("/connectors?expand=status&expand=info");
  CHECK(values(t, "expand") == std::vector<std::string>{"status", "info"});
}

TEST_CASE("parse_target decodes '+' and %xx in query keys and values") {
  auto t = parse("/x?a+b=c%20d%2Be&%41=%e2%82%AC");
  CHECK(values(t, "a b") == std::vector<std::string>{"c d+e"});
  CHECK(values(t, "A") == std::vector<std::string>{"\xE2\x82\xAC"});
}

TEST_CASE("parse_target: flags without '=', empty pairs and malformed escapes") {
  auto t = parse("/x?flag&&y=1&z=&bad=%zz&tail=%4");
  CHECK(values(t, "flag") == std::vector<std::string>{""});
  CHECK(values(t, "y") == std::vector<std::string>{"1"});
  CHECK(values(t, "z") == std::vector<std::string>{""});
  CHECK(values(t, "bad") == std::vector<std::string>{"%zz"});  // left as is
  CHECK(values(t, "tail") == std::vector<std::string>{"%4"});
  CHECK(t.query.size() == 5);
}

TEST_CASE("http_request::query_param returns the last value of a key") {
  http_request r;
  parse_target("/c?onlyFailed=false&onlyFailed=true", r.path, r.query);
  REQUIRE(r.query_param("onlyFailed") != nullptr);
  CHECK(*r.query_param("onlyFailed") == "true");
  CHECK(r.query_param("includeTasks") == nullptr);
}
