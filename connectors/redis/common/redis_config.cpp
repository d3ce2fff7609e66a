#include "common/redis_config.hpp"

#include <stdexcept>

#include "ferry/api/errors.hpp"
#include "ferry/clients/redis_connection.hpp"

namespace ferry::redis {

using api::config_type;
using api::importance_level;

void define_connection_keys(api::config_def& def) {
  const std::string g = "Redis connection";
  def.define({.name = "redis.uri",
              .type = config_type::string,
              .default_value = "",
              .importance = importance_level::high,
              .doc = "Redis URI, redis://[[user]:password@]host[:port][/database], or rediss:// "
                     "for TLS. Wins over redis.host and redis.port.",
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
  def.define({.name = "redis.cluster",
              .type = config_type::boolean,
              .default_value = "false",
              .importance = importance_level::medium,
              .doc = "Connect to a Redis Cluster; redis.uri or redis.host/redis.port is one of "
                     "its nodes.",
              .group = g});
  def.define({.name = "redis.tls",
              .type = config_type::boolean,
              .default_value = "false",
              .importance = importance_level::medium,
              .doc = "Use TLS (a rediss:// URI does too). The server's certificate is verified "
                     "against redis.cacert, or the system's trusted CAs when that is empty, and "
                     "must name the host connected to.",
              .group = g});
  def.define({.name = "redis.insecure",
              .type = config_type::boolean,
              .default_value = "false",
              .importance = importance_level::low,
              .doc = "Skip TLS peer verification (certificate chain and host name).",
              .group = g});
  def.define({.name = "redis.cacert",
              .type = config_type::string,
              .default_value = "",
              .importance = importance_level::low,
              .doc = "PEM file of the CA certificate(s) to trust for the server's certificate. "
                     "Empty: the system's trusted CAs.",
              .group = g});
  def.define({.name = "redis.key.cert",
              .type = config_type::string,
              .default_value = "",
              .importance = importance_level::low,
              .doc = "PEM file of the client certificate chain, for servers that require client "
                     "certificates (mutual TLS).",
              .group = g});
  def.define({.name = "redis.key.file",
              .type = config_type::string,
              .default_value = "",
              .importance = importance_level::low,
              .doc = "PEM file of the private key of redis.key.cert (PKCS#8 or traditional). "
                     "Empty: the key is read from redis.key.cert.",
              .group = g});
  def.define({.name = "redis.key.password",
              .type = config_type::password,
              .default_value = "",
              .importance = importance_level::low,
              .doc = "Password of redis.key.file, when it is encrypted.",
              .group = g});
}

namespace {

std::string get_string_or_empty(const api::parsed_config& config, const std::string& name) {
  return config.has(name) ? config.get_string(name) : std::string{};
}

// Loads the TLS files now, so a wrong one fails the start with the key to fix, not each connect.
void check_tls_files_of(const clients::redis_endpoint& ep) {
  using file = clients::redis_tls_file_error::file;
  try {
    clients::check_tls_files(ep);
  } catch (const clients::redis_tls_file_error& e) {
    auto key = e.which() == file::ca     ? "redis.cacert"
               : e.which() == file::cert ? "redis.key.cert"
                                         : "redis.key.file";
    throw api::config_error("Invalid value " + e.path() + " for configuration " + key + ": " +
                            e.what());
  }
}

}  // namespace

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
  // A rediss:// URI (or its verifyPeer=false) turns TLS (or verification) on or off by itself.
  if (config.has("redis.tls") && config.get_bool("redis.tls")) ep.tls.enabled = true;
  if (config.has("redis.insecure") && config.get_bool("redis.insecure")) ep.tls.insecure = true;
  ep.tls.ca_file = get_string_or_empty(config, "redis.cacert");
  ep.tls.cert_file = get_string_or_empty(config, "redis.key.cert");
  ep.tls.key_file = get_string_or_empty(config, "redis.key.file");
  ep.tls.key_password = get_string_or_empty(config, "redis.key.password");
  if (ep.tls.enabled) check_tls_files_of(ep);
  return ep;
}

}  // namespace ferry::redis
