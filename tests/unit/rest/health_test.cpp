#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <optional>
#include <string>

#include "fake_herder.hpp"
#include "ferry/clients/kafka_probe.hpp"
#include "ferry/core/errors.hpp"
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

TEST_CASE("GET /health: one herder check at a time; 503 while it is busy, 500 once it timed out") {
  ferry::test::fake_herder h;
  std::atomic<int> checks{0};
  std::promise<void> release;
  auto released = release.get_future().share();
  h.on_check = [&](std::chrono::milliseconds) {
    ++checks;
    if (released.wait_for(std::chrono::seconds(30)) != std::future_status::ready) return;
    throw ferry::core::request_timeout_error(
        "Request timed out. The worker is currently waiting for connector x to stop");
  };
  ferry::rest::router r;
  ferry::rest::add_connect_routes(r, h);
  auto start = std::chrono::steady_clock::now();
  auto busy = r.handle({.method = "GET", .path = "/health"});
  auto busy_again = r.handle({.method = "GET", .path = "/health"});
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(6));  // 2 s each at most
  CHECK(busy.status == 503);
  CHECK(busy_again.status == 503);
  CHECK(ferry::json::parse(busy.body)["message"].get<std::string>().find("busy") !=
        std::string::npos);
  CHECK(checks.load() == 1);  // the second request joined the pending check
  release.set_value();
  auto stuck = r.handle({.method = "GET", .path = "/health"});
  CHECK(stuck.status == 500);
  auto body = ferry::json::parse(stuck.body);
  CHECK(body["status"] == "unhealthy");
  CHECK(body["message"].get<std::string>().find("waiting for connector x to stop") !=
        std::string::npos);
  h.on_check = nullptr;
  CHECK(r.handle({.method = "GET", .path = "/health"}).status == 200);
}
