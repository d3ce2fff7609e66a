#include <doctest/doctest.h>

#include <stdexcept>

#include "ferry/api/errors.hpp"
#include "ferry/core/errors.hpp"
#include "ferry/rest/router.hpp"

using ferry::json;
using namespace ferry::rest;

namespace {

http_request request(const std::string& method, const std::string& path) {
  http_request r;
  r.method = method;
  r.path = path;
  return r;
}

std::string header(const http_response& r, const std::string& name) {
  for (const auto& [k, v] : r.headers) {
    if (k == name) return v;
  }
  return {};
}

// Answers 200 with the path parameters it was given, as a JSON object.
http_response echo_params(const http_request&, const path_params& p) {
  json j = json::object();
  for (const auto& [k, v] : p) j[k] = v;
  return http_response::json_body(200, j);
}

template <typename E>
route_handler throwing(std::string message) {
  return [message](const http_request&, const path_params&) -> http_response { throw E(message); };
}

}  // namespace

TEST_CASE("router matches path templates and passes the parameters") {
  router r;
  r.add("GET", "/connectors", echo_params);
  r.add("GET", "/connectors/{name}/tasks/{task}/status", echo_params);

  auto list = r.handle(request("GET", "/connectors"));
  CHECK(list.status == 200);
  CHECK(json::parse(list.body) == json::object());

  auto task = r.handle(request("GET", "/connectors/c1/tasks/3/status"));
  CHECK(task.status == 200);
  CHECK(json::parse(task.body) == json{{"name", "c1"}, {"task", "3"}});
}

TEST_CASE("router percent-decodes each segment after splitting the path") {
  router r;
  r.add("GET", "/connectors/{name}", echo_params);
  CHECK(json::parse(r.handle(request("GET", "/connectors/my%20sink")).body)["name"] == "my sink");
  // %2F stays inside the segment: a name may contain a slash.
  CHECK(json::parse(r.handle(request("GET", "/connectors/a%2Fb")).body)["name"] == "a/b");
  // Decoded once only.
  CHECK(json::parse(r.handle(request("GET", "/connectors/a%2541")).body)["name"] == "a%41");
  // '+' is a plus in a path, not a space.
  CHECK(json::parse(r.handle(request("GET", "/connectors/a+b")).body)["name"] == "a+b");
}

TEST_CASE("router answers 404 with Kafka's error body for an unknown path") {
  router r;
  r.add("GET", "/connectors", echo_params);
  for (std::string path : {"/nope", "/connectors/x/y/z", "/"}) {
    CAPTURE(path);
    auto resp = r.handle(request("GET", path));
    CHECK(resp.status == 404);
    CHECK(resp.content_type == "application/json");
    auto body = json::parse(resp.body);
    CHECK(body["error_code"] == 404);
    CHECK(body["message"].is_string());
    std::vector<std::string> keys;
    for (const auto& [k, v] : body.items()) keys.push_back(k);
    CHECK(keys == std::vector<std::string>{"error_code", "message"});
  }
}

TEST_CASE("router answers 405 with Allow for a known path and another method") {
  router r;
  r.add("GET", "/connectors/{name}", echo_params);
  r.add("DELETE", "/connectors/{name}", echo_params);
  auto resp = r.handle(request("POST", "/connectors/c1"));
  CHECK(resp.status == 405);
  CHECK(json::parse(resp.body)["error_code"] == 405);
  CHECK(header(resp, "Allow") == "GET, DELETE");
}

TEST_CASE("router maps handler exceptions onto status codes") {
  router r;
  r.add("GET", "/not-found", throwing<ferry::core::not_found_error>("no such thing"));
  r.add("GET", "/bad", throwing<ferry::core::bad_request_error>("bad thing"));
  r.add("GET", "/conflict", throwing<ferry::core::already_exists_error>("exists"));
  r.add("GET", "/config", throwing<ferry::api::config_error>("bad config"));
  r.add("GET", "/crash", throwing<std::runtime_error>("kaboom"));
  r.add("GET", "/json", [](const http_request&, const path_params&) -> http_response {
    auto parsed = json::parse("{oops");
    return http_response::json_body(200, parsed);
  });
  r.add("GET", "/int", [](const http_request&, const path_params&) -> http_response { throw 42; });

  auto check = [&](const std::string& path, int status, const std::string& message) {
    CAPTURE(path);
    auto resp = r.handle(request("GET", path));
    CHECK(resp.status == status);
    auto body = json::parse(resp.body);
    CHECK(body["error_code"] == status);
    CHECK(body["message"].get<std::string>().find(message) != std::string::npos);
  };
  check("/not-found", 404, "no such thing");
  check("/bad", 400, "bad thing");
  check("/conflict", 409, "exists");
  check("/config", 400, "bad config");
  check("/crash", 500, "kaboom");
  check("/json", 400, "JSON");
  check("/int", 500, "");
}

TEST_CASE("router lists its routes") {
  router r;
  r.add("GET", "/a", echo_params);
  r.add("PUT", "/a/{x}", echo_params);
  auto routes = r.routes();
  REQUIRE(routes.size() == 2);
  CHECK(routes[0] == std::pair<std::string, std::string>{"GET", "/a"});
  CHECK(routes[1] == std::pair<std::string, std::string>{"PUT", "/a/{x}"});
}

TEST_CASE("http_response helpers") {
  auto e = http_response::empty(204);
  CHECK(e.status == 204);
  CHECK(e.body.empty());
  CHECK(e.content_type.empty());
  auto err = http_response::error(409, "taken");
  CHECK(err.body == R"({"error_code":409,"message":"taken"})");
}
