#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>

#include "ferry/clients/kafka_client.hpp"

namespace ferry::clients {

struct topic_spec {
  std::string name;
  int partitions = 1;
  int replication_factor = -1;                 // -1: the broker's default
  std::map<std::string, std::string> configs;  // e.g. cleanup.policy=compact
};

struct topic_description {
  bool exists = false;
  int partitions = 0;
  std::optional<std::string> cleanup_policy;  // nullopt: the broker would not say
};

// Topic checks and creation for the internal topics (Kafka Connect's TopicAdmin). Each call makes
// its own short-lived client from `admin` (bootstrap.servers, security settings) with
// allow.auto.create.topics=false, and never names a missing topic in a metadata request (a broker
// speaking only old Metadata versions, like librdkafka's mock cluster, would create it).

// Reads whether the topic exists, its partition count and (through DescribeConfigs) its
// cleanup.policy. Throws api::connect_error when the cluster cannot be reached within `timeout`
// or refuses to describe the topic.
topic_description describe_topic(const client_config& admin, const std::string& topic,
                                 std::chrono::milliseconds timeout);

// Creates the topic with the Admin API (CreateTopics) when it is missing and returns its
// description afterwards. A cluster without a usable CreateTopics or DescribeConfigs (the
// development broker: librdkafka's mock cluster has neither and names no controller), a request
// that times out, or one refused for lack of authorization is reported through `warn` and the
// description from metadata returned (exists=false when creation was not possible). Throws
// api::connect_error when the cluster cannot be reached or the broker rejects the spec (invalid
// replication factor, config or policy violation). Everything is bounded by `timeout`.
topic_description ensure_topic(const client_config& admin, const topic_spec& spec,
                               std::chrono::milliseconds timeout,
                               const std::function<void(const std::string&)>& warn);

}  // namespace ferry::clients
