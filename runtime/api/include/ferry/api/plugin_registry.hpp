#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "ferry/api/connector.hpp"

namespace ferry::api {

enum class connector_type { source, sink };
std::string to_string(connector_type t);  // "source" / "sink"

// Everything the runtime needs to know about one connector class.
struct connector_plugin {
  std::string class_name;
  std::vector<std::string> aliases;
  connector_type type = connector_type::source;
  std::string version;
  std::function<config_def()> config;
  std::function<std::unique_ptr<connector>()> make_connector;
  std::function<std::unique_ptr<source_task>()> make_source_task;  // sources only
  std::function<std::unique_ptr<sink_task>()> make_sink_task;      // sinks only
};

// The set of known connector classes. Built once at start-up by explicit registration calls
// (register_redis_connectors(registry)), then only read, from any thread.
class plugin_registry {
 public:
  // Throws std::logic_error when a name or alias is already taken.
  void add(connector_plugin plugin);

  // Accepts the class name, an alias, the simple class name, or the simple name without its
  // "Connector" suffix, as Kafka Connect does.
  const connector_plugin* find(const std::string& name) const;

  const std::vector<connector_plugin>& plugins() const { return plugins_; }

  // The versions of the converter, transformation and predicate classes that external plug-ins
  // added (connectors carry theirs in connector_plugin::version). Start-up only.
  void set_class_version(const std::string& class_name, std::string version);
  // That version, or nullptr for a class no plug-in gave one (a built-in: ferry's version).
  const std::string* class_version(const std::string& class_name) const;

 private:
  std::vector<connector_plugin> plugins_;
  std::map<std::string, std::string> class_versions_;
};

}  // namespace ferry::api
