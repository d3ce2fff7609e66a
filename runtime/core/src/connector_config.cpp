#include "ferry/core/connector_config.hpp"

#include <map>
#include <optional>

#include "ferry/api/errors.hpp"
#include "ferry/core/auto_restart.hpp"
#include "ferry/core/converters.hpp"
#include "ferry/core/error_handling.hpp"
#include "ferry/core/log.hpp"
#include "ferry/core/source_connector_config.hpp"
#include "ferry/transforms/chain.hpp"

namespace ferry::core {

using api::config_type;
using api::importance_level;

namespace {

api::config_def make_common(api::connector_type type) {
  api::config_def d;
  d.define({.name = "name",
            .type = config_type::string,
            .default_value = std::nullopt,
            .importance = importance_level::high,
            .doc = "Globally unique name of the connector.",
            .validate = api::non_empty()});
  d.define({.name = "connector.class",
            .type = config_type::string,
            .default_value = std::nullopt,
            .importance = importance_level::high,
            .doc = "Class name or alias of the connector (e.g. ferry.redis.RedisSinkConnector)."});
  d.define({.name = "tasks.max",
            .type = config_type::int_,
            .default_value = "1",
            .importance = importance_level::high,
            .doc = "Maximum number of tasks.",
            .validate = api::at_least(1)});
  auto converter_check = [](const std::string& v) -> std::optional<std::string> {
    if (v.empty() || is_known_converter(v)) return std::nullopt;
    return "Class " + v + " could not be found.";
  };
  d.define({.name = "key.converter",
            .type = config_type::class_,
            .importance = importance_level::low,
            .doc = "Key converter for this connector; the worker's when not set (or empty).",
            .validate = converter_check,
            .default_null = true});  // Kafka's default null
  d.define({.name = "value.converter",
            .type = config_type::class_,
            .importance = importance_level::low,
            .doc = "Value converter for this connector; the worker's when not set (or empty).",
            .validate = converter_check,
            .default_null = true});  // Kafka's default null
  d.define({.name = "header.converter",
            .type = config_type::class_,
            .importance = importance_level::low,
            .doc = "Header converter for this connector.",
            .default_null = true});
  error_policy::define_keys(d, type == api::connector_type::sink);
  restart_policy::define_keys(d);
  if (type == api::connector_type::source) define_source_keys(d);
  if (type == api::connector_type::sink) {
    d.define({.name = "topics",
              .type = config_type::list,
              .default_value = "",
              .importance = importance_level::high,
              .doc = "Topics to consume."});
    d.define({.name = "topics.regex",
              .type = config_type::string,
              .default_value = "",
              .importance = importance_level::high,
              .doc = "Regular expression of topics to consume."});
  }
  return d;
}

// The Kafka clients a connector's tasks use, whose overrides are validated (Kafka's
// connectorUses{Producer,Consumer,Admin}): a sink's consumer, and its producer and admin client
// when it has a dead letter queue; a source's producer, and its admin client when it creates
// topics or has its own offsets topic.
std::vector<client_kind> clients_used(api::connector_type type, const api::config_map& config) {
  auto set = [&](const std::string& key) {
    auto it = config.find(key);
    return it != config.end() && !api::trim(it->second).empty();
  };
  if (type == api::connector_type::sink) {
    if (set("errors.deadletterqueue.topic.name")) {
      return {client_kind::producer, client_kind::consumer, client_kind::admin};
    }
    return {client_kind::consumer};
  }
  auto creation = config.lower_bound("topic.creation.");
  if ((creation != config.end() && creation->first.starts_with("topic.creation.")) ||
      set("offsets.storage.topic")) {
    return {client_kind::producer, client_kind::admin};
  }
  return {client_kind::producer};
}

}  // namespace

const api::config_def& common_connector_def(api::connector_type type) {
  static const api::config_def source = make_common(api::connector_type::source);
  static const api::config_def sink = make_common(api::connector_type::sink);
  return type == api::connector_type::sink ? sink : source;
}

std::vector<api::config_value> validate_connector_config(const api::connector_plugin& plugin,
                                                         const api::config_map& config,
                                                         const worker_config* worker) {
  api::config_def def = common_connector_def(plugin.type);
  if (plugin.config) def.merge(plugin.config());
  auto values = def.validate(config);
  for (auto& v : transforms::validate_transforms(config)) values.push_back(std::move(v));
  if (plugin.type == api::connector_type::source) validate_source_keys(values, config, worker);
  if (worker) {
    for (auto kind : clients_used(plugin.type, config)) {
      for (auto& v : worker->check_overrides(config, kind)) values.push_back(std::move(v));
    }
  }
  if (plugin.type == api::connector_type::sink) {
    auto topics = api::split_list(config.count("topics") ? config.at("topics") : "");
    bool regex = config.count("topics.regex") && !api::trim(config.at("topics.regex")).empty();
    for (auto& v : values) {
      if (v.name == "topics" && topics.empty() && !regex) {
        v.errors.push_back("Must configure one of topics or topics.regex");
      }
      if (v.name == "topics.regex" && !topics.empty() && regex) {
        v.errors.push_back(
            "topics and topics.regex are mutually exclusive options, but both are "
            "set.");
      }
    }
  }
  return values;
}

void register_config_secrets(const api::connector_plugin* plugin, const api::config_map& config) {
  std::vector<std::string> secrets;
  std::optional<api::config_def> def;
  if (plugin) {
    def = common_connector_def(plugin->type);
    if (plugin->config) def->merge(plugin->config());
    def->merge(transforms::transforms_config_def(config));
  }
  for (const auto& [key, value] : config) {
    if (value.empty() || config_providers::has_reference(value)) continue;
    const auto* k = def ? def->find(key) : nullptr;
    if ((k && k->type == config_type::password) || log::is_secret_key(key)) {
      secrets.push_back(value);
    }
  }
  if (!secrets.empty()) log::add_global_secrets(secrets);
}

void register_resolved_secrets(const api::connector_plugin* plugin,
                               const resolved_config& resolved) {
  // Only what secret keys resolved to: a provider also fills plain settings (a user name, a
  // host), and hiding those everywhere would hide any word they share (e.g. a path). The task's
  // own lines and errors show every resolved value as its reference (resolved_config::redact).
  register_config_secrets(plugin, resolved.values);
}

api::parsed_config parse_checked(const api::config_def& def, const api::config_map& config) {
  std::string errors;
  for (const auto& v : def.validate(config)) {
    for (const auto& e : v.errors) errors += (errors.empty() ? "" : "; ") + e;
  }
  if (!errors.empty()) throw api::config_error(errors);
  return api::parsed_config(def, config);
}

std::string describe_errors(const std::vector<api::config_value>& values) {
  std::size_t n = 0;
  std::string list;
  for (const auto& v : values) {
    for (const auto& e : v.errors) {
      ++n;
      list += "\n" + e;
    }
  }
  if (n == 0) return {};
  return "Connector configuration is invalid and contains the following " + std::to_string(n) +
         " error(s):" + list +
         "\nYou can also find the above list of errors at the endpoint "
         "`/connector-plugins/{connectorType}/config/validate`";
}

json config_infos(const api::connector_plugin& plugin, const api::config_map& raw,
                  const resolved_config& resolved, const worker_config* worker) {
  api::config_def def = common_connector_def(plugin.type);
  if (plugin.config) def.merge(plugin.config());
  def.merge(transforms::transforms_config_def(resolved.values));
  auto values = validate_connector_config(plugin, resolved.values, worker);
  for (auto& v : values) {
    auto it = raw.find(v.name);
    bool hidden = v.value && *v.value == "[hidden]";  // password keys stay hidden
    if (it != raw.end() && !hidden && config_providers::has_reference(it->second)) {
      v.value = it->second;
    }
    for (auto& e : v.errors) e = resolved.redact(e);
  }
  std::map<std::string, json> definitions;
  for (auto& d : def.describe()) {
    auto name = d["name"].get<std::string>();
    definitions[name] = std::move(d);
  }
  json configs = json::array();
  json groups = json::array();
  for (const auto& v : values) {
    auto d = definitions.find(v.name);
    // Client overrides (consumer.override.* ...) are the only keys without a definition here:
    // Kafka shows the client's own definition of the setting, which ferry does not have.
    const bool override_key = d == definitions.end();
    json value = json::object();
    value["name"] = v.name;
    if (override_key && v.value && log::is_secret_key(v.name)) {
      value["value"] = "[hidden]";  // a password-type client setting, e.g. sasl.jaas.config
    } else {
      value["value"] = v.value ? json(*v.value) : json(nullptr);
    }
    value["recommended_values"] = json::array();
    value["errors"] = v.errors;
    value["visible"] = true;
    if (override_key) {
      configs.push_back({{"definition", nullptr}, {"value", std::move(value)}});
      continue;
    }
    configs.push_back({{"definition", d->second}, {"value", std::move(value)}});
    const auto& g = d->second["group"];
    if (std::find(groups.begin(), groups.end(), g) == groups.end()) groups.push_back(g);
  }
  json out = json::object();
  out["name"] = plugin.class_name;
  out["error_count"] = api::config_def::error_count(values);
  out["groups"] = std::move(groups);
  out["configs"] = std::move(configs);
  return out;
}

}  // namespace ferry::core
