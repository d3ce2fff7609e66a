#include <doctest/doctest.h>

#include <algorithm>

#include "fake_herder.hpp"
#include "ferry/rest/connect_routes.hpp"

using ferry::json;
using ferry::rest::http_request;
using ferry::rest::http_response;
using ferry::storage::target_state;
using ferry::test::fake_herder;

namespace {

// A router wired to a fake herder, plus helpers to send requests like a client would.
struct api_under_test {
  fake_herder herder;
  ferry::rest::router router;

  api_under_test() { ferry::rest::add_connect_routes(router, herder); }

  http_response send(const std::string& method, const std::string& target,
                     const std::string& body = {},
                     const std::string& content_type = "application/json") {
    http_request req;
    req.method = method;
    ferry::rest::parse_target(target, req.path, req.query);
    req.body = body;
    req.content_type = body.empty() ? std::string{} : content_type;
    return router.handle(req);
  }
};

json body_of(const http_response& r) {
  return json::parse(r.body);
}

std::string header(const http_response& r, const std::string& name) {
  for (const auto& [k, v] : r.headers) {
    if (k == name) return v;
  }
  return {};
}

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

std::string error_message(const http_response& r) {
  return body_of(r)["message"].get<std::string>();
}

}  // namespace

TEST_CASE("POST /connectors creates: 201, Location and the connector info") {
  api_under_test api;
  auto r = api.send("POST", "/connectors",
                    R"({"name":"c1","config":{"connector.class":"RedisSink","topics":"t"}})");
  CHECK(r.status == 201);
  CHECK(header(r, "Location") == "/connectors/c1");
  CHECK(r.content_type == "application/json");
  auto b = body_of(r);
  CHECK(b["name"] == "c1");
  CHECK(b["config"]["topics"] == "t");

  REQUIRE(api.herder.puts.size() == 1);
  const auto& put = api.herder.puts[0];
  CHECK(put.name == "c1");
  CHECK(put.allow_replace == false);
  CHECK_FALSE(put.initial_state.has_value());
  CHECK(put.config == ferry::api::config_map{{"connector.class", "RedisSink"}, {"topics", "t"}});
}

TEST_CASE("POST /connectors trims the connector name") {
  api_under_test api;
  auto r = api.send("POST", "/connectors", R"({"name":"  c1 ","config":{}})");
  CHECK(r.status == 201);
  REQUIRE(api.herder.puts.size() == 1);
  CHECK(api.herder.puts[0].name == "c1");
  CHECK(header(r, "Location") == "/connectors/c1");
}

TEST_CASE("POST /connectors answers 409 when the connector already exists") {
  api_under_test api;
  api.herder.on_put = [] {
    throw ferry::core::already_exists_error("Connector c1 already exists");
  };
  auto r = api.send("POST", "/connectors", R"({"name":"c1","config":{}})");
  CHECK(r.status == 409);
  CHECK(body_of(r)["error_code"] == 409);
  CHECK(error_message(r) == "Connector c1 already exists");
}

TEST_CASE("POST /connectors with malformed JSON is a 400 saying where it broke") {
  api_under_test api;
  auto r = api.send("POST", "/connectors", R"({"name":"c1","config":{"a":})");
  CHECK(r.status == 400);
  CHECK(body_of(r)["error_code"] == 400);
  auto msg = error_message(r);
  CAPTURE(msg);
  CHECK(contains(msg, "line 1, column"));
  CHECK(api.herder.puts.empty());
}

TEST_CASE("A JSON number too large for a double is a 400, not a 500 (found by ferry-fuzz-http)") {
  api_under_test api;
  auto r = api.send("POST", "/connectors", R"({"name":"c1","config":{"tasks.max":1e309}})");
  CHECK(r.status == 400);
  CHECK(body_of(r)["error_code"] == 400);
  CHECK(api.herder.puts.empty());
}

TEST_CASE("An answer echoing bytes that are not UTF-8 is sent with U+FFFD (found by fuzzing)") {
  api_under_test api;
  auto r = api.send("POST", "/connectors", R"({"name":"c1"})",
                    "text/pl\xff"
                    "ain");
  CHECK(r.status == 415);
  auto msg = error_message(r);  // parses: the body is valid JSON
  CHECK(contains(msg, "\xEF\xBF\xBD"));
}

TEST_CASE("POST /connectors without a JSON content type is 415") {
  api_under_test api;
  auto missing = api.send("POST", "/connectors", R"({"name":"c1","config":{}})", "");
  CHECK(missing.status == 415);
  CHECK(body_of(missing)["error_code"] == 415);
  auto text = api.send("POST", "/connectors", R"({"name":"c1","config":{}})", "text/plain");
  CHECK(text.status == 415);
  CHECK(api.herder.puts.empty());
}

TEST_CASE("POST /connectors: numbers and booleans in config become strings") {
  api_under_test api;
  auto r = api.send("POST", "/connectors",
                    R"({"name":"c1","config":{"tasks.max":3,"ratio":0.5,"flag":true}})");
  REQUIRE(r.status == 201);
  REQUIRE(api.herder.puts.size() == 1);
  CHECK(api.herder.puts[0].config ==
        ferry::api::config_map{{"tasks.max", "3"}, {"ratio", "0.5"}, {"flag", "true"}});
}

TEST_CASE("POST /connectors refuses bad bodies with 400") {
  api_under_test api;
  SUBCASE("config value that is an object names the key") {
    auto r = api.send("POST", "/connectors", R"({"name":"c1","config":{"nested.key":{"a":1}}})");
    CHECK(r.status == 400);
    CHECK(contains(error_message(r), "nested.key"));
  }
  SUBCASE("config value that is an array names the key") {
    auto r = api.send("POST", "/connectors", R"({"name":"c1","config":{"list.key":["a"]}})");
    CHECK(r.status == 400);
    CHECK(contains(error_message(r), "list.key"));
  }
  SUBCASE("config value that is null names the key") {
    auto r = api.send("POST", "/connectors", R"({"name":"c1","config":{"null.key":null}})");
    CHECK(r.status == 400);
    CHECK(contains(error_message(r), "null.key"));
  }
  SUBCASE("missing config") {
    auto r = api.send("POST", "/connectors", R"({"name":"c1"})");
    CHECK(r.status == 400);
    CHECK(contains(error_message(r), "config"));
  }
  SUBCASE("config that is not an object") {
    auto r = api.send("POST", "/connectors", R"({"name":"c1","config":"x"})");
    CHECK(r.status == 400);
  }
  SUBCASE("missing name") {
    auto r = api.send("POST", "/connectors", R"({"config":{}})");
    CHECK(r.status == 400);
    CHECK(contains(error_message(r), "name"));
  }
  SUBCASE("body that is not an object") {
    auto r = api.send("POST", "/connectors", R"(["c1"])");
    CHECK(r.status == 400);
  }
  SUBCASE("invalid initial_state") {
    auto r =
        api.send("POST", "/connectors", R"({"name":"c1","config":{},"initial_state":"SLEEPING"})");
    CHECK(r.status == 400);
    CHECK(contains(error_message(r), "SLEEPING"));
  }
  CHECK(api.herder.puts.empty());
}

TEST_CASE("POST /connectors passes a valid initial_state to the herder") {
  api_under_test api;
  REQUIRE(api.send("POST", "/connectors", R"({"name":"p","config":{},"initial_state":"PAUSED"})")
              .status == 201);
  REQUIRE(api.send("POST", "/connectors", R"({"name":"s","config":{},"initial_state":"STOPPED"})")
              .status == 201);
  REQUIRE(api.send("POST", "/connectors", R"({"name":"r","config":{},"initial_state":"RUNNING"})")
              .status == 201);
  REQUIRE(api.herder.puts.size() == 3);
  CHECK(api.herder.puts[0].initial_state == target_state::paused);
  CHECK(api.herder.puts[1].initial_state == target_state::stopped);
  CHECK(api.herder.puts[2].initial_state == target_state::started);
}

TEST_CASE("POST /connectors percent-encodes the name in Location") {
  api_under_test api;
  auto r = api.send("POST", "/connectors", R"({"name":"my sink","config":{}})");
  REQUIRE(r.status == 201);
  CHECK(header(r, "Location") == "/connectors/my%20sink");
}

TEST_CASE("PUT /connectors/{name}/config: 201 when created, 200 when updated") {
  api_under_test api;
  auto created = api.send("PUT", "/connectors/c1/config", R"({"topics":"t","tasks.max":2})");
  CHECK(created.status == 201);
  CHECK(header(created, "Location") == "/connectors/c1");
  REQUIRE(api.herder.puts.size() == 1);
  CHECK(api.herder.puts[0].name == "c1");
  CHECK(api.herder.puts[0].allow_replace == true);
  CHECK(api.herder.puts[0].config == ferry::api::config_map{{"topics", "t"}, {"tasks.max", "2"}});

  api.herder.existing = true;
  auto updated = api.send("PUT", "/connectors/c1/config", R"({"topics":"u"})");
  CHECK(updated.status == 200);
  CHECK(body_of(updated)["config"]["topics"] == "u");

  auto bad = api.send("PUT", "/connectors/c1/config", R"({"topics":{"x":1}})");
  CHECK(bad.status == 400);
  CHECK(contains(error_message(bad), "topics"));
}

TEST_CASE("GET /connectors lists names, or expands status and info") {
  api_under_test api;
  api.herder.names = {"a", "b"};

  auto plain = api.send("GET", "/connectors");
  CHECK(plain.status == 200);
  CHECK(body_of(plain) == json::array({"a", "b"}));

  auto both = body_of(api.send("GET", "/connectors?expand=status&expand=info"));
  REQUIRE(both.is_object());
  CHECK(both.size() == 2);
  CHECK(both["a"]["status"]["name"] == "a");
  CHECK(both["a"]["status"]["connector"]["state"] == "RUNNING");
  CHECK(both["a"]["info"]["name"] == "a");
  CHECK(both["b"]["info"]["type"] == "sink");

  auto status_only = body_of(api.send("GET", "/connectors?expand=status"));
  CHECK(status_only["a"].contains("status"));
  CHECK_FALSE(status_only["a"].contains("info"));
}

TEST_CASE("GET /connectors?expand skips a connector deleted while listing") {
  api_under_test api;
  api.herder.names = {"a", "gone"};
  api.herder.vanished = {"gone"};
  auto r = api.send("GET", "/connectors?expand=info");
  CHECK(r.status == 200);
  auto b = body_of(r);
  CHECK(b.contains("a"));
  CHECK_FALSE(b.contains("gone"));
}

TEST_CASE("GET /connectors/{name} with a percent-encoded name, and 404 for an unknown one") {
  api_under_test api;
  api.herder.names = {"my sink"};
  auto r = api.send("GET", "/connectors/my%20sink");
  CHECK(r.status == 200);
  CHECK(body_of(r)["name"] == "my sink");

  auto missing = api.send("GET", "/connectors/nope");
  CHECK(missing.status == 404);
  CHECK(body_of(missing)["error_code"] == 404);
  CHECK(contains(error_message(missing), "nope"));
}

TEST_CASE("DELETE /connectors/{name} is 204 with no body") {
  api_under_test api;
  api.herder.names = {"c1"};
  auto r = api.send("DELETE", "/connectors/c1");
  CHECK(r.status == 204);
  CHECK(r.body.empty());
  CHECK(api.herder.calls == std::vector<std::string>{"delete c1"});
  CHECK(api.send("DELETE", "/connectors/other").status == 404);
}

TEST_CASE("pause and resume are 202, stop is 204") {
  api_under_test api;
  api.herder.names = {"c1"};
  CHECK(api.send("PUT", "/connectors/c1/pause").status == 202);
  CHECK(api.send("PUT", "/connectors/c1/resume").status == 202);
  CHECK(api.send("PUT", "/connectors/c1/stop").status == 204);
  CHECK(api.herder.calls == std::vector<std::string>{"pause c1", "resume c1", "stop c1"});
  CHECK(api.send("PUT", "/connectors/x/pause").status == 404);
}

TEST_CASE("POST /connectors/{name}/restart without parameters restarts the connector: 204") {
  api_under_test api;
  api.herder.names = {"c1"};
  auto r = api.send("POST", "/connectors/c1/restart");
  CHECK(r.status == 204);
  CHECK(api.herder.calls == std::vector<std::string>{"restart c1"});
}

TEST_CASE("POST /connectors/{name}/restart?includeTasks=true restarts tasks too: 202 + status") {
  api_under_test api;
  api.herder.names = {"c1"};
  api.herder.status_of["c1"] = {{"name", "c1"},
                                {"connector", {{"state", "RUNNING"}}},
                                {"tasks", json::array({{{"id", 0}, {"state", "RUNNING"}},
                                                       {{"id", 1}, {"state", "FAILED"}}})}};
  SUBCASE("all tasks") {
    auto r = api.send("POST", "/connectors/c1/restart?includeTasks=true");
    CHECK(r.status == 202);
    CHECK(body_of(r)["name"] == "c1");
    auto& calls = api.herder.calls;
    CHECK(std::count(calls.begin(), calls.end(), "restart c1") == 1);
    CHECK(std::count(calls.begin(), calls.end(), "restart c1/0") == 1);
    CHECK(std::count(calls.begin(), calls.end(), "restart c1/1") == 1);
  }
  SUBCASE("only failed ones") {
    auto r = api.send("POST", "/connectors/c1/restart?includeTasks=true&onlyFailed=true");
    CHECK(r.status == 202);
    auto& calls = api.herder.calls;
    CHECK(std::count(calls.begin(), calls.end(), "restart c1") == 0);  // connector is RUNNING
    CHECK(std::count(calls.begin(), calls.end(), "restart c1/0") == 0);
    CHECK(std::count(calls.begin(), calls.end(), "restart c1/1") == 1);
  }
}

TEST_CASE("task routes: restart one task, and a non-numeric task id is 404") {
  api_under_test api;
  api.herder.names = {"c1"};
  CHECK(api.send("POST", "/connectors/c1/tasks/1/restart").status == 204);
  CHECK(api.herder.calls == std::vector<std::string>{"restart c1/1"});
  CHECK(api.send("GET", "/connectors/c1/tasks/0/status").status == 200);
  CHECK(api.send("GET", "/connectors/c1/tasks/abc/status").status == 404);
  CHECK(api.send("GET", "/connectors/c1/tasks/-1/status").status == 404);
}

TEST_CASE("GET /connector-plugins and plugin config") {
  api_under_test api;
  auto r = api.send("GET", "/connector-plugins");
  CHECK(r.status == 200);
  auto b = body_of(r);
  REQUIRE(b.is_array());
  CHECK(b[0]["class"] == "ferry.redis.RedisSinkConnector");
  CHECK(api.send("GET", "/connector-plugins/RedisSink/config").status == 200);
  CHECK(api.send("GET", "/connector-plugins/Nope/config").status == 404);
}

TEST_CASE("PUT /connector-plugins/{plugin}/config/validate hands the config to the herder") {
  api_under_test api;
  auto r = api.send("PUT", "/connector-plugins/RedisSink/config/validate",
                    R"({"connector.class":"RedisSink","tasks.max":1})");
  CHECK(r.status == 200);
  CHECK(body_of(r)["name"] == "RedisSink");
  CHECK(api.herder.calls == std::vector<std::string>{"validate RedisSink"});
  CHECK(api.herder.validated_config ==
        ferry::api::config_map{{"connector.class", "RedisSink"}, {"tasks.max", "1"}});

  auto bad = api.send("PUT", "/connector-plugins/RedisSink/config/validate", "{");
  CHECK(bad.status == 400);
}

TEST_CASE("connect routes: wrong method is 405 with Allow") {
  api_under_test api;
  auto r = api.send("PATCH", "/connectors");
  CHECK(r.status == 405);
  auto allow = header(r, "Allow");
  CHECK(contains(allow, "GET"));
  CHECK(contains(allow, "POST"));
}

TEST_CASE("GET /health answers 503 while starting and 200 once ready") {
  ferry::test::fake_herder h;
  ferry::rest::router r;
  ferry::rest::add_connect_routes(r, h);
  h.is_ready = false;
  auto starting = r.handle({.method = "GET", .path = "/health"});
  CHECK(starting.status == 503);
  CHECK(ferry::json::parse(starting.body)["status"] == "starting");
  h.is_ready = true;
  auto healthy = r.handle({.method = "GET", .path = "/health"});
  CHECK(healthy.status == 200);
  CHECK(ferry::json::parse(healthy.body)["status"] == "healthy");
}

TEST_CASE("PATCH /connectors/{name}/config passes the patch, nulls included") {
  ferry::test::fake_herder h;
  h.names = {"c"};
  ferry::rest::router r;
  ferry::rest::add_connect_routes(r, h);
  auto resp = r.handle({.method = "PATCH",
                        .path = "/connectors/c/config",
                        .content_type = "application/json",
                        .body = R"({"a":"1","b":null})"});
  CHECK(resp.status == 200);
  CHECK(h.calls.back() == R"(patch c {"a":"1","b":null})");
  auto missing = r.handle({.method = "PATCH",
                           .path = "/connectors/nope/config",
                           .content_type = "application/json",
                           .body = R"({"a":"1"})"});
  CHECK(missing.status == 404);
  auto not_object = r.handle({.method = "PATCH",
                              .path = "/connectors/c/config",
                              .content_type = "application/json",
                              .body = "[1]"});
  CHECK(not_object.status == 400);
}

TEST_CASE("offsets routes: GET, PATCH with a body, DELETE") {
  ferry::test::fake_herder h;
  h.names = {"c"};
  ferry::rest::router r;
  ferry::rest::add_connect_routes(r, h);
  CHECK(r.handle({.method = "GET", .path = "/connectors/c/offsets"}).status == 200);
  auto altered = r.handle({.method = "PATCH",
                           .path = "/connectors/c/offsets",
                           .content_type = "application/json",
                           .body = R"({"offsets":[]})"});
  CHECK(altered.status == 200);
  CHECK(h.calls.back() == R"(alter offsets c {"offsets":[]})");
  CHECK(r.handle({.method = "DELETE", .path = "/connectors/c/offsets"}).status == 200);
  CHECK(h.calls.back() == "reset offsets c");
  CHECK(r.handle({.method = "GET", .path = "/connectors/x/offsets"}).status == 404);
}

TEST_CASE("GET /connector-plugins lists converters only with connectorsOnly=false") {
  ferry::test::fake_herder h;
  ferry::rest::router r;
  ferry::rest::add_connect_routes(r, h);
  auto only = ferry::json::parse(r.handle({.method = "GET", .path = "/connector-plugins"}).body);
  CHECK(only.size() == 1);
  ferry::rest::http_request all{.method = "GET", .path = "/connector-plugins"};
  all.query.emplace("connectorsOnly", "false");
  CHECK(ferry::json::parse(r.handle(all).body).size() == 2);
}
