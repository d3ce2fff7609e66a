#include <doctest/doctest.h>

#include <optional>
#include <string>

#include "fake_herder.hpp"
#include "ferry/clients/kafka_probe.hpp"
#include "ferry/rest/connect_routes.hpp"

TEST_CASE("GET /health: 503 naming the problem when Kafka is unreachable, 200 with checks") {
  ferry::test::fake_herder h;
  h.is_ready = true;
  std::optional<std::string> problem = "Cannot reach Kafka at k:9092 (bootstrap.servers): down";
  ferry::rest::router r;
  ferry::rest::add_connect_routes(r, h, [&problem] { return problem; });
  auto down = r.handle({.method = "GET", .path = "/health"});
  CHECK(down.status == 503);
  auto body = ferry::json::parse(down.body);
  CHECK(body["status"] == "unhealthy");
  CHECK(body["message"] == *problem);
  CHECK(body["checks"]["kafka"] == *problem);
  CHECK(body["checks"]["herder"] == "ok");
  problem.reset();
  auto up = r.handle({.method = "GET", .path = "/health"});
  CHECK(up.status == 200);
  CHECK(ferry::json::parse(up.body)["checks"]["kafka"] == "ok");
}

TEST_CASE("kafka_probe: an address where nothing listens is a problem naming it") {
  ferry::clients::kafka_probe probe({{"bootstrap.servers", "127.0.0.1:1"}},
                                    std::chrono::milliseconds(300));
  auto problem = probe.problem();
  REQUIRE(problem);
  CHECK(problem->find("Cannot reach Kafka at 127.0.0.1:1 (bootstrap.servers)") == 0);
  CHECK(probe.problem() == problem);  // remembered for a second
}
