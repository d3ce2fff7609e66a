#include "ferry/core/source_connector_config.hpp"

#include <algorithm>
#include <set>

#include "ferry/api/errors.hpp"

namespace ferry::core {

using api::config_type;
using api::importance_level;

namespace {

constexpr const char* k_prefix = "topic.creation.";
// Keys of a topic creation group that are not topic configs.
const std::set<std::string> k_group_keys = {"include", "exclude", "partitions",
                                            "replication.factor"};

std::string group_key(const std::string& group, const std::string& key) {
  return std::string(k_prefix) + group + "." + key;
}

// "" when the value is -1 (the broker's default) or a positive count within `max`.
std::optional<std::string> count_error(const std::string& key, const std::string& value,
                                       const char* what, std::int64_t max) {
  auto n = api::parse_long(api::trim(value));
  if (n && (*n == -1 || (*n >= 1 && *n <= max))) return std::nullopt;
  return "Invalid value " + value + " for configuration " + key + ": " + what +
         " must be a positive number (at most " + std::to_string(max) +
         "), or -1 to use the broker's default";
}

std::optional<std::string> regex_error(const std::string& key, const std::string& value) {
  for (const auto& pattern : api::split_list(value)) {
    try {
      std::regex re(pattern);
    } catch (const std::regex_error& e) {
      return "Invalid value " + value + " for configuration " + key + ": '" + pattern +
             "' is not a valid regular expression (" + e.what() + ")";
    }
  }
  return std::nullopt;
}

std::optional<std::string> lookup(const api::config_map& config, const std::string& key) {
  auto it = config.find(key);
  if (it == config.end()) return std::nullopt;
  return it->second;
}

// The group names topic.creation.<group>.* keys mention, in the order of topic.creation.groups.
std::vector<std::string> listed_groups(const api::config_map& config) {
  std::vector<std::string> out;
  for (auto& g : api::split_list(lookup(config, "topic.creation.groups").value_or(""))) {
    if (std::find(out.begin(), out.end(), g) == out.end()) out.push_back(g);
  }
  return out;
}

}  // namespace

void define_source_keys(api::config_def& d) {
  d.define({.name = "exactly.once.support",
            .type = config_type::string,
            .default_value = "requested",
            .importance = importance_level::medium,
            .doc = "requested: the connector runs exactly-once when the worker has "
                   "exactly.once.source.support=enabled; required: creating it fails unless the "
                   "worker has it (KIP-618).",
            .group = "Exactly Once Support",
            .validate = api::one_of({"requested", "required"})});
  d.define({.name = "transaction.boundary",
            .type = config_type::string,
            .default_value = "poll",
            .importance = importance_level::medium,
            .doc = "With exactly-once: poll commits one transaction per poll() batch; interval "
                   "one every transaction.boundary.interval.ms. connector is refused: ferry's "
                   "connectors do not define transaction boundaries.",
            .group = "Exactly Once Support",
            .validate = api::one_of({"poll", "interval", "connector"})});
  d.define({.name = "transaction.boundary.interval.ms",
            .type = config_type::long_,
            .default_value = "-1",
            .importance = importance_level::low,
            .doc = "Transaction length with transaction.boundary=interval; -1: the worker's "
                   "offset.flush.interval.ms.",
            .group = "Exactly Once Support",
            .validate = api::at_least(-1)});
  d.define({.name = "offsets.storage.topic",
            .type = config_type::string,
            .default_value = "",
            .importance = importance_level::low,
            .doc = "With exactly-once: the connector's own offsets topic (created compacted when "
                   "missing); offsets are read there first, then in the worker's topic. Empty: "
                   "the worker's offset.storage.topic.",
            .group = "Exactly Once Support"});
  d.define({.name = "topic.creation.groups",
            .type = config_type::list,
            .default_value = "",
            .importance = importance_level::low,
            .doc = "Topic creation groups besides 'default', in the order topics are matched: "
                   "each has topic.creation.<group>.include / .exclude (regular expressions), "
                   ".partitions, .replication.factor and any topic config.",
            .group = "Topic Creation"});
  d.define({.name = "topic.creation.default.partitions",
            .type = config_type::string,
            .default_value = "",
            .importance = importance_level::low,
            .doc = "Partitions of topics the connector creates (-1: the broker's default). Topic "
                   "creation needs this and topic.creation.default.replication.factor.",
            .group = "Topic Creation"});
  d.define({.name = "topic.creation.default.replication.factor",
            .type = config_type::string,
            .default_value = "",
            .importance = importance_level::low,
            .doc = "Replication factor of topics the connector creates (-1: the broker's "
                   "default).",
            .group = "Topic Creation"});
}

void validate_source_keys(std::vector<api::config_value>& values, const api::config_map& config,
                          const worker_config* worker) {
  auto entry = [&](const std::string& key) -> api::config_value& {
    for (auto& v : values)
      if (v.name == key) return v;
    values.push_back({.name = key, .value = lookup(config, key), .errors = {}});
    return values.back();
  };
  auto value_of = [&](const std::string& key) {
    return api::trim(lookup(config, key).value_or(""));
  };

  if (worker && value_of("exactly.once.support") == "required" &&
      worker->exactly_once_source != "enabled") {
    entry("exactly.once.support")
        .errors.push_back(
            worker->standalone
                ? "This worker does not have exactly-once source support enabled: a standalone "
                  "worker never has it (as in Kafka Connect), because its offsets live in a file "
                  "that cannot be written in a Kafka transaction. Run the connector on a "
                  "distributed worker with exactly.once.source.support=enabled, or set "
                  "exactly.once.support=requested"
                : "This worker does not have exactly-once source support enabled: set "
                  "exactly.once.source.support=enabled in the worker config of every worker in "
                  "the cluster, or set exactly.once.support=requested");
  }
  if (value_of("transaction.boundary") == "connector") {
    entry("transaction.boundary")
        .errors.push_back(
            "The connector does not support connector-defined transaction boundaries with the "
            "given configuration; use transaction.boundary=poll or interval");
  }

  // Topic creation: the default group's two counts, then every group's keys.
  auto partitions = value_of("topic.creation.default.partitions");
  auto replication = value_of("topic.creation.default.replication.factor");
  if (!partitions.empty()) {
    if (auto e = count_error("topic.creation.default.partitions", partitions, "the partition count",
                             1 << 20))
      entry("topic.creation.default.partitions").errors.push_back(*e);
  }
  if (!replication.empty()) {
    if (auto e = count_error("topic.creation.default.replication.factor", replication,
                             "the replication factor", 32767))
      entry("topic.creation.default.replication.factor").errors.push_back(*e);
  }
  auto groups = listed_groups(config);
  bool any_creation_key = !groups.empty();
  for (const auto& [key, value] : config) {
    if (!key.starts_with(k_prefix) || key == "topic.creation.groups") continue;
    any_creation_key = true;
  }
  if (any_creation_key && (partitions.empty() || replication.empty())) {
    for (const char* key :
         {"topic.creation.default.partitions", "topic.creation.default.replication.factor"}) {
      if (value_of(key).empty()) {
        entry(key).errors.push_back(std::string(key) +
                                    " must be set: topic creation needs both "
                                    "topic.creation.default.partitions and "
                                    "topic.creation.default.replication.factor");
      }
    }
  }
  for (const auto& g : groups) {
    if (g == "default") {
      entry("topic.creation.groups")
          .errors.push_back(
              "topic.creation.groups must not list 'default': the default group always exists "
              "and takes every topic no listed group takes");
      continue;
    }
    for (const char* k : {"include", "exclude"}) {
      auto key = group_key(g, k);
      if (auto v = lookup(config, key)) {
        if (auto e = regex_error(key, *v)) entry(key).errors.push_back(*e);
      }
    }
    if (auto v = lookup(config, group_key(g, "partitions"))) {
      auto key = group_key(g, "partitions");
      if (auto e = count_error(key, *v, "the partition count", 1 << 20))
        entry(key).errors.push_back(*e);
    }
    if (auto v = lookup(config, group_key(g, "replication.factor"))) {
      auto key = group_key(g, "replication.factor");
      if (auto e = count_error(key, *v, "the replication factor", 32767))
        entry(key).errors.push_back(*e);
    }
  }
}

exactly_once_settings exactly_once_settings::from(const api::config_map& connector_config,
                                                  const worker_config& worker,
                                                  const std::string& connector, int task) {
  exactly_once_settings s;
  s.enabled = !worker.standalone && worker.exactly_once_source == "enabled";
  auto boundary = api::trim(lookup(connector_config, "transaction.boundary").value_or("poll"));
  if (boundary == "interval") {
    s.boundary = transaction_boundary::interval;
  } else if (boundary != "poll" && !boundary.empty()) {
    throw api::config_error("transaction.boundary=" + boundary +
                            " is not supported; use poll or interval");
  }
  s.interval = worker.offset_flush_interval;
  if (auto v = lookup(connector_config, "transaction.boundary.interval.ms")) {
    auto ms = api::parse_long(api::trim(*v));
    if (!ms || *ms < -1) {
      throw api::config_error("Invalid value " + *v +
                              " for configuration transaction.boundary.interval.ms");
    }
    if (*ms >= 0) s.interval = std::chrono::milliseconds(*ms);
  }
  s.transactional_id = worker.distributed.group_id + "-" + connector + "-" + std::to_string(task);
  s.offsets_topic = api::trim(lookup(connector_config, "offsets.storage.topic").value_or(""));
  if (s.offsets_topic.empty()) s.offsets_topic = worker.distributed.offset_topic;
  return s;
}

bool topic_creation_rules::group::matches(const std::string& topic) const {
  auto hit = [&](const std::vector<std::regex>& res) {
    return std::any_of(res.begin(), res.end(),
                       [&](const std::regex& re) { return std::regex_match(topic, re); });
  };
  return hit(include) && !hit(exclude);  // exclude wins, as in Kafka Connect
}

topic_creation_rules topic_creation_rules::from(const api::config_map& config,
                                                bool worker_enabled) {
  std::vector<api::config_value> values;
  validate_source_keys(values, config, nullptr);
  std::string errors;
  for (const auto& v : values)
    for (const auto& e : v.errors) errors += (errors.empty() ? "" : "; ") + e;
  if (!errors.empty()) throw api::config_error(errors);

  topic_creation_rules rules;
  auto partitions = api::trim(lookup(config, "topic.creation.default.partitions").value_or(""));
  auto replication =
      api::trim(lookup(config, "topic.creation.default.replication.factor").value_or(""));
  rules.enabled_ = worker_enabled && !partitions.empty() && !replication.empty();
  if (!rules.enabled_) return rules;

  group def{.name = "default",
            .include = {std::regex(".*")},
            .exclude = {},
            .partitions = static_cast<int>(*api::parse_long(partitions)),
            .replication_factor = static_cast<int>(*api::parse_long(replication)),
            .configs = {}};
  auto read_group = [&](const std::string& name, group& g) {
    for (const auto& [key, value] : config) {
      std::string head = std::string(k_prefix) + name + ".";
      if (!key.starts_with(head)) continue;
      auto rest = key.substr(head.size());
      if (rest == "include" || rest == "exclude") {
        auto& list = rest == "include" ? g.include : g.exclude;
        if (name == "default") continue;  // the default group takes whatever is left
        for (const auto& p : api::split_list(value)) list.emplace_back(p);
      } else if (rest == "partitions") {
        g.partitions = static_cast<int>(*api::parse_long(api::trim(value)));
      } else if (rest == "replication.factor") {
        g.replication_factor = static_cast<int>(*api::parse_long(api::trim(value)));
      } else if (!k_group_keys.count(rest)) {
        g.configs[rest] = value;  // any other key is a topic config (cleanup.policy, ...)
      }
    }
  };
  read_group("default", def);
  for (const auto& name : listed_groups(config)) {
    group g{.name = name,
            .include = {},
            .exclude = {},
            .partitions = def.partitions,
            .replication_factor = def.replication_factor,
            .configs = {}};
    read_group(name, g);
    rules.groups_.push_back(std::move(g));
  }
  rules.groups_.push_back(std::move(def));
  return rules;
}

const topic_creation_rules::group* topic_creation_rules::group_for(const std::string& topic) const {
  if (!enabled_) return nullptr;
  for (const auto& g : groups_)
    if (g.matches(topic)) return &g;
  return &groups_.back();  // default
}

std::optional<clients::topic_spec> topic_creation_rules::spec_for(const std::string& topic) const {
  const auto* g = group_for(topic);
  if (!g) return std::nullopt;
  return clients::topic_spec{.name = topic,
                             .partitions = g->partitions,
                             .replication_factor = g->replication_factor,
                             .configs = g->configs};
}

}  // namespace ferry::core
