#include <doctest/doctest.h>

#include "ferry/api/errors.hpp"
#include "ferry/core/worker_config.hpp"

using ferry::api::config_error;
using ferry::core::parse_listener;
using ferry::core::worker_config;

namespace {

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

// The message of the config_error that parse() throws; fails the test when nothing is thrown.
std::string parse_error_message(const ferry::api::config_map& props) {
  try {
    worker_config::parse(props, true);
  } catch (const config_error& e) {
    return e.what();
  }
  FAIL("worker_config::parse accepted an invalid configuration");
  return {};
}

}  // namespace

TEST_CASE("worker_config defaults") {
  auto wc = worker_config::parse({}, true);
  CHECK(wc.rest.scheme == "http");
  CHECK(wc.rest.host == "127.0.0.1");
  CHECK(wc.rest.port == 8083);
  CHECK(wc.offset_flush_interval == std::chrono::milliseconds(60000));
  CHECK(wc.offset_flush_timeout == std::chrono::milliseconds(5000));
  CHECK(wc.rest_max_body_bytes == 1024 * 1024);
  CHECK(wc.bootstrap_servers == "localhost:9092");
  CHECK(wc.worker_id() == "127.0.0.1:8083");
  CHECK(wc.offset_file.empty());
  CHECK(wc.config_file.empty());
  CHECK(wc.unknown_keys.empty());
}

TEST_CASE("worker_config reads the values it is given") {
  auto wc = worker_config::parse({{"listeners", "http://10.0.0.5:9000"},
                                  {"bootstrap.servers", "k1:9092,k2:9092"},
                                  {"offset.flush.interval.ms", "1500"},
                                  {"rest.request.timeout.ms", "2000"}},
                                 true);
  CHECK(wc.rest.host == "10.0.0.5");
  CHECK(wc.rest.port == 9000);
  CHECK(wc.bootstrap_servers == "k1:9092,k2:9092");
  CHECK(wc.offset_flush_interval == std::chrono::milliseconds(1500));
  CHECK(wc.rest_request_timeout == std::chrono::milliseconds(2000));
}

TEST_CASE("parse_listener accepts http://host:port and an empty host") {
  auto l = parse_listener("http://localhost:8084");
  CHECK(l.scheme == "http");
  CHECK(l.host == "localhost");
  CHECK(l.port == 8084);

  auto any = parse_listener("http://:8083");
  CHECK(any.host == "0.0.0.0");
  CHECK(any.port == 8083);

  CHECK(parse_listener("http://127.0.0.1:8083/").port == 8083);
  CHECK(parse_listener("http://[::1]:8085").host == "::1");
}

TEST_CASE("parse_listener rejects other schemes, a missing port and a bad port") {
  CHECK_THROWS_AS(parse_listener("ftp://localhost:8443"), config_error);
  CHECK_THROWS_AS(parse_listener("http://localhost"), config_error);
  CHECK_THROWS_AS(parse_listener("localhost:8083"), config_error);
  CHECK_THROWS_AS(parse_listener("http://localhost:"), config_error);
  CHECK_THROWS_AS(parse_listener("http://localhost:http"), config_error);
  CHECK_THROWS_AS(parse_listener("http://localhost:65536"), config_error);
}

TEST_CASE("worker_config throws one config_error naming every bad key") {
  auto msg = parse_error_message({{"offset.flush.interval.ms", "often"},
                                  {"rest.advertised.port", "70000"},
                                  {"rest.max.body.bytes", "10"}});
  CAPTURE(msg);
  CHECK(contains(msg, "offset.flush.interval.ms"));
  CHECK(contains(msg, "rest.advertised.port"));
  CHECK(contains(msg, "rest.max.body.bytes"));
}

TEST_CASE("parse_listener accepts https, any case of scheme") {
  auto l = parse_listener("HTTPS://127.0.0.1:8443");
  CHECK(l.scheme == "https");
  CHECK(l.port == 8443);
}

TEST_CASE("worker_config keeps every listener in order; the first one names the worker") {
  auto wc =
      worker_config::parse({{"listeners", "https://127.0.0.1:8443, http://127.0.0.1:8083"}}, true);
  REQUIRE(wc.listeners.size() == 2);
  CHECK(wc.listeners[0].scheme == "https");
  CHECK(wc.listeners[1].scheme == "http");
  CHECK(wc.worker_id() == "127.0.0.1:8443");
}

TEST_CASE("https TLS settings: listeners.https.* when any is set, else the worker's ssl.*") {
  auto worker_only = worker_config::parse(
      {{"ssl.keystore.location", "/w.p12"}, {"ssl.keystore.password", "pw"}}, true);
  CHECK(
      worker_only.https_ssl_settings() ==
      ferry::api::config_map{{"ssl.keystore.location", "/w.p12"}, {"ssl.keystore.password", "pw"}});
  auto both = worker_config::parse({{"ssl.keystore.location", "/w.p12"},
                                    {"ssl.keystore.password", "pw"},
                                    {"listeners.https.ssl.keystore.location", "/rest.p12"}},
                                   true);
  CHECK(both.https_ssl_settings() ==
        ferry::api::config_map{{"ssl.keystore.location", "/rest.p12"}});  // all or nothing
}

TEST_CASE("worker_config rejects an unknown listener scheme with config_error") {
  auto msg = parse_error_message({{"listeners", "ftp://0.0.0.0:8443"}});
  CHECK(contains(msg, "ftp://0.0.0.0:8443"));
}

TEST_CASE("worker_config reports a bad listener together with other bad values") {
  auto msg =
      parse_error_message({{"listeners", "https://x"}, {"offset.flush.interval.ms", "often"}});
  CAPTURE(msg);
  CHECK(contains(msg, "offset.flush.interval.ms"));
  CHECK(contains(msg, "https://x"));
}

TEST_CASE("worker_id uses the advertised host and port when set") {
  auto both = worker_config::parse(
      {{"rest.advertised.host.name", "worker-a"}, {"rest.advertised.port", "18083"}}, true);
  CHECK(both.worker_id() == "worker-a:18083");

  auto host_only = worker_config::parse(
      {{"listeners", "http://127.0.0.1:9001"}, {"rest.advertised.host.name", "worker-b"}}, true);
  CHECK(host_only.worker_id() == "worker-b:9001");

  // Listening everywhere: 0.0.0.0 is no address to advertise.
  auto wildcard = worker_config::parse({{"listeners", "http://:8083"}}, true);
  CHECK_FALSE(wildcard.worker_id().starts_with("0.0.0.0"));
  CHECK(wildcard.worker_id().ends_with(":8083"));
}

TEST_CASE("producer_config and consumer_config take bootstrap.servers plus their prefixed keys") {
  auto wc = worker_config::parse({{"bootstrap.servers", "b:9092"},
                                  {"producer.acks", "all"},
                                  {"producer.linger.ms", "5"},
                                  {"consumer.max.poll.records", "10"},
                                  {"producer.", "ignored"}},
                                 true);
  CHECK(wc.producer_config() == ferry::clients::client_config{{"bootstrap.servers", "b:9092"},
                                                              {"acks", "all"},
                                                              {"linger.ms", "5"}});
  CHECK(wc.consumer_config() ==
        ferry::clients::client_config{{"bootstrap.servers", "b:9092"}, {"max.poll.records", "10"}});
}

TEST_CASE("with_prefix returns the keys under a prefix with the prefix stripped") {
  auto wc = worker_config::parse(
      {{"key.converter.schemas.enable", "false"}, {"value.converter.schemas.enable", "true"}},
      true);
  CHECK(wc.with_prefix("key.converter.") == ferry::api::config_map{{"schemas.enable", "false"}});
}

TEST_CASE("worker_config collects unknown keys but not known prefixes") {
  auto wc = worker_config::parse({{"no.such.setting", "1"},
                                  {"producer.x", "1"},
                                  {"consumer.y", "1"},
                                  {"key.converter.schemas.enable", "false"},
                                  {"group.id", "g"},
                                  {"bootstrap.servers", "b:1"}},
                                 true);
  CHECK(wc.unknown_keys == std::vector<std::string>{"no.such.setting"});
}

TEST_CASE("standalone worker keeps connector configs beside the offsets file by default") {
  auto standalone = worker_config::parse({{"offset.storage.file.filename", "/data/o.json"}}, true);
  CHECK(standalone.offset_file == "/data/o.json");
  CHECK(standalone.config_file == "/data/o.json.connectors.json");

  auto explicit_file = worker_config::parse({{"offset.storage.file.filename", "/data/o.json"},
                                             {"config.storage.file.filename", "/data/c.json"}},
                                            true);
  CHECK(explicit_file.config_file == "/data/c.json");

  auto distributed = worker_config::parse({{"offset.storage.file.filename", "/data/o.json"},
                                           {"group.id", "g"},
                                           {"config.storage.topic", "c"},
                                           {"offset.storage.topic", "o"},
                                           {"status.storage.topic", "s"}},
                                          false);
  CHECK(distributed.config_file.empty());
}

TEST_CASE("distributed mode needs Kafka Connect's group and topic settings") {
  std::string msg;
  try {
    worker_config::parse({{"group.id", "g"}}, false);
  } catch (const config_error& e) {
    msg = e.what();
  }
  CHECK(contains(msg, "config.storage.topic must be set"));
  CHECK(contains(msg, "offset.storage.topic must be set"));
  CHECK(contains(msg, "status.storage.topic must be set"));
  CHECK(!contains(msg, "group.id"));

  auto wc = worker_config::parse({{"group.id", "cluster-a"},
                                  {"config.storage.topic", "connect-configs"},
                                  {"offset.storage.topic", "connect-offsets"},
                                  {"status.storage.topic", "connect-status"},
                                  {"session.timeout.ms", "6000"},
                                  {"security.protocol", "SASL_SSL"},
                                  {"sasl.mechanism", "PLAIN"},
                                  {"admin.request.timeout.ms", "5000"},
                                  {"consumer.fetch.min.bytes", "1"}},
                                 false);
  CHECK(wc.distributed.group_id == "cluster-a");
  CHECK(wc.distributed.slots_topic == "cluster-a-slots");
  CHECK(wc.distributed.slots == 64);
  CHECK(wc.distributed.offset_partitions == 25);
  CHECK(wc.distributed.status_partitions == 5);
  CHECK(wc.distributed.session_timeout == std::chrono::milliseconds(6000));
  auto internal = wc.internal_config();
  CHECK(internal.at("security.protocol") == "SASL_SSL");
  CHECK(internal.at("sasl.mechanism") == "PLAIN");
  CHECK(internal.count("fetch.min.bytes") == 0);  // consumer.* is for tasks
  CHECK(wc.admin_config().at("request.timeout.ms") == "5000");
}

TEST_CASE("the worker's ssl.* settings reach its Kafka clients only with a TLS protocol") {
  auto with = [](std::string protocol) {
    std::map<std::string, std::string> p{{"bootstrap.servers", "k:9092"},
                                         {"ssl.keystore.type", "PEM"},
                                         {"ssl.keystore.location", "/etc/ferry/rest.pem"}};
    if (!protocol.empty()) p["security.protocol"] = protocol;
    return worker_config::parse(p, true).internal_config();
  };
  CHECK(with("").count("ssl.keystore.location") == 0);  // PLAINTEXT: for the listeners only
  CHECK(with("SASL_PLAINTEXT").count("ssl.keystore.location") == 0);
  CHECK(with("ssl").at("ssl.keystore.location") == "/etc/ferry/rest.pem");
  CHECK(with("SASL_SSL").at("ssl.keystore.type") == "PEM");
}

TEST_CASE("connector.client.config.override.policy takes Kafka's aliases and class names") {
  using ferry::core::client_override_policy;
  CHECK(worker_config::parse({}, true).override_policy.name == "All");  // Kafka 3's default
  CHECK(client_override_policy::parse("none").name == "None");
  CHECK(client_override_policy::parse(" Principal ").name == "Principal");
  CHECK(client_override_policy::parse("org.apache.kafka.connect.connector.policy."
                                      "AllowlistConnectorClientConfigOverridePolicy")
            .name == "Allowlist");
  CHECK(client_override_policy::parse("AllConnectorClientConfigOverridePolicy").name == "All");
  auto msg = parse_error_message({{"connector.client.config.override.policy", "Some"}});
  CHECK(contains(msg, "connector.client.config.override.policy"));
  CHECK(contains(msg, "expected All, None, Principal or Allowlist"));
}

TEST_CASE("each policy allows the client settings Kafka's does") {
  using ferry::core::client_override_policy;
  auto all = client_override_policy::parse("All");
  auto none = client_override_policy::parse("None");
  auto principal = client_override_policy::parse("Principal");
  auto allowlist = client_override_policy::parse("Allowlist", {"linger.ms", "acks"});
  CHECK(all.allows("group.id"));
  CHECK_FALSE(none.allows("sasl.mechanism"));
  for (const char* s : {"sasl.jaas.config", "sasl.mechanism", "security.protocol"}) {
    CHECK(principal.allows(s));
  }
  CHECK_FALSE(principal.allows("sasl.kerberos.service.name"));
  CHECK(allowlist.allows("acks"));
  CHECK_FALSE(allowlist.allows("batch.size"));
  CHECK_FALSE(client_override_policy::parse("Allowlist").allows("acks"));  // empty: nothing
  CHECK(none.refusal("acks") ==
        "The 'None' policy does not allow 'acks' to be overridden in the connector "
        "configuration.");
}

TEST_CASE("a connector's client config is the worker's with the connector's overrides on top") {
  using ferry::core::client_kind;
  const ferry::api::config_map connector{{"consumer.override.group.id", "own"},
                                         {"consumer.override.fetch.min.bytes", "9"},
                                         {"consumer.override.", "ignored"},
                                         {"producer.override.linger.ms", "7"},
                                         {"admin.override.request.timeout.ms", "100"},
                                         {"consumer.fetch.min.bytes", "not an override"}};
  auto wc = worker_config::parse({{"bootstrap.servers", "b:9092"},
                                  {"consumer.fetch.min.bytes", "1"},
                                  {"consumer.client.rack", "r1"},
                                  {"producer.linger.ms", "5"}},
                                 true);
  CHECK(wc.client_config(connector, client_kind::consumer) ==
        ferry::clients::client_config{{"bootstrap.servers", "b:9092"},
                                      {"fetch.min.bytes", "9"},
                                      {"client.rack", "r1"},
                                      {"group.id", "own"}});
  CHECK(wc.client_config(connector, client_kind::producer).at("linger.ms") == "7");
  CHECK(wc.client_config(connector, client_kind::admin).at("request.timeout.ms") == "100");

  auto checked = wc.check_overrides(connector, client_kind::consumer);
  REQUIRE(checked.size() == 2);
  CHECK(checked[0].name == "consumer.override.fetch.min.bytes");
  CHECK(checked[0].errors.empty());

  // A config stored before the worker's policy became stricter: the task fails and says why.
  auto strict =
      worker_config::parse({{"connector.client.config.override.policy", "Allowlist"},
                            {"connector.client.config.override.allowlist", "fetch.min.bytes"}},
                           true);
  checked = strict.check_overrides(connector, client_kind::consumer);
  REQUIRE(checked.size() == 2);
  CHECK(checked[0].errors.empty());  // fetch.min.bytes is on the list
  CHECK(checked[1].errors == std::vector<std::string>{strict.override_policy.refusal("group.id")});
  std::string msg;
  try {
    strict.client_config(connector, client_kind::consumer);
  } catch (const config_error& e) {
    msg = e.what();
  }
  CHECK(contains(msg, "connector.client.config.override.policy is Allowlist"));
  CHECK(contains(msg, "'group.id'"));
  CHECK_FALSE(contains(msg, "fetch.min.bytes"));
}
