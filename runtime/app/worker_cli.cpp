#include "worker_cli.hpp"

#include <stdexcept>

#include "ferry/api/json.hpp"
#include "ferry/core/properties.hpp"
#include "ferry/storage/atomic_file.hpp"

namespace ferry::app {

const char* usage_text() {
  return R"HELP(NAME
    ferry-worker - a Kafka Connect compatible worker for Redis <-> Kafka connectors

SYNOPSIS
    ferry-worker standalone WORKER.properties [CONNECTOR.properties|CONNECTOR.json ...]
    ferry-worker dev [WORKER.properties] [CONNECTOR.properties|CONNECTOR.json ...]
    ferry-worker distributed WORKER.properties
    ferry-worker hash-password < PASSWORD
    ferry-worker --help | -h | --version

DESCRIPTION
    ferry-worker runs connectors that move data between Redis and Kafka. It reads Kafka
    Connect's worker settings and serves Kafka Connect's REST API, and accepts
    redis-kafka-connect's connector classes and keys, so existing configs and curl scripts
    keep working.

MODES
    standalone  One worker. Source offsets are kept in offset.storage.file.filename;
                connector configs and target states in config.storage.file.filename
                (default: <offset file>.connectors.json), so connectors created over REST
                come back after a restart. Connector files given on the command line are
                created or updated at start.

    dev         The same, with an embedded development Kafka broker (librdkafka's mock
                cluster, memory only); bootstrap.servers is set to it and printed on standard
                output as "bootstrap.servers=HOST:PORT". Without a worker file nothing is
                written to disk. For demos and tests, never for data you want to keep.

    distributed One worker of a cluster: every worker with the same group.id shares the
                connectors and tasks and takes over the work of a worker that dies.
                Connector configs, source offsets and statuses live in Kafka topics in Kafka
                Connect's format (config.storage.topic, offset.storage.topic,
                status.storage.topic; created when missing if the brokers allow it);
                membership comes from Kafka's group coordinator through slots.storage.topic
                (default <group.id>-slots). Connectors are managed over REST on any worker.

    hash-password
                Reads one password on standard input and prints the salted PBKDF2-SHA256
                hash to put after "user:" in rest.basic.auth.credentials.file.

OPTIONS
    -h, --help  Print this text and exit 0.
    --version   Print the version and exit 0.
    Everything else is set in WORKER.properties (Java properties: key=value lines, # comments).

WORKER SETTINGS (the most used; Kafka Connect's names unless marked ferry)
    bootstrap.servers              Kafka brokers (default localhost:9092).
    listeners                      REST listeners, http://HOST:PORT and https://HOST:PORT
                                   (default http://127.0.0.1:8083).
    offset.storage.file.filename   standalone: the source offset file (required).
    offset.flush.interval.ms       how often offsets are committed (default 60000).
    task.shutdown.graceful.timeout.ms
                                   how long a task may take to stop (default 5000).
    key.converter, value.converter default converters (JsonConverter).
    producer.*, consumer.*, admin.*
                                   passed to librdkafka for the tasks' clients; e.g.
                                   producer.statistics.interval.ms=10000 and
                                   consumer.statistics.interval.ms=10000 export librdkafka's
                                   statistics in GET /metrics.
    connector.client.config.override.policy
                                   which client settings connectors may override with
                                   producer.override.*, consumer.override.* and
                                   admin.override.*: All (default), None, Principal or
                                   Allowlist (connector.client.config.override.allowlist).
    rest.basic.auth.credentials.file
                                   turns on HTTP basic authentication (all but /health).
    listeners.https.ssl.*, ssl.*   TLS of https listeners (PKCS12 or PEM keystores).
    plugin.path                    directories scanned for plug-in *.so files.
    config.providers               ${file:..}, ${env:..}, ${directory:..} references (KIP-297).
    log.format                     ferry: "text" (default) or "json": one JSON object per line
                                   with time, level, logger, connector, task, message.
    group.id, config.storage.topic, offset.storage.topic, status.storage.topic
                                   distributed mode (required there).
    Unknown keys are logged and ignored, as Kafka Connect does; bad values stop the worker
    with exit status 2 and one message naming every bad key.

REST API
    Kafka Connect's paths on the listeners: /connectors, /connector-plugins,
    /admin/loggers, ... (GET /openapi.json lists them all). ferry adds:
    GET /health   200 {"status":"healthy",...} once started, the herder answers and Kafka is
                  reachable; 503 while starting, while the herder is busy (over 2 s) or
                  when Kafka cannot be reached; 500 when the herder is stuck (10 s). The
                  body's "checks" says which.
    GET /metrics  Prometheus text: worker, task, error, Redis client and librdkafka metrics.

FILES
    WORKER.properties           the worker's settings (a package installs
                                /etc/ferry/worker.properties).
    CONNECTOR.properties|.json  a connector: key=value lines, a flat JSON map, or Kafka
                                Connect's {"name":..,"config":{..}}.
    offset.storage.file.filename, config.storage.file.filename
                                standalone state, rewritten atomically (temp file, fsync,
                                rename). JSON, readable.
    rest.basic.auth.credentials.file
                                user:<hash> lines (see hash-password); a plain-text password
                                stops the worker.
    plugin.path/**/*.so         plug-ins loaded at start.

LOGS
    Every line goes to standard error: "TIME LEVEL [logger] message (connector=.. task=..)",
    or JSON lines with log.format=json. Levels change at runtime with
    PUT /admin/loggers/{name}. Secrets never appear: values of *password*/*secret* settings,
    values resolved by config providers and passwords in URIs print as [hidden] or as their
    ${provider:...} reference.

SIGNALS
    SIGTERM, SIGINT
                Stop: the REST listeners close, every connector and task stops (each waits at
                most task.shutdown.graceful.timeout.ms), delivered records' offsets are
                committed, and the worker exits 0. Further signals during the stop are
                ignored; SIGKILL ends it at once (at-least-once delivery: nothing is lost,
                some records may be delivered again).
    SIGPIPE     Ignored.

EXIT STATUS
    0   clean stop after SIGTERM/SIGINT; --help, --version, hash-password.
    1   the worker failed at run time (e.g. a listener port in use, Kafka topics of
        distributed mode that cannot be used).
    2   bad command line or configuration (the message names every bad key).

ENVIRONMENT
    ferry-worker reads no environment variable of its own. With config.providers set to
    org.apache.kafka.common.config.provider.EnvVarConfigProvider, ${env:NAME} references in
    worker and connector settings read the environment (config.providers.<alias>.param
    .allowlist.pattern limits which variables).

EXAMPLES
    ferry-worker dev
    ferry-worker standalone /etc/ferry/worker.properties /etc/ferry/orders-source.properties
    echo 's3cret' | ferry-worker hash-password
    curl -s http://127.0.0.1:8083/health

SEE ALSO
    ferry-kafka-dev(1) --help; README.md and the module READMEs for every setting.
)HELP";
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
