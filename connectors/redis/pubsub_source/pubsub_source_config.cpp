#include "pubsub_source/pubsub_source_config.hpp"

#include "common/redis_config.hpp"
#include "ferry/api/errors.hpp"

namespace ferry::redis {

using api::config_type;
using api::importance_level;

const api::config_def& pubsub_source_config_def() {
  static const api::config_def def = [] {
    api::config_def d;
    define_connection_keys(d);
    const std::string g = "Redis Pub/Sub source";
    d.define({.name = "redis.pubsub.channels",
              .type = config_type::list,
              .default_value = "",
              .importance = importance_level::high,
              .doc = "Channels to SUBSCRIBE to, comma-separated; spread over the tasks. At least "
                     "one channel or pattern is required.",
              .group = g});
    d.define({.name = "redis.pubsub.patterns",
              .type = config_type::list,
              .default_value = "",
              .importance = importance_level::high,
              .doc = "Glob patterns to PSUBSCRIBE to (news.*), comma-separated; spread over the "
                     "tasks.",
              .group = g});
    d.define({.name = "topic",
              .type = config_type::string,
              .default_value = "${channel}",
              .importance = importance_level::high,
              .doc = "Target topic; ${channel} is replaced by the channel the message was "
                     "published on (characters Kafka does not allow in topic names become _).",
              .group = g,
              .validate = api::non_empty()});
    d.define({.name = "batch.size",
              .type = config_type::int_,
              .default_value = "500",
              .importance = importance_level::low,
              .doc = "Most messages handed to Kafka per poll.",
              .group = g,
              .validate = api::in_range(1, 100000)});
    return d;
  }();
  return def;
}

pubsub_source_config pubsub_source_config::parse(const api::config_map& config) {
  api::parsed_config pc(pubsub_source_config_def(), config);
  pubsub_source_config c;
  c.endpoint = endpoint_from(pc);
  c.channels = pc.get_list("redis.pubsub.channels");
  c.patterns = pc.get_list("redis.pubsub.patterns");
  if (c.channels.empty() && c.patterns.empty()) {
    throw api::config_error(
        "Set redis.pubsub.channels or redis.pubsub.patterns: the Pub/Sub source needs at least "
        "one channel or pattern to subscribe to");
  }
  c.topic_template = pc.get_string("topic");
  c.batch_size = pc.get_int("batch.size");
  return c;
}

std::string pubsub_source_config::topic_for(const std::string& channel) const {
  std::string safe = channel;
  for (auto& ch : safe) {
    bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '.' || ch == '_' || ch == '-';
    if (!ok) ch = '_';
  }
  std::string out = topic_template;
  static constexpr std::string_view placeholder = "${channel}";
  for (auto pos = out.find(placeholder); pos != std::string::npos;
       pos = out.find(placeholder, pos + safe.size())) {
    out.replace(pos, placeholder.size(), safe);
  }
  return out;
}

}  // namespace ferry::redis
