#pragma once

#include <librdkafka/rdkafka.h>

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace ferry::clients {

// librdkafka property name -> value. Kafka Connect's Java client keys mostly carry over as they
// are (bootstrap.servers, acks, security.protocol, sasl.*, ...).
using client_config = std::map<std::string, std::string>;

struct kafka_handle_deleter {
  void operator()(rd_kafka_t* rk) const { rd_kafka_destroy(rk); }
};
using kafka_handle = std::unique_ptr<rd_kafka_t, kafka_handle_deleter>;

struct kafka_conf_deleter {
  void operator()(rd_kafka_conf_t* c) const { rd_kafka_conf_destroy(c); }
};
using kafka_conf = std::unique_ptr<rd_kafka_conf_t, kafka_conf_deleter>;

struct topic_partition_list_deleter {
  void operator()(rd_kafka_topic_partition_list_t* l) const {
    rd_kafka_topic_partition_list_destroy(l);
  }
};
using topic_partition_list =
    std::unique_ptr<rd_kafka_topic_partition_list_t, topic_partition_list_deleter>;

struct queue_deleter {
  void operator()(rd_kafka_queue_t* q) const { rd_kafka_queue_destroy(q); }
};
using queue_handle = std::unique_ptr<rd_kafka_queue_t, queue_deleter>;

struct message_deleter {
  void operator()(rd_kafka_message_t* m) const { rd_kafka_message_destroy(m); }
};
using kafka_message = std::unique_ptr<rd_kafka_message_t, message_deleter>;

// Builds a librdkafka config. Keys librdkafka does not know (Java-only client settings such as
// key.serializer) are skipped and reported in `ignored`; an invalid value throws
// api::config_error naming the key.
kafka_conf make_kafka_conf(const client_config& config, std::vector<std::string>* ignored);

// Creates a client; throws api::connect_error with librdkafka's message on failure.
kafka_handle make_producer(kafka_conf conf);
kafka_handle make_consumer(kafka_conf conf);

std::string kafka_error_text(rd_kafka_resp_err_t err);

// Milliseconds left until `deadline`, clamped to [0, INT_MAX], for librdkafka's int timeouts.
int ms_left(std::chrono::steady_clock::time_point deadline);

// Reads the current end offsets (high watermarks) of every partition of a topic. Used by tests
// and tools; throws api::connect_error on failure.
std::vector<std::int64_t> topic_end_offsets(rd_kafka_t* rk, const std::string& topic,
                                            std::chrono::milliseconds timeout);

}  // namespace ferry::clients
