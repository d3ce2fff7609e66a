#pragma once

#include <string>
#include <vector>

#include "ferry/api/config_def.hpp"

namespace ferry::app {

struct cli_options {
  std::string mode;  // "standalone" or "dev"
  std::string worker_properties;
  std::vector<std::string> connector_files;
};

// Throws std::invalid_argument with a usage hint.
cli_options parse_cli(int argc, char** argv);
const char* usage_text();

// A connector file: .properties, a flat JSON map, or {"name":..,"config":{..}} (as Kafka
// Connect's standalone mode accepts). Throws std::runtime_error naming the file.
struct connector_file {
  std::string name;
  api::config_map config;
};
connector_file load_connector_file(const std::string& path);

}  // namespace ferry::app
