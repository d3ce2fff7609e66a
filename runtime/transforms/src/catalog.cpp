#include <algorithm>
#include <map>
#include <stdexcept>

#include "ferry/api/errors.hpp"
#include "plugins.hpp"

namespace ferry::transforms {

plugin_config::plugin_config(const api::config_def& def, api::config_map values, std::string prefix)
    : parsed_(def, std::move(values)), prefix_(std::move(prefix)) {}

void plugin_config::fail(const std::string& key, const std::string& value,
                         const std::string& message) const {
  throw api::config_error("Invalid value " + value + " for configuration " + prefix_ + key + ": " +
                          message);
}

void plugin_config::fail(const std::string& message) const {
  std::string alias = prefix_.empty() ? prefix_ : prefix_.substr(0, prefix_.size() - 1);
  throw api::config_error("Invalid configuration of " + alias + ": " + message);
}

namespace detail {

void add_transformation(std::vector<plugin_info>& out, const std::string& class_name,
                        std::string doc, api::config_def def,
                        std::function<std::unique_ptr<transformation>(const plugin_config&)> make) {
  plugin_info p;
  p.class_name = class_name;
  p.kind = plugin_kind::transformation;
  p.doc = std::move(doc);
  p.config = std::move(def);
  p.make_transformation = std::move(make);
  out.push_back(std::move(p));
}

void add_keyed_transformation(std::vector<plugin_info>& out, const std::string& base,
                              const std::string& doc, const api::config_def& def,
                              const keyed_factory& make) {
  add_transformation(out, base + "$Key", doc, def,
                     [make](const plugin_config& c) { return make(c, side::key); });
  add_transformation(out, base + "$Value", doc, def,
                     [make](const plugin_config& c) { return make(c, side::value); });
}

void add_predicate(std::vector<plugin_info>& out, const std::string& class_name, std::string doc,
                   api::config_def def,
                   std::function<std::unique_ptr<predicate>(const plugin_config&)> make) {
  plugin_info p;
  p.class_name = class_name;
  p.kind = plugin_kind::predicate;
  p.doc = std::move(doc);
  p.config = std::move(def);
  p.make_predicate = std::move(make);
  out.push_back(std::move(p));
}

api::validator non_empty_list() {
  return [](const std::string& v) -> std::optional<std::string> {
    if (api::split_list(v).empty()) return "Empty list";
    return std::nullopt;
  };
}

api::validator valid_regex() {
  return [](const std::string& v) -> std::optional<std::string> {
    try {
      compile_regex(v);
    } catch (const std::regex_error& e) {
      return std::string("Invalid regex: ") + e.what();
    }
    return std::nullopt;
  };
}

api::validator non_empty_string() {
  return [](const std::string& v) -> std::optional<std::string> {
    if (api::trim(v).empty()) return "String must be non-empty";
    return std::nullopt;
  };
}

api::config_key replace_null_with_default_key() {
  return {.name = "replace.null.with.default",
          .type = api::config_type::boolean,
          .default_value = "true",
          .importance = api::importance_level::medium,
          .doc =
              "Whether to replace fields that have a default value and that are null to the "
              "default value. When set to true, the default value is used, otherwise null is "
              "used."};
}

std::regex compile_regex(const std::string& pattern) {
  return std::regex(pattern, std::regex::ECMAScript | std::regex::optimize);
}

}  // namespace detail

namespace {

struct catalog_state {
  std::vector<plugin_info> plugins;  // class-name order
  std::map<std::string, const plugin_info*, std::less<>> by_name;
};

// Kafka Connect also accepts a plugin's simple class name when no other plugin shares it;
// nested $Key/$Value classes have none.
void index(catalog_state& state) {
  std::sort(state.plugins.begin(), state.plugins.end(),
            [](const plugin_info& a, const plugin_info& b) { return a.class_name < b.class_name; });
  state.by_name.clear();
  std::map<std::string, int> simple_count;
  for (const auto& p : state.plugins) {
    state.by_name[p.class_name] = &p;
    if (p.class_name.find('$') == std::string::npos) {
      ++simple_count[p.class_name.substr(p.class_name.rfind('.') + 1)];
    }
  }
  for (const auto& p : state.plugins) {
    if (p.class_name.find('$') != std::string::npos) continue;
    auto simple = p.class_name.substr(p.class_name.rfind('.') + 1);
    if (simple_count[simple] == 1) state.by_name.emplace(simple, &p);
  }
}

catalog_state& state() {
  static catalog_state all = [] {
    catalog_state s;
    detail::register_field_transforms(s.plugins);
    detail::register_value_transforms(s.plugins);
    detail::register_record_transforms(s.plugins);
    detail::register_time_transforms(s.plugins);
    detail::register_predicates(s.plugins);
    index(s);
    return s;
  }();
  return all;
}

}  // namespace

const std::vector<plugin_info>& catalog() {
  return state().plugins;
}

void register_plugin(plugin_info plugin) {
  const bool complete = plugin.kind == plugin_kind::transformation
                            ? plugin.make_transformation && !plugin.make_predicate
                            : plugin.make_predicate && !plugin.make_transformation;
  if (plugin.class_name.empty() || !complete) {
    throw std::logic_error("transformation/predicate plugin " + plugin.class_name +
                           " needs a class name and exactly the factory of its kind");
  }
  // A second class with a built-in's simple name would make that short name ambiguous.
  auto simple = [](const std::string& n) { return n.substr(n.rfind('.') + 1); };
  auto& s = state();
  for (const auto& p : s.plugins) {
    if (p.class_name == plugin.class_name || simple(p.class_name) == simple(plugin.class_name)) {
      throw std::logic_error("class " + plugin.class_name + " clashes with the registered class " +
                             p.class_name);
    }
  }
  s.plugins.push_back(std::move(plugin));
  index(s);
}

const plugin_info* find_plugin(const std::string& class_name) {
  const auto& by_name = state().by_name;
  auto it = by_name.find(api::trim(class_name));
  return it == by_name.end() ? nullptr : it->second;
}

}  // namespace ferry::transforms
