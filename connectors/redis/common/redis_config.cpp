#include "common/redis_config.hpp"

#include <stdexcept>

#include "ferry/api/errors.hpp"

namespace ferry::redis {

using api::config_type;
using api::importance_level;

void define_connection_keys(api::config_def& def) {
  const std::string g = "Redis connection";
  def.define({.name = "redis.uri",
              .type = config_type::string,
              .default_value = "",
              .importance = importance_level::high,
              .doc = "Redis URI, redis://[[user]:password@]host[:port][/database]. Wins over "
                     "redis.host and redis.port.",
              .group = g,
              .validate = [](const std::string& v) -> std::optional<std::string> {
                if (v.empty()) return std::nullopt;
                try {
                  clients::redis_endpoint::parse_uri(v);
                } catch (const std::invalid_argument& e) {
                  return e.what();
                }
                return std::nullopt;
              }});
  def.define({.name = "redis.host",
              .type = config_type::string,
              .default_value = "localhost",
              .importance = importance_level::high,
              .doc = "Redis host, when redis.uri is empty.",
              .group = g});
  def.define({.name = "redis.port",
              .type = config_type::int_,
              .default_value = "6379",
              .importance = importance_level::high,
              .doc = "Redis port, when redis.uri is empty.",
              .group = g,
              .validate = api::in_range(1, 65535)});
  def.define({.name = "redis.username",
              .type = config_type::string,
              .default_value = "",
              .importance = importance_level::medium,
              .doc = "ACL user name.",
              .group = g});
  def.define({.name = "redis.password",
              .type = config_type::password,
              .default_value = "",
              .importance = importance_level::medium,
              .doc = "Password.",
              .group = g});
  def.define({.name = "redis.database",
              .type = config_type::int_,
              .default_value = "0",
              .importance = importance_level::medium,
              .doc = "Database number.",
              .group = g,
              .validate = api::at_least(0)});
  def.define({.name = "redis.timeout",
              .type = config_type::long_,
              .default_value = "60",
              .importance = importance_level::low,
              .doc = "Command and connect timeout in seconds.",
              .group = g,
              .validate = api::at_least(1)});
  auto not_yet = [](const std::string& what) {
    return [what](const std::string& v) -> std::optional<std::string> {
      if (api::parse_bool(v).value_or(false)) return what + " is not supported by this version";
      return std::nullopt;
    };
  };
  def.define({.name = "redis.cluster",
              .type = config_type::boolean,
              .default_value = "false",
              .importance = importance_level::medium,
              .doc = "Connect to a Redis Cluster.",
              .group = g,
              .validate = not_yet("Redis Cluster")});
  def.define({.name = "redis.tls",
              .type = config_type::boolean,
              .default_value = "false",
              .importance = importance_level::medium,
              .doc = "Use TLS.",
              .group = g,
              .validate = not_yet("TLS")});
  def.define({.name = "redis.insecure",
              .type = config_type::boolean,
              .default_value = "false",
              .importance = importance_level::low,
              .doc = "Skip TLS peer verification.",
              .group = g});
}

clients::redis_endpoint endpoint_from(const api::parsed_config& config) {
  clients::redis_endpoint ep;
  auto uri = config.get_string("redis.uri");
  if (!uri.empty()) {
    try {
      ep = clients::redis_endpoint::parse_uri(uri);
    } catch (const std::invalid_argument& e) {
      throw api::config_error(e.what());
    }
  } else {
    ep.host = config.get_string("redis.host");
    ep.port = config.get_int("redis.port");
  }
  if (config.has("redis.username") && !config.get_string("redis.username").empty()) {
    ep.username = config.get_string("redis.username");
  }
  if (config.has("redis.password") && !config.get_string("redis.password").empty()) {
    ep.password = config.get_string("redis.password");
  }
  if (config.has("redis.database")) ep.database = config.get_int("redis.database");
  if (config.has("redis.timeout"))
    ep.timeout = std::chrono::seconds(config.get_long("redis.timeout"));
  if (config.has("redis.cluster")) ep.cluster = config.get_bool("redis.cluster");
  return ep;
}

}  // namespace ferry::redis
