#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "ferry/api/config_def.hpp"
#include "ferry/clients/kafka_client.hpp"

namespace ferry::core {

struct listener {
  std::string scheme = "http";
  std::string host = "127.0.0.1";
  std::uint16_t port = 8083;
};

// Parses "http://host:port" or "https://host:port" (an empty host means every interface, as in
// Kafka Connect);
// throws api::config_error.
listener parse_listener(const std::string& text);

// Distributed mode's settings (Kafka Connect's DistributedConfig, plus the slot topic).
struct distributed_settings {
  std::string group_id;
  std::string config_topic, offset_topic, status_topic, slots_topic;
  int config_replication = 3;
  int offset_partitions = 25, offset_replication = 3;
  int status_partitions = 5, status_replication = 3;
  int slots = 64;
  std::chrono::milliseconds session_timeout{10000};
  std::chrono::milliseconds heartbeat_interval{3000};
};

// The Kafka clients a connector may configure itself (KIP-458): through its config's
// producer.override.*, consumer.override.* and admin.override.* keys.
enum class client_kind { producer, consumer, admin };
// "producer.override." and so on.
std::string override_prefix(client_kind kind);

// connector.client.config.override.policy: which client settings a connector config may
// override. Kafka's policies: All (the default since Kafka 3.0), None, Principal (only
// sasl.jaas.config, sasl.mechanism and security.protocol) and Allowlist (the settings listed in
// connector.client.config.override.allowlist).
struct client_override_policy {
  std::string name = "All";            // Kafka's alias of the policy
  std::vector<std::string> allowlist;  // Allowlist only

  // Takes Kafka's aliases (All, None, Principal, Allowlist, in any case) and class names
  // (org.apache.kafka.connect.connector.policy.AllConnectorClientConfigOverridePolicy, ...);
  // throws api::config_error naming them for anything else.
  static client_override_policy parse(const std::string& value,
                                      std::vector<std::string> allowlist = {});
  bool allows(const std::string& setting) const;
  // Kafka's message for a setting the policy does not allow.
  std::string refusal(const std::string& setting) const;
};

// The worker's settings, with Kafka Connect's key names. Unknown keys are kept (and reported)
// rather than refused, as Kafka Connect does.
struct worker_config {
  api::config_map raw;
  std::string bootstrap_servers;
  std::vector<listener> listeners;  // every REST listener, in the order given
  listener rest;                    // the first: the one in worker_id
  std::string advertised_host;
  int advertised_port = 0;
  std::string offset_file;  // offset.storage.file.filename
  std::string config_file;  // config.storage.file.filename (ferry; standalone connector configs)
  std::vector<std::string> plugin_path;  // plugin.path: directories scanned for plug-in .so files
  std::chrono::milliseconds offset_flush_interval{60000};
  std::chrono::milliseconds offset_flush_timeout{5000};
  std::chrono::milliseconds task_shutdown_timeout{5000};
  std::chrono::milliseconds rest_request_timeout{90000};
  std::uint64_t rest_max_body_bytes = 1024 * 1024;
  std::string credentials_file;      // rest.basic.auth.credentials.file; empty: no auth
  bool topic_tracking = true;        // topic.tracking.enable
  bool topic_tracking_reset = true;  // topic.tracking.allow.reset
  bool topic_creation = true;        // topic.creation.enable (KIP-158)
  std::string dev_broker_control;    // dev.broker.control (ferry, development only)
  // exactly.once.source.support (KIP-618): disabled, preparing or enabled; distributed only.
  std::string exactly_once_source = "disabled";
  client_override_policy override_policy;  // connector.client.config.override.policy
  bool standalone = false;                 // parsed for a standalone worker
  distributed_settings distributed;        // parsed (and required) in distributed mode only
  std::vector<std::string> unknown_keys;

  // Throws api::config_error listing every problem at once.
  static worker_config parse(const api::config_map& props, bool standalone);
  static const api::config_def& definition();

  std::string worker_id() const;
  // TLS settings of https listeners with their "ssl." names: the listeners.https.* keys when any
  // is set, else the worker's own ssl.* keys (Kafka Connect's rule).
  api::config_map https_ssl_settings() const;  // advertised host:port, Kafka Connect's worker_id
  clients::client_config producer_config() const;
  // The worker's own clients (internal topics, group membership): bootstrap.servers and the
  // top-level security.*, ssl.*, sasl.* settings, as Kafka Connect uses them.
  clients::client_config internal_config() const;
  clients::client_config admin_config() const;  // internal_config() + admin.*
  clients::client_config consumer_config() const;
  // The settings a connector's config gives one of its clients: the keys under
  // override_prefix(kind), prefix stripped.
  static api::config_map client_overrides(const api::config_map& connector, client_kind kind);
  // One result per override key of that client (its full key, e.g. consumer.override.group.id),
  // with the policy's error when it may not be overridden (Kafka's validateClientOverrides).
  std::vector<api::config_value> check_overrides(const api::config_map& connector,
                                                 client_kind kind) const;
  // The worker's settings for a connector's client (producer_config(), consumer_config(),
  // admin_config()) with that connector's overrides on top. Throws api::config_error when the
  // policy refuses one (a config stored before the policy changed), as Kafka's Worker does.
  clients::client_config client_config(const api::config_map& connector, client_kind kind) const;
  // Settings under a prefix, e.g. "key.converter." -> {"schemas.enable": "false"}.
  api::config_map with_prefix(const std::string& prefix) const;
};

}  // namespace ferry::core
