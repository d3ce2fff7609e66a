#include "keys_source/keys_source_config.hpp"

#include "common/redis_config.hpp"
#include "ferry/api/errors.hpp"

namespace ferry::redis {

using api::config_type;
using api::importance_level;

const api::config_def& keys_source_config_def() {
  static const api::config_def def = [] {
    api::config_def d;
    define_connection_keys(d);
    const std::string g = "Redis keys source";
    d.define({.name = "redis.keys.pattern",
              .type = config_type::string,
              .default_value = "*",
              .importance = importance_level::high,
              .doc = "Glob pattern of the keys to capture (keyspace notifications on "
                     "__keyspace@<db>__:<pattern>, and SCAN MATCH <pattern>).",
              .group = g,
              .validate = api::non_empty()});
    d.define({.name = "mode",
              .type = config_type::string,
              .default_value = "LIVE",
              .importance = importance_level::medium,
              .doc = "LIVE: first a SCAN snapshot of the matching keys (only keys that changed "
                     "since the last emitted state are written), then every change. LIVEONLY: "
                     "changes only.",
              .group = g,
              .validate = api::one_of({"LIVE", "LIVEONLY"})});
    d.define({.name = "topic",
              .type = config_type::string,
              .default_value = "rediskeys",
              .importance = importance_level::high,
              .doc = "Target topic.",
              .group = g,
              .validate = api::non_empty()});
    d.define({.name = "batch.size",
              .type = config_type::int_,
              .default_value = "500",
              .importance = importance_level::medium,
              .doc = "Most keys read (and SCAN COUNT) per poll.",
              .group = g,
              .validate = api::in_range(1, 100000)});
    d.define({.name = "redis.keys.timeout",
              .type = config_type::long_,
              .default_value = "0",
              .importance = importance_level::low,
              .doc = "Accepted for redis-kafka-connect configs and ignored: there it stops "
                     "reading after this many idle milliseconds; ferry keeps capturing.",
              .group = g,
              .validate = api::at_least(0)});
    d.define({.name = "redis.keys.notify.events",
              .type = config_type::string,
              .default_value = "",
              .importance = importance_level::medium,
              .doc = "ferry: when set (e.g. KA), CONFIG SET notify-keyspace-events to this value "
                     "on every (re)connect. Empty: the server's setting is checked and must "
                     "include K and every event class (A).",
              .group = g});
    return d;
  }();
  return def;
}

keys_source_config keys_source_config::parse(const api::config_map& config) {
  api::parsed_config pc(keys_source_config_def(), config);
  keys_source_config c;
  c.endpoint = endpoint_from(pc);
  c.pattern = pc.get_string("redis.keys.pattern");
  auto mode = pc.get_string("mode");
  for (auto& ch : mode) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  c.snapshot = mode == "LIVE";
  c.topic = pc.get_string("topic");
  c.batch_size = pc.get_int("batch.size");
  c.notify_events = pc.get_string("redis.keys.notify.events");
  return c;
}

}  // namespace ferry::redis
