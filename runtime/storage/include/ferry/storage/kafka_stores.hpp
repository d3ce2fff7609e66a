#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <unordered_map>

#include "ferry/clients/kafka_log.hpp"
#include "ferry/storage/offset_store.hpp"
#include "ferry/storage/status_store.hpp"

namespace ferry::storage {

// Where a Kafka-backed store lives: the topic and the clients' settings (bootstrap servers,
// security). The stores add what their log needs (idempotence, partitioner, no group).
struct kafka_store_options {
  std::string topic;
  clients::client_config producer;
  clients::client_config consumer;
  std::chrono::milliseconds write_timeout{30000};
  std::function<void(const std::string&)> warn;  // client problems; must be thread-safe
};

// Source offsets in offset.storage.topic, exactly as Kafka Connect keeps them (key
// ["<connector>",{partition}], value {offset}, tombstone = reset), so offsets survive a move
// between Kafka Connect and ferry in either direction. Every worker reads the whole topic and
// keeps the latest value per key; put() returns once the broker acknowledged every record.
class kafka_offset_store final : public offset_store {
 public:
  explicit kafka_offset_store(kafka_store_options options);
  ~kafka_offset_store() override;

  // Reads the topic to its end; throws api::connect_error.
  void start(std::chrono::milliseconds timeout);
  void stop();
  // Waits until everything on the topic now was read (an exactly-once source task does before
  // it starts, so it sees its predecessor's last committed offsets). Throws api::connect_error.
  void read_to_end(std::chrono::milliseconds timeout);

  std::optional<json> get(const std::string& connector, const json& partition) override;
  void put(const std::string& connector, const std::vector<source_offset>& offsets) override;
  std::vector<source_offset> list(const std::string& connector) override;

 private:
  void on_record(const clients::log_record& r);
  // The latest offset of one partition (null: reset); mutex_ held.
  void remember_locked(const std::string& connector, const std::string& key, const json& partition,
                       const json& offset);

  kafka_store_options options_;
  std::unique_ptr<clients::kafka_log> log_;
  std::mutex mutex_;
  // connector -> key bytes -> (partition, offset)
  std::map<std::string, std::unordered_map<std::string, std::pair<json, json>>> offsets_;
};

// Connector and task statuses and active topics in status.storage.topic, in Kafka Connect's
// format, so every worker of a cluster can answer for every connector with the worker that runs
// it. Writes are asynchronous (a status is advisory; the latest one wins) and visible locally at
// once; statuses written by other workers arrive through the topic.
class kafka_status_store final : public status_store {
 public:
  explicit kafka_status_store(kafka_store_options options);
  ~kafka_status_store() override;

  void start(std::chrono::milliseconds timeout);
  void stop();
  // Waits until everything on the topic now was read (other workers' latest statuses).
  void read_to_end(std::chrono::milliseconds timeout);

  void put_connector(const std::string& name, const status& s) override;
  void put_task(const std::string& name, int task, const status& s) override;
  std::optional<status> connector(const std::string& name) override;
  std::map<int, status> tasks(const std::string& name) override;
  void remove(const std::string& name) override;
  void remove_tasks_from(const std::string& name, int first_task) override;
  void put_topic(const std::string& name, const std::string& topic) override;
  std::set<std::string> topics(const std::string& name) override;
  void reset_topics(const std::string& name) override;
  std::uint64_t topics_generation(const std::string& name) override;

 private:
  void on_record(const clients::log_record& r);
  void send(const std::string& key, const std::optional<std::string>& value);

  kafka_store_options options_;
  std::unique_ptr<clients::kafka_log> log_;
  std::mutex mutex_;
  std::map<std::string, status> connectors_;
  std::map<std::string, std::map<int, status>> tasks_;
  std::map<std::string, std::set<std::string>> topics_;
  std::map<std::string, std::uint64_t> topics_generation_;
};

}  // namespace ferry::storage
