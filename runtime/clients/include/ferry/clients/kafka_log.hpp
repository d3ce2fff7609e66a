#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "ferry/clients/kafka_client.hpp"

namespace ferry::clients {

struct log_record {
  std::string key;
  std::optional<std::string> value;  // nullopt: a tombstone (null value); "" is an empty value
  std::int32_t partition = 0;
  std::int64_t offset = 0;
  std::int64_t timestamp_ms = -1;  // -1 when the broker gave none
};

struct kafka_log_options {
  std::string topic;
  client_config producer;  // bootstrap.servers, security settings, ...
  client_config consumer;
  // Called on the log's reader thread, in offset order per partition. The record is only valid
  // during the call. An exception thrown here is reported through `warn` and the record skipped.
  std::function<void(const log_record&)> on_record;
  // Client problems (librdkafka warnings and errors, settings librdkafka does not know, exceptions
  // from on_record). Called from librdkafka's and the log's threads, so it must be thread-safe.
  // Empty: printed to stderr.
  std::function<void(const std::string&)> warn;
  // How long stop() waits for records still unacknowledged before failing them.
  std::chrono::milliseconds stop_timeout{5000};
};

// A compacted topic read from the beginning and appended to: the storage under the config,
// offset and status stores (Kafka Connect's KafkaBasedLog). Owns an idempotent producer (plus a
// thread that serves its delivery reports) and a consumer assigned to every partition of the
// topic (no group membership, no commits) with a reader thread that calls on_record.
// Lifecycle: construct, start() once, any number of send()/read_to_end() from any thread,
// stop() (or destroy). It never creates its topic: see ensure_topic() in topic_admin.hpp.
class kafka_log {
 public:
  explicit kafka_log(kafka_log_options options);
  ~kafka_log();  // stops
  kafka_log(const kafka_log&) = delete;
  kafka_log& operator=(const kafka_log&) = delete;

  // Reads the topic's partitions (the topic must exist), assigns all of them from the beginning,
  // starts the reader and returns once everything present at call time was delivered to
  // on_record. Throws api::connect_error on failure or after `timeout` (the log is then stopped).
  void start(std::chrono::milliseconds timeout);
  // Fails sends still unacknowledged after options.stop_timeout, stops the threads and closes
  // the clients. Idempotent; must not be called from on_record.
  void stop();

  // Produces one record (value nullopt: a tombstone; key bytes as given) and waits for the
  // broker's acknowledgement. Throws api::connect_error on failure or after `timeout` (the record
  // may still be written later). Thread-safe.
  void send(const std::string& key, const std::optional<std::string>& value,
            std::chrono::milliseconds timeout);
  // The same without waiting: `done` gets "" once acknowledged or an error text, exactly once,
  // on a librdkafka thread (at the latest during stop()). Throws api::connect_error, and never
  // calls `done`, when the record cannot even be queued (log not started or stopped, queue full).
  void send_async(const std::string& key, const std::optional<std::string>& value,
                  std::function<void(const std::string& error)> done);

  // Blocks until every record up to the end offsets read at call time has been delivered to
  // on_record (Kafka Connect's readToEnd). Throws api::connect_error on timeout or when the log
  // stops meanwhile. Thread-safe; must not be called from on_record.
  void read_to_end(std::chrono::milliseconds timeout);

  int partitions() const;  // 0 before start()
  const std::string& topic() const;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace ferry::clients
