#include "ferry/transforms/chain.hpp"

#include <algorithm>
#include <set>

#include "ferry/api/errors.hpp"

namespace ferry::transforms {

namespace {

constexpr std::string_view transforms_key = "transforms";
constexpr std::string_view predicates_key = "predicates";

std::vector<std::string> aliases_of(const api::config_map& config, std::string_view key) {
  auto it = config.find(std::string(key));
  return it == config.end() ? std::vector<std::string>{} : api::split_list(it->second);
}

std::vector<std::string> unique(std::vector<std::string> aliases) {
  std::vector<std::string> out;
  for (auto& a : aliases) {
    if (std::find(out.begin(), out.end(), a) == out.end()) out.push_back(std::move(a));
  }
  return out;
}

api::validator no_duplicates() {
  return [](const std::string& v) -> std::optional<std::string> {
    auto list = api::split_list(v);
    if (std::set<std::string>(list.begin(), list.end()).size() != list.size()) {
      return "Duplicate alias provided.";
    }
    return std::nullopt;
  };
}

api::validator plugin_class(plugin_kind kind) {
  return [kind](const std::string& v) -> std::optional<std::string> {
    const auto* p = find_plugin(v);
    if (!p) return "Class " + api::trim(v) + " could not be found.";
    if (p->kind != kind) {
      return kind == plugin_kind::transformation ? "Not a Transformation" : "Not a Predicate";
    }
    return std::nullopt;
  };
}

// The plugin a `<prefix>type` key names, when it names one of the right kind.
const plugin_info* plugin_for(const api::config_map& config, const std::string& prefix,
                              plugin_kind kind) {
  auto it = config.find(prefix + "type");
  if (it == config.end()) return nullptr;
  const auto* p = find_plugin(it->second);
  return p && p->kind == kind ? p : nullptr;
}

void embed(api::config_def& def, const api::config_def& plugin_def, const std::string& prefix,
           const std::string& group) {
  for (auto key : plugin_def.keys()) {
    key.name = prefix + key.name;
    key.group = group;
    if (!def.find(key.name)) def.define(std::move(key));
  }
}

// transforms.<a>.* / predicates.<p>.* without the prefix and the chain's own keys.
api::config_map plugin_settings(const api::config_map& config, const std::string& prefix,
                                std::initializer_list<std::string_view> reserved) {
  api::config_map out;
  for (auto it = config.lower_bound(prefix); it != config.end(); ++it) {
    if (it->first.compare(0, prefix.size(), prefix) != 0) break;
    auto key = it->first.substr(prefix.size());
    if (std::find(reserved.begin(), reserved.end(), key) != reserved.end()) continue;
    out.emplace(std::move(key), it->second);
  }
  return out;
}

std::string transform_prefix(const std::string& alias) {
  return "transforms." + alias + ".";
}
std::string predicate_prefix(const std::string& alias) {
  return "predicates." + alias + ".";
}

std::unique_ptr<transformation> build_transformation(const plugin_info& p,
                                                     const api::config_map& config,
                                                     const std::string& alias) {
  auto prefix = transform_prefix(alias);
  plugin_config pc(p.config, plugin_settings(config, prefix, {"type", "predicate", "negate"}),
                   prefix);
  return p.make_transformation(pc);
}

std::unique_ptr<predicate> build_predicate(const plugin_info& p, const api::config_map& config,
                                           const std::string& alias) {
  auto prefix = predicate_prefix(alias);
  plugin_config pc(p.config, plugin_settings(config, prefix, {"type"}), prefix);
  return p.make_predicate(pc);
}

}  // namespace

api::config_def transforms_config_def(const api::config_map& config) {
  api::config_def def;
  def.define({.name = std::string(transforms_key),
              .type = api::config_type::list,
              .default_value = "",
              .importance = api::importance_level::low,
              .doc = "Aliases for the transformations to be applied to records.",
              .group = "Transforms",
              .validate = no_duplicates(),
              .display_name = "Transforms"});
  def.define({.name = std::string(predicates_key),
              .type = api::config_type::list,
              .default_value = "",
              .importance = api::importance_level::low,
              .doc = "Aliases for the predicates used by transformations.",
              .group = "Predicates",
              .validate = no_duplicates(),
              .display_name = "Predicates"});

  auto predicate_aliases = unique(aliases_of(config, predicates_key));
  for (const auto& alias : unique(aliases_of(config, transforms_key))) {
    auto prefix = transform_prefix(alias);
    auto group = "Transforms: " + alias;
    def.define({.name = prefix + "type",
                .type = api::config_type::class_,
                .default_value = std::nullopt,
                .importance = api::importance_level::high,
                .doc = "Class for the '" + alias + "' transformation.",
                .group = group,
                .validate = plugin_class(plugin_kind::transformation),
                .display_name = "Transformation type for " + alias});
    def.define(
        {.name = prefix + "predicate",
         .type = api::config_type::string,
         .default_value = "",
         .importance = api::importance_level::medium,
         .doc = "The alias of a predicate used to determine whether to apply this "
                "transformation.",
         .group = group,
         .validate = [predicate_aliases](const std::string& v) -> std::optional<std::string> {
           auto name = api::trim(v);
           if (name.empty() || std::find(predicate_aliases.begin(), predicate_aliases.end(),
                                         name) != predicate_aliases.end()) {
             return std::nullopt;
           }
           return "No predicate with alias '" + name + "' is listed in predicates";
         },
         .display_name = "Predicate for " + alias});
    def.define({.name = prefix + "negate",
                .type = api::config_type::boolean,
                .default_value = "false",
                .importance = api::importance_level::medium,
                .doc = "Whether the configured predicate should be negated.",
                .group = group,
                .display_name = "Negate predicate for " + alias});
    if (const auto* p = plugin_for(config, prefix, plugin_kind::transformation)) {
      embed(def, p->config, prefix, group);
    }
  }
  for (const auto& alias : predicate_aliases) {
    auto prefix = predicate_prefix(alias);
    auto group = "Predicates: " + alias;
    def.define({.name = prefix + "type",
                .type = api::config_type::class_,
                .default_value = std::nullopt,
                .importance = api::importance_level::high,
                .doc = "Class for the '" + alias + "' predicate.",
                .group = group,
                .validate = plugin_class(plugin_kind::predicate),
                .display_name = "Predicate type for " + alias});
    if (const auto* p = plugin_for(config, prefix, plugin_kind::predicate)) {
      embed(def, p->config, prefix, group);
    }
  }
  return def;
}

std::vector<api::config_value> validate_transforms(const api::config_map& config) {
  auto def = transforms_config_def(config);
  auto values = def.validate(config);
  auto errors_under = [&](const std::string& prefix) {
    return std::any_of(values.begin(), values.end(), [&](const api::config_value& v) {
      return !v.errors.empty() && v.name.compare(0, prefix.size(), prefix) == 0;
    });
  };
  auto add_error = [&](const std::string& name, std::string message) {
    for (auto& v : values) {
      if (v.name == name) v.errors.push_back(std::move(message));
    }
  };
  // What a plugin refuses only when built (settings that depend on each other).
  auto try_build = [&](const std::string& prefix, auto&& build) {
    if (errors_under(prefix)) return;
    try {
      build();
    } catch (const std::exception& e) {
      add_error(prefix + "type", e.what());
    }
  };
  for (const auto& alias : unique(aliases_of(config, transforms_key))) {
    auto prefix = transform_prefix(alias);
    if (const auto* p = plugin_for(config, prefix, plugin_kind::transformation)) {
      try_build(prefix, [&] { build_transformation(*p, config, alias); });
    }
  }
  for (const auto& alias : unique(aliases_of(config, predicates_key))) {
    auto prefix = predicate_prefix(alias);
    if (const auto* p = plugin_for(config, prefix, plugin_kind::predicate)) {
      try_build(prefix, [&] { build_predicate(*p, config, alias); });
    }
  }
  return values;
}

transform_chain transform_chain::from_config(const api::config_map& config) {
  auto values = transforms_config_def(config).validate(config);
  for (const auto& v : values) {
    if (!v.errors.empty()) throw api::config_error(v.errors.front());
  }

  transform_chain chain;
  std::map<std::string, std::shared_ptr<const predicate>> by_alias;
  for (const auto& alias : aliases_of(config, predicates_key)) {
    auto prefix = predicate_prefix(alias);
    const auto* p = plugin_for(config, prefix, plugin_kind::predicate);
    std::shared_ptr<const predicate> built = build_predicate(*p, config, alias);
    by_alias[alias] = built;
    chain.predicates_.push_back(std::move(built));
  }
  for (const auto& alias : aliases_of(config, transforms_key)) {
    auto prefix = transform_prefix(alias);
    const auto* p = plugin_for(config, prefix, plugin_kind::transformation);
    stage s;
    s.alias = alias;
    s.class_name = p->class_name;
    s.transform = build_transformation(*p, config, alias);
    if (auto it = config.find(prefix + "predicate"); it != config.end()) {
      auto name = api::trim(it->second);
      if (!name.empty()) {
        s.condition = by_alias.at(name);
        auto negate = config.find(prefix + "negate");
        s.negate = negate != config.end() && api::parse_bool(negate->second).value_or(false);
      }
    }
    chain.stages_.push_back(std::move(s));
  }
  return chain;
}

bool transform_chain::apply_in_place(connect_record& record) {
  for (std::size_t i = 0; i < stages_.size(); ++i) {
    if (!apply_stage(i, record)) return false;
  }
  return true;
}

std::optional<connect_record> transform_chain::apply(connect_record record) {
  if (!apply_in_place(record)) return std::nullopt;
  return record;
}

std::vector<std::string> transform_chain::aliases() const {
  std::vector<std::string> out;
  out.reserve(stages_.size());
  for (const auto& s : stages_) out.push_back(s.alias);
  return out;
}

}  // namespace ferry::transforms
