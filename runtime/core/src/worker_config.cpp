#include "ferry/core/worker_config.hpp"

#include <strings.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <optional>
#include <string_view>
#include <tuple>

#include "ferry/api/errors.hpp"

namespace ferry::core {

using api::config_type;
using api::importance_level;

listener parse_listener(const std::string& text) {
  listener l;
  auto sep = text.find("://");
  if (sep == std::string::npos) {
    throw api::config_error("Invalid listener '" + text +
                            "': expected http://host:port or https://host:port");
  }
  l.scheme = text.substr(0, sep);
  for (auto& c : l.scheme) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (l.scheme != "http" && l.scheme != "https") {
    throw api::config_error("Invalid listener '" + text +
                            "': only http:// and https:// listeners are supported");
  }
  auto hostport = text.substr(sep + 3);
  while (!hostport.empty() && hostport.back() == '/') hostport.pop_back();
  auto colon = hostport.rfind(':');
  if (colon == std::string::npos) {
    throw api::config_error("Invalid listener '" + text + "': missing port");
  }
  l.host = hostport.substr(0, colon);
  if (l.host.size() >= 2 && l.host.front() == '[' && l.host.back() == ']') {
    l.host = l.host.substr(1, l.host.size() - 2);
  }
  if (l.host.empty()) l.host = "0.0.0.0";
  auto port = api::parse_long(hostport.substr(colon + 1));
  if (!port || *port < 0 || *port > 65535) {
    throw api::config_error("Invalid listener '" + text + "': bad port");
  }
  l.port = static_cast<std::uint16_t>(*port);
  return l;
}

std::string override_prefix(client_kind kind) {
  switch (kind) {
    case client_kind::producer:
      return "producer.override.";
    case client_kind::consumer:
      return "consumer.override.";
    case client_kind::admin:
      break;
  }
  return "admin.override.";
}

client_override_policy client_override_policy::parse(const std::string& value,
                                                     std::vector<std::string> allowlist) {
  static constexpr std::string_view k_package = "org.apache.kafka.connect.connector.policy.";
  static constexpr std::string_view k_suffix = "ConnectorClientConfigOverridePolicy";
  const std::string trimmed = api::trim(value);
  std::string_view v = trimmed;
  if (v.starts_with(k_package)) v.remove_prefix(k_package.size());
  if (v.ends_with(k_suffix)) v.remove_suffix(k_suffix.size());
  const std::string alias(v);
  for (const char* name : {"All", "None", "Principal", "Allowlist"}) {
    if (::strcasecmp(alias.c_str(), name) == 0) {
      return client_override_policy{.name = name, .allowlist = std::move(allowlist)};
    }
  }
  throw api::config_error("Invalid value " + value +
                          " for configuration connector.client.config.override.policy: "
                          "expected All, None, Principal or Allowlist (or "
                          "org.apache.kafka.connect.connector.policy.<Name>" +
                          std::string(k_suffix) + ")");
}

bool client_override_policy::allows(const std::string& setting) const {
  if (name == "All") return true;
  if (name == "Principal") {
    return setting == "sasl.jaas.config" || setting == "sasl.mechanism" ||
           setting == "security.protocol";
  }
  if (name == "Allowlist") {
    return std::find(allowlist.begin(), allowlist.end(), setting) != allowlist.end();
  }
  return false;  // None
}

std::string client_override_policy::refusal(const std::string& setting) const {
  return "The '" + name + "' policy does not allow '" + setting +
         "' to be overridden in the connector configuration.";
}

const api::config_def& worker_config::definition() {
  static const api::config_def def = [] {
    api::config_def d;
    d.define({.name = "bootstrap.servers",
              .type = config_type::list,
              .default_value = "localhost:9092",
              .importance = importance_level::high,
              .doc = "Kafka brokers to connect to (host:port list)."});
    d.define({.name = "listeners",
              .type = config_type::list,
              .default_value = "http://127.0.0.1:8083",
              .importance = importance_level::low,
              .doc = "REST listeners, http://host:port and https://host:port (TLS from the "
                     "listeners.https.ssl.* settings, else the worker's ssl.* settings). ferry "
                     "binds loopback unless told otherwise."});
    d.define({.name = "rest.advertised.host.name",
              .type = config_type::string,
              .default_value = "",
              .importance = importance_level::low,
              .doc = "Host name in worker_id; defaults to the listener host or the host name."});
    d.define({.name = "rest.advertised.port",
              .type = config_type::int_,
              .default_value = "0",
              .importance = importance_level::low,
              .doc = "Port in worker_id; defaults to the listener port.",
              .validate = api::in_range(0, 65535)});
    d.define({.name = "offset.storage.file.filename",
              .type = config_type::string,
              .default_value = "",
              .importance = importance_level::high,
              .doc = "Standalone: file that keeps source offsets."});
    d.define({.name = "plugin.path",
              .type = config_type::list,
              .default_value = "",
              .importance = importance_level::low,
              .doc = "Comma-separated directories holding plug-ins: every *.so file directly in "
                     "a directory or in one of its subdirectories is loaded at start-up."});
    d.define({.name = "config.storage.file.filename",
              .type = config_type::string,
              .default_value = "",
              .importance = importance_level::medium,
              .doc = "Standalone (ferry): file that keeps connector configs and target states. "
                     "Defaults to <offset file>.connectors.json; empty with no offset file "
                     "keeps them in memory only."});
    d.define({.name = "offset.flush.interval.ms",
              .type = config_type::long_,
              .default_value = "60000",
              .importance = importance_level::low,
              .doc = "How often task offsets are committed.",
              .validate = api::at_least(1)});
    d.define({.name = "offset.flush.timeout.ms",
              .type = config_type::long_,
              .default_value = "5000",
              .importance = importance_level::low,
              .doc = "How long to wait for records to be flushed before an offset commit.",
              .validate = api::at_least(1)});
    d.define({.name = "task.shutdown.graceful.timeout.ms",
              .type = config_type::long_,
              .default_value = "5000",
              .importance = importance_level::low,
              .doc = "How long to wait for a task to stop before abandoning it.",
              .validate = api::at_least(0)});
    d.define({.name = "rest.request.timeout.ms",
              .type = config_type::long_,
              .default_value = "90000",
              .importance = importance_level::low,
              .doc = "How long a REST write waits for the herder.",
              .validate = api::at_least(1)});
    d.define({.name = "rest.max.body.bytes",
              .type = config_type::long_,
              .default_value = "1048576",
              .importance = importance_level::low,
              .doc = "Largest accepted REST request body.",
              .validate = api::at_least(1024)});
    d.define({.name = "key.converter",
              .type = config_type::class_,
              .default_value = "org.apache.kafka.connect.json.JsonConverter",
              .importance = importance_level::high,
              .doc = "Default key converter."});
    d.define({.name = "value.converter",
              .type = config_type::class_,
              .default_value = "org.apache.kafka.connect.json.JsonConverter",
              .importance = importance_level::high,
              .doc = "Default value converter."});
    d.define({.name = "header.converter",
              .type = config_type::class_,
              .default_value = "org.apache.kafka.connect.storage.SimpleHeaderConverter",
              .importance = importance_level::low,
              .doc = "Default header converter."});
    d.define({.name = "rest.basic.auth.credentials.file",
              .type = config_type::string,
              .default_value = "",
              .importance = importance_level::medium,
              .doc = "Turns on HTTP basic authentication for every endpoint but /health: a file "
                     "of user:<hash> lines made with 'ferry-worker hash-password'."});
    d.define({.name = "log.format",
              .type = config_type::string,
              .default_value = "text",
              .importance = importance_level::low,
              .doc = "ferry: log line format, 'text' (one readable line per event) or 'json' (one "
                     "JSON object per line: time, level, logger, connector, task, message).",
              .validate = api::one_of({"text", "json"})});
    d.define({.name = "topic.tracking.enable",
              .type = config_type::boolean,
              .default_value = "true",
              .importance = importance_level::low,
              .doc = "Track the topics each connector uses (GET /connectors/{name}/topics)."});
    d.define({.name = "topic.tracking.allow.reset",
              .type = config_type::boolean,
              .default_value = "true",
              .importance = importance_level::low,
              .doc = "Allow PUT /connectors/{name}/topics/reset."});
    d.define({.name = "topic.creation.enable",
              .type = config_type::boolean,
              .default_value = "true",
              .importance = importance_level::low,
              .doc = "Let source connectors create their topics (topic.creation.* connector "
                     "keys) before their first record."});
    d.define({.name = "dev.broker.control",
              .type = config_type::string,
              .default_value = "",
              .importance = importance_level::low,
              .doc = "ferry, development only: host:port of ferry-kafka-dev's control channel. "
                     "The development broker has no CreateTopics; with this set, a source's "
                     "topic.creation.* settings create the topic (partition count only) through "
                     "the channel when the Admin API cannot."});
    d.define({.name = "exactly.once.source.support",
              .type = config_type::string,
              .default_value = "disabled",
              .importance = importance_level::high,
              .doc = "Distributed: enabled runs every source task with a transactional producer "
                     "that commits records and their offsets together (KIP-618); preparing "
                     "(the first step of Kafka Connect's rolling upgrade) behaves as disabled.",
              .validate = api::one_of({"disabled", "preparing", "enabled"})});
    d.define({.name = "connector.client.config.override.policy",
              .type = config_type::string,
              .default_value = "All",
              .importance = importance_level::medium,
              .doc = "Which Kafka client settings connector configs may override with "
                     "producer.override.*, consumer.override.* and admin.override.* keys: All, "
                     "None, Principal (sasl.jaas.config, sasl.mechanism, security.protocol) or "
                     "Allowlist (connector.client.config.override.allowlist); Kafka's class "
                     "names are accepted too.",
              .validate = [](const std::string& v) -> std::optional<std::string> {
                try {
                  client_override_policy::parse(v);
                  return std::nullopt;
                } catch (const api::config_error& e) {
                  return e.what();
                }
              }});
    d.define({.name = "connector.client.config.override.allowlist",
              .type = config_type::list,
              .default_value = "",
              .importance = importance_level::medium,
              .doc = "With the Allowlist policy: the client settings connectors may override "
                     "(none when empty)."});
    // ---- distributed mode (Kafka Connect's DistributedConfig keys) ----
    d.define({.name = "group.id",
              .type = config_type::string,
              .default_value = "",
              .importance = importance_level::high,
              .doc = "Distributed: the cluster this worker belongs to (its Kafka group)."});
    for (const auto& [store, partitions, doc] :
         {std::tuple{"config", "1", "connector configs, task configs and target states"},
          std::tuple{"offset", "25", "source offsets"},
          std::tuple{"status", "5", "connector and task statuses"}}) {
      std::string prefix = std::string(store) + ".storage.";
      d.define({.name = prefix + "topic",
                .type = config_type::string,
                .default_value = "",
                .importance = importance_level::high,
                .doc = std::string("Distributed: the compacted topic of ") + doc + "."});
      d.define({.name = prefix + "replication.factor",
                .type = config_type::int_,
                .default_value = "3",
                .importance = importance_level::low,
                .doc = "Replication factor of the topic when the worker creates it; -1: the "
                       "broker default."});
      if (std::string(store) != "config") {
        d.define({.name = prefix + "partitions",
                  .type = config_type::int_,
                  .default_value = partitions,
                  .importance = importance_level::low,
                  .doc = "Partitions of the topic when the worker creates it.",
                  .validate = api::at_least(1)});
      }
    }
    d.define({.name = "slots.storage.topic",
              .type = config_type::string,
              .default_value = "",
              .importance = importance_level::low,
              .doc = "Distributed (ferry): the topic whose partitions are the cluster's work "
                     "slots, handed out to workers by the group coordinator. Default "
                     "<group.id>-slots."});
    d.define({.name = "slots.storage.partitions",
              .type = config_type::int_,
              .default_value = "64",
              .importance = importance_level::low,
              .doc = "Distributed (ferry): the number of slots when the worker creates the "
                     "topic.",
              .validate = api::at_least(1)});
    d.define({.name = "session.timeout.ms",
              .type = config_type::int_,
              .default_value = "10000",
              .importance = importance_level::high,
              .doc = "Distributed: how long the group coordinator waits for a silent worker "
                     "before its work moves.",
              .validate = api::at_least(1)});
    d.define({.name = "heartbeat.interval.ms",
              .type = config_type::int_,
              .default_value = "3000",
              .importance = importance_level::high,
              .doc = "Distributed: heartbeats to the group coordinator.",
              .validate = api::at_least(1)});
    return d;
  }();
  return def;
}

namespace {

bool known_prefix(const std::string& key) {
  for (const char* p : {"producer.",
                        "consumer.",
                        "admin.",
                        "key.converter.",
                        "value.converter.",
                        "header.converter.",
                        "listeners.",
                        "ssl.",
                        "sasl.",
                        "security.",
                        "config.providers",
                        "offset.storage.",
                        "config.storage.",
                        "status.storage.",
                        "rest.",
                        "internal.",
                        "topic.",
                        "access.control.",
                        "metrics.",
                        "group.",
                        "session.",
                        "heartbeat.",
                        "exactly.once",
                        "connector.client.",
                        "client."}) {
    if (key.starts_with(p)) return true;
  }
  return false;
}

std::string local_host_name() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0) return "localhost";
  return buf;
}

}  // namespace

worker_config worker_config::parse(const api::config_map& props, bool standalone) {
  const auto& def = definition();
  auto values = def.validate(props);
  std::string errors;
  for (const auto& v : values) {
    for (const auto& e : v.errors) errors += "\n  - " + e;
  }
  worker_config wc;
  wc.raw = props;
  api::parsed_config pc(def, props);
  try {
    auto ls = api::split_list(props.count("listeners") ? props.at("listeners")
                                                       : *def.find("listeners")->default_value);
    if (ls.empty()) throw api::config_error("listeners must name at least one listener");
    for (const auto& l : ls) wc.listeners.push_back(parse_listener(l));
    wc.rest = wc.listeners.front();
  } catch (const api::config_error& e) {
    errors += std::string("\n  - ") + e.what();
  }
  if (!errors.empty()) throw api::config_error("Invalid worker configuration:" + errors);

  wc.bootstrap_servers = pc.get_string("bootstrap.servers");
  wc.advertised_host = pc.get_string("rest.advertised.host.name");
  wc.advertised_port = pc.get_int("rest.advertised.port");
  if (wc.advertised_host.empty()) {
    wc.advertised_host = wc.rest.host == "0.0.0.0" ? local_host_name() : wc.rest.host;
  }
  wc.offset_file = pc.get_string("offset.storage.file.filename");
  wc.config_file = pc.get_string("config.storage.file.filename");
  wc.plugin_path = pc.get_list("plugin.path");
  if (standalone && wc.config_file.empty() && !wc.offset_file.empty()) {
    wc.config_file = wc.offset_file + ".connectors.json";
  }
  wc.offset_flush_interval = std::chrono::milliseconds(pc.get_long("offset.flush.interval.ms"));
  wc.offset_flush_timeout = std::chrono::milliseconds(pc.get_long("offset.flush.timeout.ms"));
  wc.task_shutdown_timeout =
      std::chrono::milliseconds(pc.get_long("task.shutdown.graceful.timeout.ms"));
  wc.rest_request_timeout = std::chrono::milliseconds(pc.get_long("rest.request.timeout.ms"));
  wc.rest_max_body_bytes = static_cast<std::uint64_t>(pc.get_long("rest.max.body.bytes"));
  wc.credentials_file = pc.get_string("rest.basic.auth.credentials.file");
  wc.topic_tracking = pc.get_bool("topic.tracking.enable");
  wc.topic_tracking_reset = pc.get_bool("topic.tracking.allow.reset");
  wc.topic_creation = pc.get_bool("topic.creation.enable");
  wc.dev_broker_control = api::trim(pc.get_string("dev.broker.control"));
  wc.standalone = standalone;
  wc.exactly_once_source = api::trim(pc.get_string("exactly.once.source.support"));
  for (auto& c : wc.exactly_once_source)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (standalone && wc.exactly_once_source == "enabled") {
    throw api::config_error(
        "Invalid worker configuration:\n  - exactly.once.source.support=enabled needs a "
        "distributed worker (ferry-worker distributed), as in Kafka Connect: a standalone "
        "worker keeps source offsets in a file, which cannot be written in the Kafka "
        "transaction that holds the records");
  }
  wc.override_policy =
      client_override_policy::parse(pc.get_string("connector.client.config.override.policy"),
                                    pc.get_list("connector.client.config.override.allowlist"));
  if (!standalone) {
    auto& d = wc.distributed;
    d.group_id = pc.get_string("group.id");
    d.config_topic = pc.get_string("config.storage.topic");
    d.offset_topic = pc.get_string("offset.storage.topic");
    d.status_topic = pc.get_string("status.storage.topic");
    d.slots_topic = pc.get_string("slots.storage.topic");
    if (d.slots_topic.empty() && !d.group_id.empty()) d.slots_topic = d.group_id + "-slots";
    d.config_replication = pc.get_int("config.storage.replication.factor");
    d.offset_partitions = pc.get_int("offset.storage.partitions");
    d.offset_replication = pc.get_int("offset.storage.replication.factor");
    d.status_partitions = pc.get_int("status.storage.partitions");
    d.status_replication = pc.get_int("status.storage.replication.factor");
    d.slots = pc.get_int("slots.storage.partitions");
    d.session_timeout = std::chrono::milliseconds(pc.get_int("session.timeout.ms"));
    d.heartbeat_interval = std::chrono::milliseconds(pc.get_int("heartbeat.interval.ms"));
    for (const char* key :
         {"group.id", "config.storage.topic", "offset.storage.topic", "status.storage.topic"}) {
      if (pc.get_string(key).empty()) {
        errors += std::string("\n  - ") + key + " must be set in distributed mode";
      }
    }
    if (!errors.empty()) throw api::config_error("Invalid worker configuration:" + errors);
  }
  for (const auto& [k, v] : props) {
    if (!def.find(k) && !known_prefix(k)) wc.unknown_keys.push_back(k);
  }
  return wc;
}

api::config_map worker_config::https_ssl_settings() const {
  api::config_map out;
  for (const auto& [k, v] : raw) {
    if (k.starts_with("listeners.https.")) out[k.substr(16)] = v;
  }
  if (!out.empty()) return out;  // all or nothing, as Kafka Connect
  for (const auto& [k, v] : raw) {
    if (k.starts_with("ssl.")) out[k] = v;
  }
  return out;
}

std::string worker_config::worker_id() const {
  int port = advertised_port != 0 ? advertised_port : rest.port;
  return advertised_host + ":" + std::to_string(port);
}

api::config_map worker_config::with_prefix(const std::string& prefix) const {
  api::config_map out;
  for (const auto& [k, v] : raw) {
    if (k.size() > prefix.size() && k.starts_with(prefix)) out[k.substr(prefix.size())] = v;
  }
  return out;
}

clients::client_config worker_config::producer_config() const {
  clients::client_config c{{"bootstrap.servers", bootstrap_servers}};
  for (auto& [k, v] : with_prefix("producer.")) c[k] = v;
  return c;
}

clients::client_config worker_config::internal_config() const {
  clients::client_config c{{"bootstrap.servers", bootstrap_servers}};
  // The worker's ssl.* settings reach its Kafka clients only when their protocol uses TLS, as
  // with Java's clients: they may be meant for the HTTPS listeners alone, and librdkafka checks
  // them even for PLAINTEXT (it refuses a PEM keystore without a password, for one).
  std::string protocol = raw.count("security.protocol") ? raw.at("security.protocol") : "";
  std::transform(protocol.begin(), protocol.end(), protocol.begin(),
                 [](unsigned char ch) { return static_cast<char>(std::toupper(ch)); });
  const bool tls = protocol == "SSL" || protocol == "SASL_SSL";
  for (const auto& [k, v] : raw) {
    if ((k.starts_with("ssl.") && tls) || k.starts_with("security.") || k.starts_with("sasl.")) {
      c[k] = v;
    }
  }
  return c;
}

clients::client_config worker_config::admin_config() const {
  auto c = internal_config();
  for (auto& [k, v] : with_prefix("admin.")) c[k] = v;
  return c;
}

clients::client_config worker_config::consumer_config() const {
  clients::client_config c{{"bootstrap.servers", bootstrap_servers}};
  for (auto& [k, v] : with_prefix("consumer.")) c[k] = v;
  return c;
}

api::config_map worker_config::client_overrides(const api::config_map& connector,
                                                client_kind kind) {
  const auto prefix = override_prefix(kind);
  api::config_map out;
  for (auto it = connector.lower_bound(prefix); it != connector.end(); ++it) {
    if (!it->first.starts_with(prefix)) break;
    if (it->first.size() > prefix.size()) out[it->first.substr(prefix.size())] = it->second;
  }
  return out;
}

std::vector<api::config_value> worker_config::check_overrides(const api::config_map& connector,
                                                              client_kind kind) const {
  std::vector<api::config_value> out;
  for (auto& [k, v] : client_overrides(connector, kind)) {
    api::config_value value{.name = override_prefix(kind) + k, .value = v, .errors = {}};
    if (!override_policy.allows(k)) value.errors.push_back(override_policy.refusal(k));
    out.push_back(std::move(value));
  }
  return out;
}

clients::client_config worker_config::client_config(const api::config_map& connector,
                                                    client_kind kind) const {
  auto c = kind == client_kind::producer   ? producer_config()
           : kind == client_kind::consumer ? consumer_config()
                                           : admin_config();
  std::string refused;
  for (auto& [k, v] : client_overrides(connector, kind)) {
    if (!override_policy.allows(k)) {
      refused += (refused.empty() ? "" : " ") + override_policy.refusal(k);
      continue;
    }
    c[k] = v;
  }
  if (!refused.empty()) {
    throw api::config_error(
        "Client config overrides not allowed (the worker's "
        "connector.client.config.override.policy is " +
        override_policy.name + "): " + refused);
  }
  return c;
}

}  // namespace ferry::core
