#pragma once

#include <string>
#include <vector>

#include "ferry/api/config_def.hpp"
#include "ferry/api/plugin_registry.hpp"
#include "ferry/core/config_providers.hpp"
#include "ferry/core/worker_config.hpp"

namespace ferry::core {

// Keys every connector accepts (Kafka's ConnectorConfig / SinkConnectorConfig).
const api::config_def& common_connector_def(api::connector_type type);

// Validates a connector config against the common keys and the plugin's own definition.
// Returns the per-key results (Kafka's ConfigInfos "configs") plus cross-key errors, already
// attached to the key they concern. `worker` (may be null) adds the checks that depend on the
// worker (exactly.once.support=required).
std::vector<api::config_value> validate_connector_config(const api::connector_plugin& plugin,
                                                         const api::config_map& config,
                                                         const worker_config* worker = nullptr);

// The config read through `def` (which must outlive the result) after every declared key was
// validated; throws api::config_error listing each bad key's message.
api::parsed_config parse_checked(const api::config_def& def, const api::config_map& config);

// Registers the secrets of a connector (or task) config with the log (log::add_global_secrets),
// so that no later log line, REST error message, status trace or validation error shows them:
// the values of the keys `plugin`'s definition (with the common and transform keys) types as
// PASSWORD, and of every key named like one of Kafka's password-type keys (log::is_secret_key:
// "*password*", "*secret*", "*jaas.config", ...; the only rule when `plugin` is null). A value
// that holds a config-provider reference is left out (the resolved value is the secret: see
// register_resolved_secrets). Configs are still stored and read back as written.
void register_config_secrets(const api::connector_plugin* plugin, const api::config_map& config);
// What config providers resolved for the secret keys of a config (as above), registered the
// same way; resolved values of other keys (a user name, a host) are not secrets.
void register_resolved_secrets(const api::connector_plugin* plugin,
                               const resolved_config& resolved);

// "Connector configuration is invalid and contains the following N error(s): ..." or empty.
std::string describe_errors(const std::vector<api::config_value>& values);

// The ConfigInfos JSON of PUT /connector-plugins/{p}/config/validate. The config is validated
// resolved; values that came from a config-provider reference are shown as the reference, and
// error messages never quote a resolved value.
json config_infos(const api::connector_plugin& plugin, const api::config_map& raw,
                  const resolved_config& resolved, const worker_config* worker = nullptr);

}  // namespace ferry::core
