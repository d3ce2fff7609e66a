#include "pubsub_source/pubsub_source_task.hpp"

#include <chrono>

namespace ferry::redis {

const api::schema_ptr& pubsub_value_schema() {
  static const api::schema_ptr schema =
      std::make_shared<const json>(json::parse(R"({"type":"struct","fields":[
    {"type":"string","optional":false,"field":"channel"},
    {"type":"string","optional":true,"field":"pattern"},
    {"type":"string","optional":false,"field":"message"}],
    "optional":false,"name":"ferry.redis.pubsub.Message"})"));
  return schema;
}

namespace {
const api::schema_ptr& key_schema() {
  static const api::schema_ptr schema =
      std::make_shared<const json>(json{{"type", "string"}, {"optional", false}});
  return schema;
}

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}
}  // namespace

void pubsub_source_task::start(const api::config_map& config, api::source_task_context&) {
  config_ = pubsub_source_config::parse(config);
  subscriber_ = std::make_unique<clients::redis_subscriber>(config_.endpoint, config_.channels,
                                                            config_.patterns);
  // Subscribe now: what is published from here on reaches Kafka. Refused logins fail the start;
  // an unreachable server is retried by poll().
  try {
    subscriber_->connect();
  } catch (const clients::redis_io_error&) {
  }
}

const std::string& pubsub_source_task::topic_for(const std::string& channel) {
  auto it = topics_.find(channel);
  if (it == topics_.end()) {
    // Patterns can match any number of channels: keep the cache from growing without bound.
    if (topics_.size() > 10000) topics_.clear();
    it = topics_.emplace(channel, config_.topic_for(channel)).first;
  }
  return it->second;
}

std::vector<api::source_record> pubsub_source_task::poll() {
  subscriber_->connect();
  messages_.clear();
  subscriber_->read(messages_, static_cast<std::size_t>(config_.batch_size),
                    std::chrono::steady_clock::now() + std::chrono::milliseconds(500));
  std::vector<api::source_record> out;
  out.reserve(messages_.size());
  const auto ts = now_ms();
  for (auto& m : messages_) {
    api::source_record r;
    r.topic = topic_for(m.channel);
    r.key = m.channel;
    r.key_schema = key_schema();
    json value = json::object();
    value["channel"] = m.channel;
    value["pattern"] = m.pattern.empty() ? json(nullptr) : json(std::move(m.pattern));
    value["message"] = std::move(m.payload);
    r.value = std::move(value);
    r.value_schema = pubsub_value_schema();
    r.timestamp_ms = ts;
    out.push_back(std::move(r));
  }
  return out;
}

void pubsub_source_task::stop() {
  subscriber_.reset();
}

}  // namespace ferry::redis
