#include <doctest/doctest.h>

#include <set>

#include "fake_herder.hpp"
#include "ferry/rest/admin_routes.hpp"
#include "ferry/rest/connect_routes.hpp"

using ferry::json;

TEST_CASE("GET /openapi.json documents exactly the routes the server answers") {
  ferry::test::fake_herder h;
  ferry::rest::router r;
  ferry::rest::add_connect_routes(r, h);
  ferry::rest::add_admin_routes(r);
  ferry::rest::add_openapi_route(r, "1.2.3");

  auto resp = r.handle({.method = "GET", .path = "/openapi.json"});
  REQUIRE(resp.status == 200);
  auto doc = json::parse(resp.body);
  CHECK(doc["openapi"] == "3.0.3");
  CHECK(doc["info"]["version"] == "1.2.3");

  std::set<std::pair<std::string, std::string>> documented;
  for (const auto& [path, ops] : doc["paths"].items()) {
    for (const auto& [method, op] : ops.items()) {
      std::string upper = method;
      for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      documented.insert({upper, path});
      INFO(upper << " " << path);
      CHECK_FALSE(op["summary"].get<std::string>().empty());  // every route is described
      CHECK(op["responses"].contains("default"));
    }
  }
  std::set<std::pair<std::string, std::string>> served;
  for (const auto& route : r.routes()) served.insert(route);
  CHECK(documented == served);
  CHECK(served.count({"PATCH", "/connectors/{name}/offsets"}) == 1);

  auto offsets = doc["paths"]["/connectors/{name}/offsets"]["patch"];
  CHECK(offsets["parameters"][0]["name"] == "name");
  CHECK(offsets.contains("requestBody"));
  auto restart = doc["paths"]["/connectors/{name}/restart"]["post"];
  CHECK(restart["responses"].contains("204"));
  CHECK(restart["parameters"].size() == 3);  // name, includeTasks, onlyFailed
}

TEST_CASE("router::document refuses a route that does not exist") {
  ferry::rest::router r;
  CHECK_THROWS_AS(r.document("GET", "/nope", {"x", {}, 200}), std::logic_error);
}
