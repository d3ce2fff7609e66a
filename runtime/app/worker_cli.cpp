#include "worker_cli.hpp"

#include <stdexcept>

#include "ferry/api/json.hpp"
#include "ferry/core/properties.hpp"
#include "ferry/storage/atomic_file.hpp"

namespace ferry::app {

const char* usage_text() {
  return R"(NAME
    ferry-worker - a Kafka Connect compatible worker for Redis <-> Kafka connectors

SYNOPSIS
    ferry-worker standalone WORKER.properties [CONNECTOR.properties|CONNECTOR.json ...]
    ferry-worker dev [WORKER.properties] [CONNECTOR.properties|CONNECTOR.json ...]
    ferry-worker distributed WORKER.properties
    ferry-worker hash-password < PASSWORD
    ferry-worker --help | --version

DESCRIPTION
    standalone  Runs one worker. Worker settings use Kafka Connect's key names
                (bootstrap.servers, listeners, offset.storage.file.filename,
                offset.flush.interval.ms, key.converter, value.converter, producer.*,
                consumer.*). Source offsets are kept in offset.storage.file.filename;
                connector configs and target states in config.storage.file.filename
                (default: <offset file>.connectors.json), so connectors created over REST
                come back after a restart. Connector files given on the command line are
                created or updated at start.
    dev         The same, with an embedded development Kafka broker (librdkafka's mock
                cluster, memory only); bootstrap.servers is set to it and printed.
                Without a worker file, nothing is written to disk.

    distributed One worker of a cluster: every worker with the same group.id shares the
                connectors and tasks, and takes over the work of a worker that dies.
                Connector configs, source offsets and statuses live in Kafka topics,
                in Kafka Connect's format (config.storage.topic, offset.storage.topic,
                status.storage.topic, created when missing if the brokers allow it);
                membership comes from Kafka's group coordinator through the slot topic
                slots.storage.topic (default <group.id>-slots, 64 partitions).
                Connectors are managed over REST on any worker.

    hash-password  Reads a password on standard input and prints the hash to put after
                "user:" in the file named by rest.basic.auth.credentials.file.

    The REST API (Kafka Connect's) listens on `listeners` (default http://127.0.0.1:8083).
    With rest.basic.auth.credentials.file set, every endpoint but /health needs HTTP basic
    credentials (401 otherwise).
    SIGTERM or SIGINT stops every task, commits what was delivered, and exits.

EXIT STATUS
    0 after a clean shutdown, 2 on bad arguments or configuration, 1 on other failures.
)";
}

cli_options parse_cli(int argc, char** argv) {
  cli_options o;
  if (argc < 2) throw std::invalid_argument("missing mode (standalone, distributed or dev)");
  o.mode = argv[1];
  if (o.mode != "standalone" && o.mode != "dev" && o.mode != "distributed") {
    throw std::invalid_argument("unknown mode '" + o.mode +
                                "' (expected standalone, distributed or dev)");
  }
  int i = 2;
  if (o.mode == "distributed") {
    if (argc != 3)
      throw std::invalid_argument("distributed needs exactly a WORKER.properties file");
    o.worker_properties = argv[i++];
  } else if (o.mode == "standalone") {
    if (argc < 3) throw std::invalid_argument("standalone needs a WORKER.properties file");
    o.worker_properties = argv[i++];
  } else if (i < argc && std::string(argv[i]).ends_with(".properties")) {
    // dev: an optional worker file first; connector files may be .properties too, so only the
    // first argument is taken as the worker file.
    o.worker_properties = argv[i++];
  }
  for (; i < argc; ++i) o.connector_files.push_back(argv[i]);
  return o;
}

connector_file load_connector_file(const std::string& path) {
  connector_file f;
  if (path.ends_with(".json")) {
    auto text = storage::read_file(path);
    if (!text) throw std::runtime_error("Connector file " + path + " does not exist");
    json doc;
    try {
      doc = json::parse(*text);
    } catch (const json::parse_error& e) {
      throw std::runtime_error("Connector file " + path + " is not valid JSON: " + e.what());
    }
    if (!doc.is_object()) throw std::runtime_error("Connector file " + path + " is not an object");
    const json* config = &doc;
    if (doc.contains("config") && doc["config"].is_object()) {
      config = &doc["config"];
      if (doc.contains("name") && doc["name"].is_string()) f.name = doc["name"];
    }
    for (const auto& [k, v] : config->items()) {
      if (auto value = api::config_text(v)) {
        f.config[k] = *value;
      } else {
        throw std::runtime_error("Connector file " + path + ": value of " + k +
                                 " must be a string");
      }
    }
  } else {
    f.config = core::load_properties_file(path);
  }
  if (f.name.empty() && f.config.count("name")) f.name = f.config["name"];
  if (f.name.empty()) throw std::runtime_error("Connector file " + path + " has no name");
  return f;
}

}  // namespace ferry::app
