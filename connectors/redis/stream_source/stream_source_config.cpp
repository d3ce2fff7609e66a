#include "stream_source/stream_source_config.hpp"

#include "common/redis_config.hpp"
#include "ferry/api/errors.hpp"
#include "stream_source/stream_ids.hpp"

namespace ferry::redis {

using api::config_type;
using api::importance_level;

namespace {

std::optional<std::string> check_key_layout(const std::string& v) {
  if (v == "id" || v == "stream" || v == "none") return std::nullopt;
  if (v.starts_with("body.") && v.size() > 5) return std::nullopt;
  return "must be id, stream, none or body.<field>";
}

std::optional<std::string> check_start_id(const std::string& v) {
  if (v == "$" || parse_stream_id(v)) return std::nullopt;
  return "must be an entry id (<ms> or <ms>-<seq>, e.g. 0-0) or $";
}

}  // namespace

const api::config_def& stream_source_config_def() {
  static const api::config_def def = [] {
    api::config_def d;
    define_connection_keys(d);
    const std::string g = "Redis stream source";
    d.define({.name = "redis.stream.name",
              .type = config_type::list,
              .default_value = std::nullopt,
              .importance = importance_level::high,
              .doc = "Stream key(s) to read, comma-separated; spread over the tasks round-robin. "
                     "Required, as in redis-kafka-connect; may be empty when "
                     "redis.stream.pattern is set.",
              .group = g,
              .validate = [](const std::string& v) -> std::optional<std::string> {
                if (!api::trim(v).empty() && api::split_list(v).empty()) {
                  return "names no stream";
                }
                return std::nullopt;
              }});
    d.define({.name = "redis.stream.pattern",
              .type = config_type::string,
              .default_value = "",
              .importance = importance_level::high,
              .doc = "ferry: also read every stream whose key matches this SCAN MATCH pattern "
                     "(e.g. orders:*), found again every redis.stream.pattern.rescan.ms. Each "
                     "stream goes to one task, chosen by a hash of its key.",
              .group = g});
    d.define({.name = "redis.stream.pattern.rescan.ms",
              .type = config_type::long_,
              .default_value = "10000",
              .importance = importance_level::low,
              .doc = "ferry: milliseconds between two scans for streams matching "
                     "redis.stream.pattern.",
              .group = g,
              .validate = api::in_range(100, 86400000)});
    d.define({.name = "redis.stream.offset",
              .type = config_type::string,
              .default_value = "0-0",
              .importance = importance_level::medium,
              .doc = "Entry id after which a stream with no stored offset is read (and where a "
                     "missing consumer group is created); 0-0 reads it from the start, $ only "
                     "new entries.",
              .group = g,
              .validate = check_start_id});
    d.define({.name = "redis.stream.block",
              .type = config_type::long_,
              .default_value = "100",
              .importance = importance_level::low,
              .doc = "Milliseconds XREAD/XREADGROUP blocks waiting for entries.",
              .group = g,
              .validate = api::in_range(1, 5000)});
    d.define({.name = "batch.size",
              .type = config_type::int_,
              .default_value = "500",
              .importance = importance_level::medium,
              .doc = "Entries read per XREAD/XREADGROUP, per stream.",
              .group = g,
              .validate = api::in_range(1, 100000)});
    d.define({.name = "topic",
              .type = config_type::string,
              .default_value = "${stream}",
              .importance = importance_level::high,
              .doc = "Target topic; ${stream} is replaced by the stream key.",
              .group = g,
              .validate = api::non_empty()});
    d.define({.name = "redis.stream.mode",
              .type = config_type::string,
              .default_value = "auto",
              .importance = importance_level::medium,
              .doc = "ferry: xread reads with XREAD after the offset stored for each stream; "
                     "group reads as a consumer of redis.stream.consumer.group (XREADGROUP, XACK "
                     "after Kafka acknowledged). auto: group when redis.stream.consumer.group, "
                     "redis.stream.consumer.name or redis.stream.delivery is set, else xread.",
              .group = g,
              .validate = api::one_of({"auto", "xread", "group"})});
    d.define({.name = "redis.stream.delivery",
              .type = config_type::string,
              .default_value = "at-least-once",
              .importance = importance_level::medium,
              .doc = "Consumer-group mode: at-least-once acknowledges (XACK) an entry only "
                     "after Kafka acknowledged its record; at-most-once reads with NOACK.",
              .group = g,
              .validate = api::one_of({"at-least-once", "at-most-once"})});
    d.define({.name = "redis.stream.consumer.group",
              .type = config_type::string,
              .default_value = "kafka-consumer-group",
              .importance = importance_level::medium,
              .doc = "Consumer group (created with MKSTREAM when missing).",
              .group = g,
              .validate = api::non_empty()});
    d.define({.name = "redis.stream.consumer.name",
              .type = config_type::string,
              .default_value = "consumer-${task}",
              .importance = importance_level::medium,
              .doc = "Consumer name; ${task} is replaced by the task's index.",
              .group = g,
              .validate = api::non_empty()});
    d.define({.name = "redis.stream.claim.idle.ms",
              .type = config_type::long_,
              .default_value = "60000",
              .importance = importance_level::medium,
              .doc = "ferry, consumer-group mode: entries pending for another consumer longer "
                     "than this are claimed (XCLAIM) and delivered. 0: never claim.",
              .group = g,
              .validate = api::in_range(0, 86400000)});
    d.define({.name = "redis.stream.key",
              .type = config_type::string,
              .default_value = "id",
              .importance = importance_level::low,
              .doc = "ferry: the Kafka record key: id (the entry id, as redis-kafka-connect), "
                     "stream (the stream key), none, or body.<field> (that field of the entry; "
                     "null when absent).",
              .group = g,
              .validate = check_key_layout});
    d.define({.name = "redis.stream.value",
              .type = config_type::string,
              .default_value = "struct",
              .importance = importance_level::low,
              .doc = "ferry: the Kafka record value: struct ({id, stream, body}, as "
                     "redis-kafka-connect) or body (the entry's field map alone).",
              .group = g,
              .validate = api::one_of({"struct", "body"})});
    return d;
  }();
  return def;
}

stream_source_config stream_source_config::parse(const api::config_map& config) {
  api::parsed_config pc(stream_source_config_def(), config);
  stream_source_config c;
  c.endpoint = endpoint_from(pc);
  c.streams = pc.get_list("redis.stream.name");
  c.pattern = pc.get_string("redis.stream.pattern");
  if (c.streams.empty() && c.pattern.empty()) {
    throw api::config_error("redis.stream.name names no stream and redis.stream.pattern is empty");
  }
  c.rescan = std::chrono::milliseconds(pc.get_long("redis.stream.pattern.rescan.ms"));
  c.start_id = pc.get_string("redis.stream.offset");
  c.block = std::chrono::milliseconds(pc.get_long("redis.stream.block"));
  c.batch_size = pc.get_int("batch.size");
  c.topic_template = pc.get_string("topic");

  auto mode = pc.get_string("redis.stream.mode");
  if (mode == "auto") {
    bool group_keys = config.contains("redis.stream.consumer.group") ||
                      config.contains("redis.stream.consumer.name") ||
                      config.contains("redis.stream.delivery");
    c.mode = group_keys ? stream_read_mode::group : stream_read_mode::xread;
  } else {
    c.mode = mode == "group" ? stream_read_mode::group : stream_read_mode::xread;
  }
  c.delivery = pc.get_string("redis.stream.delivery") == "at-most-once"
                   ? stream_delivery::at_most_once
                   : stream_delivery::at_least_once;
  c.group = pc.get_string("redis.stream.consumer.group");
  c.consumer = pc.get_string("redis.stream.consumer.name");
  c.claim_idle = std::chrono::milliseconds(pc.get_long("redis.stream.claim.idle.ms"));

  auto key = pc.get_string("redis.stream.key");
  if (key == "id") {
    c.key_layout = stream_key_layout::id;
  } else if (key == "stream") {
    c.key_layout = stream_key_layout::stream;
  } else if (key == "none") {
    c.key_layout = stream_key_layout::none;
  } else {
    c.key_layout = stream_key_layout::body_field;
    c.key_field = key.substr(5);
  }
  c.value_layout = pc.get_string("redis.stream.value") == "body" ? stream_value_layout::body
                                                                 : stream_value_layout::record;

  auto number = [&](const char* name, int fallback, int min) {
    auto it = config.find(name);
    if (it == config.end()) return fallback;
    auto v = api::parse_long(it->second);
    if (!v || *v < min || *v > 1000000) {
      throw api::config_error(std::string(name) + " is not a valid number: " + it->second);
    }
    return static_cast<int>(*v);
  };
  c.task_count = number(k_task_count_key, 1, 1);
  c.task_index = number(k_task_index_key, 0, 0);
  if (c.task_index >= c.task_count) {
    throw api::config_error(std::string(k_task_index_key) + " must be below " + k_task_count_key);
  }
  auto listed = config.find(k_listed_streams_key);
  c.listed = listed == config.end() ? c.streams : api::split_list(listed->second);
  return c;
}

std::string stream_source_config::topic_for(const std::string& stream) const {
  std::string out = topic_template;
  for (auto pos = out.find("${stream}"); pos != std::string::npos;
       pos = out.find("${stream}", pos + stream.size())) {
    out.replace(pos, 9, stream);
  }
  return out;
}

std::string stream_source_config::consumer_name() const {
  std::string out = consumer;
  const std::string task = std::to_string(task_index);
  for (auto pos = out.find("${task}"); pos != std::string::npos;
       pos = out.find("${task}", pos + task.size())) {
    out.replace(pos, 7, task);
  }
  return out;
}

}  // namespace ferry::redis
