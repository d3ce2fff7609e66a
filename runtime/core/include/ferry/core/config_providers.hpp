#pragma once

#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "ferry/api/config_def.hpp"
#include "ferry/core/log.hpp"

namespace ferry::core {

// A source of configuration values (Kafka's ConfigProvider, KIP-297): given a path (a file, a
// directory; empty for env) and the keys wanted, the values it has. Keys it lacks are left out.
// Throws api::config_error when the path cannot be read or is not allowed.
class config_provider {
 public:
  virtual ~config_provider() = default;
  virtual std::map<std::string, std::string> get(const std::string& path,
                                                 const std::set<std::string>& keys) const = 0;
};

// A config with its references resolved. `secrets` pairs each value a reference produced with the
// reference text, so errors and log lines can show "${file:/etc/ferry/redis.properties:password}"
// instead of the password.
struct resolved_config {
  api::config_map values;
  log::redactions secrets;  // (resolved value, reference)

  // `text` with every resolved value of 3 characters or more replaced by its reference, then
  // log::hide_secrets (the registered secrets and URI passwords as "[hidden]").
  std::string redact(const std::string& text) const;
};

// The worker's config providers: `config.providers=file,env` with
// `config.providers.<alias>.class` and `config.providers.<alias>.param.<key>`, as in Kafka.
// Values reference them as ${alias:path:key} or ${alias:key}. A reference to an alias that is not
// configured, or to a key the provider does not have, stays as written (Kafka's rule).
// Configs are stored and shown raw; they are resolved only where they are used (connector and
// task start, validation). Immutable after construction; used from any thread.
class config_providers {
 public:
  config_providers() = default;
  // Kafka's class names: org.apache.kafka.common.config.provider.{FileConfigProvider,
  // DirectoryConfigProvider,EnvVarConfigProvider}. Throws api::config_error listing problems.
  static std::shared_ptr<const config_providers> from_worker_properties(
      const api::config_map& props);

  void add(const std::string& alias, std::unique_ptr<config_provider> provider);
  bool empty() const { return providers_.empty(); }

  // Throws api::config_error naming the reference (never the value) when a provider fails.
  resolved_config resolve(const api::config_map& raw) const;

  // True when the value contains a ${...:...} reference (any alias, configured or not).
  static bool has_reference(const std::string& value);

  // Task configs generated from a resolved connector config carry resolved values; puts the
  // references back for every key whose raw connector value had one (Kafka's reverse transform),
  // so task configs can be stored and shown like connector configs.
  static void restore_references(const api::config_map& raw_connector_config,
                                 std::vector<api::config_map>& task_configs);

 private:
  std::map<std::string, std::unique_ptr<config_provider>> providers_;
};

// Kafka's three providers.
std::unique_ptr<config_provider> make_file_config_provider(
    const std::map<std::string, std::string>& params);
std::unique_ptr<config_provider> make_directory_config_provider(
    const std::map<std::string, std::string>& params);
std::unique_ptr<config_provider> make_env_config_provider(
    const std::map<std::string, std::string>& params);

}  // namespace ferry::core
