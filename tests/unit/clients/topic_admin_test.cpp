#include <doctest/doctest.h>

#include <librdkafka/rdkafka.h>

#include <algorithm>
#include <chrono>
#include <string>
#include <vector>

#include "ferry/api/errors.hpp"
#include "ferry/clients/dev_broker.hpp"
#include "ferry/clients/topic_admin.hpp"

using ferry::clients::client_config;
using ferry::clients::describe_topic;
using ferry::clients::dev_broker;
using ferry::clients::ensure_topic;
using ferry::clients::topic_spec;
using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

namespace {

// One broker for every test, each on topics of its own: librdkafka 2.0.2's mock cluster
// sometimes takes a second to shut down (a lost wake-up of its thread).
dev_broker& shared_broker() {
  static dev_broker broker(ferry::clients::dev_broker_options{});
  return broker;
}

client_config admin_config() {
  return {{"bootstrap.servers", shared_broker().bootstrap_servers()}};
}

long long ms_since(steady::time_point start) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(steady::now() - start).count();
}

// The topics the cluster has, asked with a plain librdkafka client listing all topics (naming one
// would make the mock cluster create it).
std::vector<std::string> cluster_topics(const std::string& bootstrap) {
  char errstr[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap.c_str(), errstr, sizeof errstr);
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
  REQUIRE(rk != nullptr);
  const rd_kafka_metadata_t* md = nullptr;
  std::vector<std::string> names;
  if (rd_kafka_metadata(rk, 1, nullptr, &md, 2000) == RD_KAFKA_RESP_ERR_NO_ERROR) {
    for (int i = 0; i < md->topic_cnt; ++i) names.emplace_back(md->topics[i].topic);
    rd_kafka_metadata_destroy(md);
  }
  rd_kafka_destroy(rk);
  return names;
}

bool contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

}  // namespace

TEST_CASE("topic_admin: describe_topic reads partitions of an existing topic") {
  REQUIRE(shared_broker().execute("create-topic describe-offsets 25") == "OK");
  auto start = steady::now();
  auto d = describe_topic(admin_config(), "describe-offsets", 2s);
  CHECK(d.exists);
  CHECK(d.partitions == 25);
  CHECK_FALSE(d.cleanup_policy.has_value());  // the mock has no DescribeConfigs
  CHECK(ms_since(start) < 1000);              // and that is noticed without waiting
}

TEST_CASE("topic_admin: describe_topic of a missing topic leaves it missing") {
  REQUIRE(shared_broker().execute("create-topic describe-other 1") == "OK");
  auto d = describe_topic(admin_config(), "describe-missing", 2s);
  CHECK_FALSE(d.exists);
  CHECK(d.partitions == 0);
  auto topics = cluster_topics(shared_broker().bootstrap_servers());
  CHECK(contains(topics, "describe-other"));
  CHECK_FALSE(contains(topics, "describe-missing"));
  CHECK_FALSE(describe_topic(admin_config(), "describe-missing", 2s).exists);
}

TEST_CASE("topic_admin: describe_topic on an unreachable cluster throws within its timeout") {
  client_config admin = {{"bootstrap.servers", "127.0.0.1:1"}};
  auto start = steady::now();
  CHECK_THROWS_AS(describe_topic(admin, "connect-configs", 500ms), ferry::api::connect_error);
  CHECK(ms_since(start) < 1500);
}

TEST_CASE("topic_admin: ensure_topic on the dev broker keeps an existing topic and warns") {
  REQUIRE(shared_broker().execute("create-topic ensure-status 5") == "OK");
  std::vector<std::string> warnings;
  topic_spec spec{"ensure-status", 5, -1, {{"cleanup.policy", "compact"}}};
  auto start = steady::now();
  auto d =
      ensure_topic(admin_config(), spec, 10s, [&](const std::string& w) { warnings.push_back(w); });
  CHECK(ms_since(start) < 1000);  // a long timeout is not waited out on the mock
  CHECK(d.exists);
  CHECK(d.partitions == 5);
  CHECK_FALSE(d.cleanup_policy.has_value());
  REQUIRE(warnings.size() == 1);
  MESSAGE(warnings[0]);
  CHECK(warnings[0].find("cleanup.policy of topic 'ensure-status'") != std::string::npos);
  CHECK(warnings[0].find("no Admin API") != std::string::npos);
}

TEST_CASE("topic_admin: ensure_topic on the dev broker reports that it cannot create") {
  client_config admin = admin_config();
  std::vector<std::string> warnings;
  topic_spec spec{"ensure-configs", 1, -1, {{"cleanup.policy", "compact"}}};
  auto start = steady::now();
  auto d = ensure_topic(admin, spec, 2s, [&](const std::string& w) { warnings.push_back(w); });
  CHECK(ms_since(start) < 1000);
  CHECK_FALSE(d.exists);
  REQUIRE(warnings.size() == 1);
  MESSAGE(warnings[0]);
  CHECK(warnings[0].find("'ensure-configs' does not exist and cannot be created") !=
        std::string::npos);
  CHECK(warnings[0].find("1 partition(s)") != std::string::npos);
  CHECK(warnings[0].find("cleanup.policy=compact") != std::string::npos);
  CHECK_FALSE(contains(cluster_topics(shared_broker().bootstrap_servers()), "ensure-configs"));

  // Created by hand as the warning asks, the next start finds it.
  REQUIRE(shared_broker().execute("create-topic ensure-configs 1") == "OK");
  warnings.clear();
  d = ensure_topic(admin, spec, 2s, [&](const std::string& w) { warnings.push_back(w); });
  CHECK(d.exists);
  CHECK(d.partitions == 1);
}

TEST_CASE("topic_admin: ensure_topic on an unreachable cluster throws within its timeout") {
  client_config admin = {{"bootstrap.servers", "127.0.0.1:1"}};
  auto start = steady::now();
  CHECK_THROWS_AS(ensure_topic(admin, {"connect-configs"}, 500ms, nullptr),
                  ferry::api::connect_error);
  CHECK(ms_since(start) < 1500);
}
