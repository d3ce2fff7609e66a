#include "sink/redis_sink_config.hpp"

#include <algorithm>
#include <cctype>

#include "common/redis_config.hpp"
#include "ferry/api/errors.hpp"
#include "sink/command_template.hpp"

namespace ferry::redis {

using api::config_type;
using api::importance_level;

namespace {

std::string upper(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::toupper(c); });
  return s;
}

// A redis.command without spaces or placeholders is redis-kafka-connect 0.9's command name.
bool is_legacy_command(const std::string& v) {
  return !v.empty() && v.find_first_of(" \t$") == std::string::npos;
}

struct legacy_command {
  const char* name;
  sink_type type;
  push_side push;
};

constexpr legacy_command legacy_commands[] = {
    {"SET", sink_type::string, push_side::right},   {"HSET", sink_type::hash, push_side::right},
    {"JSONSET", sink_type::json, push_side::right}, {"XADD", sink_type::stream, push_side::right},
    {"RPUSH", sink_type::list, push_side::right},   {"LPUSH", sink_type::list, push_side::left},
    {"SADD", sink_type::set, push_side::right},     {"ZADD", sink_type::zset, push_side::right}};

const legacy_command* find_legacy(const std::string& v) {
  auto u = upper(v);
  for (const auto& c : legacy_commands) {
    if (u == c.name) return &c;
  }
  return nullptr;
}

std::optional<sink_type> type_named(const std::string& v) {
  static const std::pair<const char*, sink_type> names[] = {
      {"STRING", sink_type::string}, {"HASH", sink_type::hash},      {"JSON", sink_type::json},
      {"STREAM", sink_type::stream}, {"LIST", sink_type::list},      {"SET", sink_type::set},
      {"ZSET", sink_type::zset},     {"PUBLISH", sink_type::publish}};
  auto u = upper(v);
  for (const auto& [name, type] : names) {
    if (u == name) return type;
  }
  return std::nullopt;
}

std::optional<std::string> check_type(const std::string& v) {
  if (type_named(v)) return std::nullopt;
  if (upper(v) == "TIMESERIES") return "TIMESERIES is not supported by ferry";
  return "'" + v + "' is not one of STRING, HASH, JSON, STREAM, LIST, SET, ZSET, PUBLISH";
}

std::optional<std::string> check_command(const std::string& v) {
  if (v.empty()) return std::nullopt;
  if (is_legacy_command(v)) {
    if (find_legacy(v)) return std::nullopt;
    return "'" + v +
           "' is neither a command template (GEOADD ${key} ...) nor one of SET, HSET, JSONSET, "
           "XADD, RPUSH, LPUSH, SADD, ZADD";
  }
  return command_template::check(v, true);
}

std::optional<std::string> check_delete_command(const std::string& v) {
  if (v.empty()) return std::nullopt;
  return command_template::check(v, true);
}

std::optional<std::string> check_key_template(const std::string& v) {
  return command_template::check(v, false);
}

std::optional<std::string> check_charset(const std::string& v) {
  auto u = upper(v);
  if (u == "UTF-8" || u == "UTF8" || u == "US-ASCII" || u == "ASCII") return std::nullopt;
  return "only UTF-8 is supported (ferry writes text as UTF-8 bytes)";
}

}  // namespace

const api::config_def& redis_sink_config_def() {
  static const api::config_def def = [] {
    api::config_def d;
    define_connection_keys(d);
    const std::string g = "Redis sink";
    d.define({.name = "redis.type",
              .type = config_type::string,
              .default_value = "STREAM",
              .importance = importance_level::high,
              .doc = "How records are written: STRING (SET), HASH (HSET of the value's fields), "
                     "JSON (JSON.SET key $), STREAM (XADD), LIST (RPUSH of the record key), SET "
                     "(SADD of the record key), ZSET (ZADD of the record key), PUBLISH (the "
                     "value to the channel redis.keyspace). A null value deletes: DEL for "
                     "STRING/HASH/JSON, LREM/SREM/ZREM of the record key for LIST/SET/ZSET.",
              .group = g,
              .validate = check_type});
    d.define({.name = "redis.keyspace",
              .type = config_type::string,
              .default_value = "${topic}",
              .importance = importance_level::medium,
              .doc = "Key prefix (STRING, HASH, JSON: prefix + separator + record key) or key "
                     "(STREAM, LIST, SET, ZSET) or channel (PUBLISH); ${topic}, ${key}, "
                     "${value.<field>}, ${header.<name>}, ${partition}, ${offset} are "
                     "replaced. Empty: the record key alone.",
              .group = g,
              .validate = check_key_template});
    d.define({.name = "redis.key",
              .type = config_type::string,
              .default_value = "",
              .importance = importance_level::low,
              .doc = "redis-kafka-connect 0.9's name of redis.keyspace (used when "
                     "redis.keyspace is not set).",
              .group = g,
              .validate = check_key_template});
    d.define({.name = "redis.separator",
              .type = config_type::string,
              .default_value = ":",
              .importance = importance_level::low,
              .doc = "Between keyspace and record key.",
              .group = g});
    d.define({.name = "redis.charset",
              .type = config_type::string,
              .default_value = "UTF-8",
              .importance = importance_level::low,
              .doc = "Encoding of keys and values; only UTF-8 (and its subset US-ASCII).",
              .group = g,
              .validate = check_charset});
    d.define({.name = "redis.command",
              .type = config_type::string,
              .default_value = "",
              .importance = importance_level::medium,
              .doc = "A command template, one command per record, e.g. GEOADD ${key} "
                     "${value.lon} ${value.lat} ${value.name} (redis.type is then not used). "
                     "A single command name is redis-kafka-connect 0.9's redis.command: SET, "
                     "HSET, JSONSET, XADD, RPUSH, LPUSH, SADD, ZADD.",
              .group = g,
              .validate = check_command});
    d.define({.name = "redis.command.delete",
              .type = config_type::string,
              .default_value = "",
              .importance = importance_level::low,
              .doc = "Command template run for a record with a null value when redis.command "
                     "is a template, e.g. HDEL ${topic} ${key}. Empty: such records are skipped.",
              .group = g,
              .validate = check_delete_command});
    d.define({.name = "redis.key.ttl",
              .type = config_type::long_,
              .default_value = "-1",
              .importance = importance_level::medium,
              .doc = "Seconds to live for written keys, set atomically with the write; -1: "
                     "none. A record's redis.key.ttl header, or its redis.key.ttl.field, wins.",
              .group = g,
              .validate = [](const std::string& v) -> std::optional<std::string> {
                auto n = api::parse_long(v);
                if (n && *n != -1 && *n <= 0) return "must be -1 or a positive number of seconds";
                return std::nullopt;
              }});
    d.define({.name = "redis.key.ttl.field",
              .type = config_type::string,
              .default_value = "",
              .importance = importance_level::low,
              .doc = "Value field holding a record's TTL in seconds (used when the record has "
                     "no redis.key.ttl header).",
              .group = g});
    d.define({.name = "redis.multiexec",
              .type = config_type::boolean,
              .default_value = "false",
              .importance = importance_level::low,
              .doc = "Wrap each batch in MULTI/EXEC so it applies all at once. With redis.cluster "
                     "each run of records for one key gets its own MULTI/EXEC.",
              .group = g});
    d.define({.name = "redis.exactly.once",
              .type = config_type::boolean,
              .default_value = "false",
              .importance = importance_level::medium,
              .doc = "Apply each batch's writes and the next offsets of its partitions in one "
                     "MULTI/EXEC, skipping records below the offsets stored in Redis, and resume "
                     "assigned partitions at the stored offsets: no duplicate writes after a "
                     "crash or a retry. Offset keys: ferry:offsets:{<name>}:<topic>:<partition>. "
                     "Single Redis server only (refused with redis.cluster).",
              .group = g});
    d.define({.name = "redis.wait.replicas",
              .type = config_type::int_,
              .default_value = "0",
              .importance = importance_level::medium,
              .doc = "After each batch, WAIT for this many replicas to acknowledge it; fewer is "
                     "a retriable error (the batch is written again). 0: no WAIT.",
              .group = g,
              .validate = api::at_least(0)});
    d.define({.name = "redis.wait.timeout",
              .type = config_type::long_,
              .default_value = "1000",
              .importance = importance_level::medium,
              .doc = "Milliseconds WAIT waits for the replicas (0, wait forever, is refused).",
              .group = g,
              .validate = api::at_least(1)});
    d.define({.name = "redis.zset.score.field",
              .type = config_type::string,
              .default_value = "",
              .importance = importance_level::low,
              .doc = "ZSET: value field holding the score. Empty: the value itself is the score.",
              .group = g});
    d.define({.name = "redis.stream.id.field",
              .type = config_type::string,
              .default_value = "",
              .importance = importance_level::low,
              .doc = "STREAM: value field holding the entry id to XADD. Empty: * (Redis picks).",
              .group = g});
    d.define({.name = "redis.stream.maxlen",
              .type = config_type::long_,
              .default_value = "0",
              .importance = importance_level::low,
              .doc = "STREAM: XADD with MAXLEN ~ this many entries. 0: no trimming.",
              .group = g,
              .validate = api::at_least(0)});
    return d;
  }();
  return def;
}

redis_sink_config redis_sink_config::parse(const api::config_map& config) {
  const auto& def = redis_sink_config_def();
  // Every key's error at once, in one message.
  std::string errors;
  for (const auto& v : def.validate(config)) {
    for (const auto& e : v.errors) errors += (errors.empty() ? "" : "; ") + v.name + ": " + e;
  }
  if (!errors.empty()) throw api::config_error("Invalid Redis sink config: " + errors);

  api::parsed_config pc(def, config);
  redis_sink_config c;
  c.endpoint = endpoint_from(pc);
  c.type = *type_named(pc.get_string("redis.type"));
  auto command = pc.get_string("redis.command");
  if (is_legacy_command(command)) {
    const auto* legacy = find_legacy(command);
    if (pc.has("redis.type") && c.type != legacy->type) {
      throw api::config_error("redis.command " + command + " and redis.type " +
                              pc.get_string("redis.type") + " disagree");
    }
    c.type = legacy->type;
    c.push = legacy->push;
  } else if (!command.empty()) {
    if (pc.has("redis.type")) {
      throw api::config_error(
          "redis.type and a redis.command template exclude each other; set one of them");
    }
    c.type = sink_type::command;
    c.command = command;
    command_template::parse(command, true, "redis.command");
  }
  c.delete_command = pc.get_string("redis.command.delete");
  if (!c.delete_command.empty() && c.type != sink_type::command) {
    throw api::config_error("redis.command.delete needs a redis.command template");
  }
  c.keyspace = pc.has("redis.keyspace") || !pc.has("redis.key") ? pc.get_string("redis.keyspace")
                                                                : pc.get_string("redis.key");
  c.separator = pc.get_string("redis.separator");
  c.ttl_seconds = pc.get_long("redis.key.ttl");
  c.ttl_field = pc.get_string("redis.key.ttl.field");
  c.multiexec = pc.get_bool("redis.multiexec");
  c.wait_replicas = pc.get_int("redis.wait.replicas");
  c.wait_timeout_ms = pc.get_long("redis.wait.timeout");
  c.zset_score_field = pc.get_string("redis.zset.score.field");
  c.stream_id_field = pc.get_string("redis.stream.id.field");
  c.stream_maxlen = pc.get_long("redis.stream.maxlen");
  c.exactly_once = pc.get_bool("redis.exactly.once");
  if (c.exactly_once) {
    if (c.endpoint.cluster) {
      throw api::config_error(
          "redis.exactly.once needs a single Redis server: a batch's writes and its offsets are "
          "one MULTI/EXEC, and on a Redis Cluster a transaction can only touch one hash slot "
          "while a batch's keys span many. Turn off redis.cluster or redis.exactly.once");
    }
    auto name = config.find("name");
    if (name == config.end() || name->second.empty()) {
      throw api::config_error(
          "redis.exactly.once needs the connector's name (config key `name`): it names the "
          "offset keys in Redis");
    }
    c.connector_name = name->second;
  }
  return c;
}

}  // namespace ferry::redis
