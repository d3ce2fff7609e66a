#pragma once

#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "ferry/api/connector.hpp"
#include "ferry/clients/redis_subscriber.hpp"
#include "pubsub_source/pubsub_source_config.hpp"

namespace ferry::redis {

// Subscribes to its channels and patterns and turns each message into one record: key = the
// channel, value = {channel, pattern, message}. At most once by nature: Redis keeps no
// Pub/Sub message, so what is published while the task is not subscribed (worker stopped,
// connection broken, Redis restarting) is never seen, and messages read but not yet
// acknowledged by Kafka when the worker dies are lost. The records carry no source offset.
// poll() waits at most half a second; a broken connection throws redis_io_error (the runtime
// retries with backoff) and the next poll() subscribes again.
class pubsub_source_task final : public api::source_task {
 public:
  void start(const api::config_map& config, api::source_task_context& context) override;
  std::vector<api::source_record> poll() override;
  void stop() override;

 private:
  const std::string& topic_for(const std::string& channel);

  pubsub_source_config config_;
  std::unique_ptr<clients::redis_subscriber> subscriber_;
  std::vector<clients::pubsub_message> messages_;
  std::unordered_map<std::string, std::string> topics_;  // channel -> topic, built once each
};

// The schema of the value record, in Kafka Connect's JSON schema form.
const api::schema_ptr& pubsub_value_schema();

}  // namespace ferry::redis
