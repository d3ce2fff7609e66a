#include "ferry/api/plugin_registry.hpp"

#include <algorithm>
#include <stdexcept>

namespace ferry::api {

std::string to_string(connector_type t) {
  return t == connector_type::source ? "source" : "sink";
}

namespace {

std::string simple_name(const std::string& class_name) {
  auto dot = class_name.rfind('.');
  return dot == std::string::npos ? class_name : class_name.substr(dot + 1);
}

bool matches(const std::string& candidate, const std::string& name) {
  if (candidate == name) return true;
  auto simple = simple_name(candidate);
  if (simple == name) return true;
  const std::string suffix = "Connector";
  return simple.size() > suffix.size() && simple.ends_with(suffix) &&
         simple.substr(0, simple.size() - suffix.size()) == name;
}

}  // namespace

void plugin_registry::add(connector_plugin plugin) {
  std::vector<std::string> names = plugin.aliases;
  names.push_back(plugin.class_name);
  for (const auto& existing : plugins_) {
    for (const auto& n : names) {
      if (n == existing.class_name || std::find(existing.aliases.begin(), existing.aliases.end(),
                                                n) != existing.aliases.end()) {
        throw std::logic_error("connector plugin registered twice: " + n);
      }
    }
  }
  plugins_.push_back(std::move(plugin));
}

const connector_plugin* plugin_registry::find(const std::string& name) const {
  for (const auto& p : plugins_) {
    if (p.class_name == name) return &p;
    for (const auto& a : p.aliases) {
      if (a == name) return &p;
    }
  }
  for (const auto& p : plugins_) {
    if (matches(p.class_name, name)) return &p;
  }
  return nullptr;
}

void plugin_registry::set_class_version(const std::string& class_name, std::string version) {
  class_versions_[class_name] = std::move(version);
}

const std::string* plugin_registry::class_version(const std::string& class_name) const {
  auto it = class_versions_.find(class_name);
  return it == class_versions_.end() ? nullptr : &it->second;
}

}  // namespace ferry::api
