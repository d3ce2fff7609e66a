// The composition root of ferry-worker: the one place where configuration, stores, plug-ins,
// the herder and the REST server are created and wired together. main.cpp calls it; the test
// suite's worker calls it too, adding its instrumented test connectors.
#include <csignal>
#include <cstdio>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cluster.hpp"
#include "ferry/api/errors.hpp"
#include "ferry/clients/dev_broker.hpp"
#include "ferry/clients/kafka_probe.hpp"
#include "ferry/core/config_providers.hpp"
#include "ferry/core/log.hpp"
#include "ferry/core/properties.hpp"
#include "ferry/core/standalone_herder.hpp"
#include "ferry/core/worker_config.hpp"
#include "ferry/redis/register.hpp"
#include "ferry/rest/admin_routes.hpp"
#include "ferry/rest/basic_auth.hpp"
#include "ferry/rest/connect_routes.hpp"
#include "ferry/rest/http_server.hpp"
#include "ferry/rest/router.hpp"
#include "ferry/rest/tls_context.hpp"
#include "ferry/rest/ui_routes.hpp"
#include "ferry/storage/config_store.hpp"
#include "ferry/storage/offset_store.hpp"
#include "ferry/storage/status_store.hpp"
#include "plugin_loader.hpp"
#include "stop_signals.hpp"
#include "worker_cli.hpp"
#include "worker_main.hpp"

#ifndef FERRY_VERSION
#define FERRY_VERSION "0.0.0"
#endif

namespace {

constexpr const char* k_log = "main";
constexpr int k_exit_failure = 1;
constexpr int k_exit_usage = 2;

int run(const ferry::app::cli_options& cli, const sigset_t& signals,
        const ferry::app::plugin_hook& extra_plugins) {
  using namespace ferry;
  api::config_map props;
  if (!cli.worker_properties.empty()) {
    try {
      props = core::load_properties_file(cli.worker_properties);
    } catch (const std::runtime_error& e) {
      throw api::config_error(e.what());
    }
  }

  // Worker settings may reference the config providers they define, as in Kafka.
  auto providers = core::config_providers::from_worker_properties(props);
  auto resolved = providers->resolve(props);
  props = std::move(resolved.values);
  // Before anything else is logged: the line format, and the worker's own secrets (its ssl.*,
  // sasl.* passwords and any value a provider resolved), hidden from every line.
  if (auto it = props.find("log.format"); it != props.end()) {
    log::format f;
    if (log::parse_format(it->second, f)) log::set_format(f);
  }
  std::vector<std::string> secrets;
  for (const auto& [k, v] : props) {
    if (log::is_secret_key(k)) secrets.push_back(v);
  }
  for (const auto& [value, reference] : resolved.secrets) secrets.push_back(value);
  log::add_global_secrets(secrets);

  std::unique_ptr<clients::dev_broker> broker;
  if (cli.mode == "dev") {
    broker = std::make_unique<clients::dev_broker>(clients::dev_broker_options{});
    props["bootstrap.servers"] = broker->bootstrap_servers();
    // The mock cluster hands a group's partitions to a new member only after the previous
    // member's session timed out, even when it left cleanly: keep restarts quick.
    props.try_emplace("consumer.session.timeout.ms", "6000");
    log::info(k_log, "Embedded development Kafka broker at ", broker->bootstrap_servers());
    std::printf("bootstrap.servers=%s\n", broker->bootstrap_servers().c_str());
    std::fflush(stdout);
  }
  bool distributed = cli.mode == "distributed";
  auto config = std::make_shared<const core::worker_config>(
      core::worker_config::parse(props, /*standalone=*/!distributed));
  for (const auto& k : config->unknown_keys) {
    log::warn(k_log, "The worker setting ", k, " was supplied but isn't a known config");
  }
  if (cli.mode == "standalone" && config->offset_file.empty()) {
    throw ferry::api::config_error(
        "Invalid worker configuration:\n  - offset.storage.file.filename must be set in "
        "standalone mode");
  }

  api::plugin_registry registry;
  redis::register_redis_connectors(registry);
  if (extra_plugins) extra_plugins(registry);
  // After the built-ins, so that a plug-in cannot take their names; before any task exists.
  app::load_plugins(config->plugin_path, registry);

  // Standalone: files and memory; distributed: Kafka topics and the group.
  std::unique_ptr<core::standalone_herder> standalone;
  std::unique_ptr<app::cluster> cluster;
  if (distributed) {
    cluster = std::make_unique<app::cluster>(config, providers, registry);
  } else {
    standalone = std::make_unique<core::standalone_herder>(
        registry, std::make_shared<storage::file_config_store>(config->config_file),
        core::task_environment{config,
                               std::make_shared<storage::file_offset_store>(config->offset_file),
                               std::make_shared<storage::memory_status_store>(), providers});
  }
  core::herder& herder = distributed ? static_cast<core::herder&>(cluster->herder()) : *standalone;

  std::unique_ptr<rest::basic_authenticator> auth;
  if (!config->credentials_file.empty()) {
    try {
      auth = std::make_unique<rest::basic_authenticator>(config->credentials_file);
    } catch (const std::runtime_error& e) {
      throw api::config_error(e.what());
    }
    log::info(k_log, "HTTP basic authentication on (", config->credentials_file, ")");
  }
  rest::router router;
  clients::kafka_probe kafka_probe(config->internal_config(), std::chrono::seconds(5));
  rest::add_connect_routes(router, herder, [&kafka_probe] { return kafka_probe.problem(); });
  rest::add_admin_routes(router);
  rest::add_ui_routes(router);
  rest::add_openapi_route(router, FERRY_VERSION);
  rest::http_handler handler = [&router, &auth](const rest::http_request& r) {
    // Every endpoint but /health needs credentials when authentication is on.
    if (auth && r.path != "/health" && !auth->check(r.authorization)) {
      auto resp = rest::http_response::error(401, "Authentication required");
      resp.headers.emplace_back("WWW-Authenticate", "Basic realm=\"ferry\"");
      return resp;
    }
    return router.handle(r);
  };
  // One server per listener; https listeners share one TLS context.
  rest::tls_context tls;
  std::vector<std::unique_ptr<rest::http_server>> servers;
  for (const auto& l : config->listeners) {
    if (l.scheme == "https" && !tls) {
      try {
        tls = rest::make_server_tls_context(config->https_ssl_settings());
      } catch (const std::runtime_error& e) {
        throw api::config_error("Invalid worker configuration:\n  - listener https://" + l.host +
                                ":" + std::to_string(l.port) + ": " + e.what());
      }
    }
    servers.push_back(std::make_unique<rest::http_server>(
        rest::http_server_options{.host = l.host,
                                  .port = l.port,
                                  .body_limit = config->rest_max_body_bytes,
                                  .io_threads = 2,
                                  .handler_threads = 8,
                                  .tls = l.scheme == "https" ? tls : nullptr},
        handler));
  }

  if (distributed) {
    cluster->start();
  } else {
    standalone->start();
  }
  std::string urls;
  for (std::size_t i = 0; i < servers.size(); ++i) {
    servers[i]->start();
    const auto& l = config->listeners[i];
    urls += (urls.empty() ? "" : ", ") + l.scheme + "://" + l.host + ":" +
            std::to_string(servers[i]->port());
  }
  log::info(k_log, "ferry-worker ", FERRY_VERSION, " (", cli.mode, ") REST API at ", urls,
            " as worker ", config->worker_id());

  for (const auto& path : cli.connector_files) {
    auto file = app::load_connector_file(path);
    auto result = herder.put_connector_config(file.name, file.config, true, std::nullopt);
    log::info(k_log, result.created ? "Created" : "Updated", " connector ", file.name, " from ",
              path);
  }

  int sig = app::wait_for_stop_signal(signals);
  log::info(k_log, "Received ", sig == SIGTERM ? "SIGTERM" : "SIGINT", "; stopping");
  for (auto& server : servers) server->stop();
  if (distributed) {
    cluster->stop();
  } else {
    standalone->stop();
  }
  log::info(k_log, "Stopped cleanly");
  return 0;
}

}  // namespace

namespace ferry::app {

int worker_main(int argc, char** argv, const plugin_hook& extra_plugins) {
  if (argc >= 2 && (std::string(argv[1]) == "--help" || std::string(argv[1]) == "-h")) {
    std::cout << ferry::app::usage_text();
    return 0;
  }
  if (argc >= 2 && std::string(argv[1]) == "hash-password") {
    // Reads the password from standard input (not the command line, which others can see).
    std::string password;
    std::getline(std::cin, password);
    if (password.empty()) {
      std::cerr << "ferry-worker hash-password: give the password on standard input\n";
      return k_exit_usage;
    }
    std::cout << rest::basic_authenticator::hash_password(password) << "\n";
    return 0;
  }
  if (argc >= 2 && std::string(argv[1]) == "--version") {
    std::cout << "ferry-worker " << FERRY_VERSION << "\n";
    return 0;
  }
  ferry::app::cli_options cli;
  try {
    cli = ferry::app::parse_cli(argc, argv);
  } catch (const std::invalid_argument& e) {
    std::cerr << "ferry-worker: " << e.what() << "\n\n" << ferry::app::usage_text();
    return k_exit_usage;
  }
  const sigset_t signals = ferry::app::block_stop_signals();
  try {
    return run(cli, signals, extra_plugins);
  } catch (const ferry::api::config_error& e) {
    ferry::log::error(k_log, e.what());
    return k_exit_usage;
  } catch (const std::exception& e) {
    ferry::log::error(k_log, "Worker failed: ", e.what());
    return k_exit_failure;
  }
}

}  // namespace ferry::app
