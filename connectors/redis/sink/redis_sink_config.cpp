#include "sink/redis_sink_config.hpp"

#include <algorithm>
#include <cctype>

#include "common/redis_config.hpp"
#include "ferry/api/errors.hpp"

namespace ferry::redis {

using api::config_type;
using api::importance_level;

const api::config_def& redis_sink_config_def() {
  static const api::config_def def = [] {
    api::config_def d;
    define_connection_keys(d);
    const std::string g = "Redis sink";
    d.define({.name = "redis.type",
              .type = config_type::string,
              .default_value = "STREAM",
              .importance = importance_level::high,
              .doc = "How records are written: STRING (SET), HASH (HSET), STREAM (XADD), LIST "
                     "(RPUSH of the record key), SET (SADD of the record key), ZSET (ZADD of "
                     "the record key with the value as score).",
              .group = g,
              .validate = api::one_of({"STRING", "HASH", "STREAM", "LIST", "SET", "ZSET"})});
    d.define({.name = "redis.keyspace",
              .type = config_type::string,
              .default_value = "${topic}",
              .importance = importance_level::medium,
              .doc = "Key prefix (STRING, HASH) or key (collections, STREAM); ${topic} is "
                     "replaced by the record's topic. Empty: the record key alone.",
              .group = g});
    d.define({.name = "redis.separator",
              .type = config_type::string,
              .default_value = ":",
              .importance = importance_level::low,
              .doc = "Between keyspace and record key.",
              .group = g});
    d.define({.name = "redis.key.ttl",
              .type = config_type::long_,
              .default_value = "-1",
              .importance = importance_level::medium,
              .doc = "Seconds to live for written keys, set atomically with the write; -1: none.",
              .group = g,
              .validate = [](const std::string& v) -> std::optional<std::string> {
                auto n = api::parse_long(v);
                if (n && *n != -1 && *n <= 0) return "must be -1 or a positive number of seconds";
                return std::nullopt;
              }});
    d.define({.name = "redis.multiexec",
              .type = config_type::boolean,
              .default_value = "false",
              .importance = importance_level::low,
              .doc = "Wrap each batch in MULTI/EXEC so it applies all at once.",
              .group = g});
    return d;
  }();
  return def;
}

redis_sink_config redis_sink_config::parse(const api::config_map& config) {
  api::parsed_config pc(redis_sink_config_def(), config);
  redis_sink_config c;
  c.endpoint = endpoint_from(pc);
  auto type = pc.get_string("redis.type");
  std::transform(type.begin(), type.end(), type.begin(),
                 [](unsigned char ch) { return std::toupper(ch); });
  if (type == "STRING")
    c.type = sink_type::string;
  else if (type == "HASH")
    c.type = sink_type::hash;
  else if (type == "STREAM")
    c.type = sink_type::stream;
  else if (type == "LIST")
    c.type = sink_type::list;
  else if (type == "SET")
    c.type = sink_type::set;
  else if (type == "ZSET")
    c.type = sink_type::zset;
  else
    throw api::config_error("Unknown redis.type " + type);
  c.keyspace = pc.get_string("redis.keyspace");
  c.separator = pc.get_string("redis.separator");
  c.ttl_seconds = pc.get_long("redis.key.ttl");
  c.multiexec = pc.get_bool("redis.multiexec");
  return c;
}

}  // namespace ferry::redis
