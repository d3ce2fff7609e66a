#include <doctest/doctest.h>

#include <string>
#include <thread>

#include "ferry/clients/client_metrics.hpp"
#include "ferry/clients/redis_connection.hpp"
#include "ferry/core/metrics.hpp"
#include "ferry/storage/status_store.hpp"

namespace clients = ferry::clients;

namespace {

std::shared_ptr<const clients::metrics_scope> scope_of(const std::string& connector,
                                                       const std::string& task) {
  for (const auto& s : clients::metrics_scopes()) {
    if (s->connector == connector && s->task == task) return s;
  }
  return nullptr;
}

}  // namespace

TEST_CASE("client metrics: a connection counts in the scope of the thread that created it") {
  std::unique_ptr<clients::redis_connection> connection;
  std::thread([&] {
    clients::set_thread_metrics_scope("unit-conn", "7");
    clients::redis_endpoint ep;
    ep.port = 1;  // nothing listens: connect is refused
    ep.timeout = std::chrono::milliseconds(500);
    connection = std::make_unique<clients::redis_connection>(ep);
    // Used from another thread (as the cluster client does): still counted for unit-conn/7.
    std::thread([&] {
      CHECK_THROWS_AS(connection->command({"PING"}), clients::redis_io_error);
    }).join();
  }).join();
  {
    auto s = scope_of("unit-conn", "7");
    REQUIRE(s);  // the task's thread ended, its connection still counts there
    CHECK(s->redis.io_errors.load() == 1);
    CHECK(s->redis.connects.load() == 0);
    CHECK(s->redis.commands.load() == 0);  // counted only once connected
  }
  // Neither the thread nor a connection holds the scope any more: it leaves the list.
  connection.reset();
  CHECK_FALSE(scope_of("unit-conn", "7"));
}

TEST_CASE("client metrics: histograms count per bucket, sum and count") {
  clients::histogram<3> h({1, 10, 100});
  for (double v : {0.5, 1.0, 5.0, 500.0}) h.observe(v);
  CHECK(h.buckets[0].load() == 2);
  CHECK(h.buckets[1].load() == 1);
  CHECK(h.buckets[2].load() == 0);
  CHECK(h.count.load() == 4);
  CHECK(h.sum.load() == doctest::Approx(506.5));
}

TEST_CASE("client metrics: librdkafka statistics become labelled gauges in /metrics") {
  const std::string stats = R"({"name":"rdkafka#consumer-99","type":"consumer","msg_cnt":3,
    "msg_size":120,"tx_bytes":1000,"rx_bytes":2000,
    "brokers":{"127.0.0.1:9092/1":{"nodeid":1,"rtt":{"avg":2500,"cnt":4}},
               "GroupCoordinator":{"nodeid":-1,"rtt":{"avg":9,"cnt":1}},
               "127.0.0.1:9092/2":{"nodeid":2,"rtt":{"avg":0,"cnt":0}}},
    "topics":{"t":{"partitions":{"0":{"consumer_lag":5},"1":{"consumer_lag":-1},
                                 "-1":{"consumer_lag":100}}}}})";
  std::thread([&] {
    clients::set_thread_metrics_scope("unit-kafka", "2");
    clients::record_kafka_stats(stats.data(), stats.size(), std::chrono::milliseconds(1000));
    clients::record_kafka_stats("not json", 8, std::chrono::milliseconds(1000));  // ignored
  }).join();
  const clients::kafka_client_stats* found = nullptr;
  auto all = clients::kafka_stats();
  for (const auto& s : all) {
    if (s.stats.client == "rdkafka#consumer-99") {
      CHECK(s.connector == "unit-kafka");
      CHECK(s.task == "2");
      found = &s.stats;
    }
  }
  REQUIRE(found);
  CHECK(found->queue_messages == 3);
  CHECK(found->consumer_lag == 5);
  REQUIRE(found->broker_rtt_avg_seconds.size() == 1);
  CHECK(found->broker_rtt_avg_seconds.at("127.0.0.1:9092/1") == doctest::Approx(0.0025));

  ferry::core::metrics_registry registry;
  ferry::storage::memory_status_store statuses;
  auto text = ferry::core::render_prometheus(registry, statuses, {}, "w");
  const std::string labels =
      R"(connector="unit-kafka",task="2",client="rdkafka#consumer-99",type="consumer")";
  CHECK(text.find("ferry_kafka_client_queue_messages{" + labels + "} 3\n") != std::string::npos);
  CHECK(text.find("ferry_kafka_consumer_lag_records{" + labels + "} 5\n") != std::string::npos);
  CHECK(text.find("ferry_kafka_broker_rtt_avg_seconds{" + labels +
                  ",broker=\"127.0.0.1:9092/1\"} 0.0025\n") != std::string::npos);
  // The refused connection of the other test case, if it ran first, is a Redis family.
  if (scope_of("unit-conn", "7")) {
    CHECK(text.find("ferry_redis_io_errors_total{connector=\"unit-conn\",task=\"7\"} 1\n") !=
          std::string::npos);
    CHECK(text.find("# TYPE ferry_redis_roundtrip_seconds histogram\n") != std::string::npos);
  }
}
