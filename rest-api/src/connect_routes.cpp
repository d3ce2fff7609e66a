#include "ferry/rest/connect_routes.hpp"

#include <cctype>
#include <chrono>
#include <future>
#include <memory>
#include <mutex>
#include <tuple>
#include <vector>

#include "ferry/api/config_def.hpp"
#include "ferry/core/errors.hpp"
#include "ferry/core/log.hpp"

namespace ferry::rest {

namespace {

using core::bad_request_error;

class unsupported_media_type : public core::herder_error {
 public:
  explicit unsupported_media_type(const std::string& m) : herder_error(415, m) {}
};

json parse_body(const http_request& req) {
  if (req.body.empty()) throw bad_request_error("Request body is empty; expected a JSON document");
  if (req.content_type.find("json") == std::string::npos) {
    throw unsupported_media_type(
        "HTTP 415 Unsupported Media Type: send the body with "
        "Content-Type: application/json (got '" +
        req.content_type + "')");
  }
  try {
    return json::parse(req.body);
  } catch (const json::exception& e) {  // parse_error, or out_of_range for a number like 1e309
    throw bad_request_error(std::string("Malformed JSON in request body: ") + e.what());
  }
}

// Kafka Connect configs are string maps; numbers and booleans are accepted and kept as text,
// as Jackson coerces them, anything else is refused with the key named.
api::config_map to_config_map(const json& j, const std::string& what) {
  if (!j.is_object()) throw bad_request_error(what + " must be a JSON object of strings");
  api::config_map out;
  for (const auto& [k, v] : j.items()) {
    if (auto text = api::config_text(v)) {
      out[k] = *text;
    } else if (v.is_null()) {
      throw bad_request_error("Value of configuration " + k + " must not be null");
    } else {
      throw bad_request_error("Value of configuration " + k + " must be a string, not " +
                              std::string(v.type_name()));
    }
  }
  return out;
}

// The connector's URL path, with the name percent-encoded as Kafka Connect's Location header has
// it.
std::string connector_location(const std::string& name) {
  static const char* hex = "0123456789ABCDEF";
  std::string out = "/connectors/";
  for (unsigned char c : name) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

int parse_task_id(const std::string& s) {
  auto v = api::parse_long(s);
  if (!v || *v < 0 || *v > INT32_MAX) throw core::not_found_error("Task " + s + " not found");
  return static_cast<int>(*v);
}

// Status traces and validation errors quote settings they failed on, e.g. a Redis URI: the
// registered secrets (log::hide_secrets: connector passwords, the worker's own) and the password
// of any `scheme://user:password@` in them are hidden (config reads still return the config as
// written, as Kafka Connect's do).
json hide_passwords(json doc) {
  if (doc.is_object()) {
    for (auto& [key, value] : doc.items()) {
      if ((key == "trace" || key == "message") && value.is_string()) {
        value = log::hide_secrets(value.get<std::string>());
      } else if (key == "errors" && value.is_array()) {
        for (auto& e : value) {
          if (e.is_string()) e = log::hide_secrets(e.get<std::string>());
        }
      } else if (key != "config") {  // a config (expand=info) is shown as written
        value = hide_passwords(std::move(value));
      }
    }
  } else if (doc.is_array()) {
    for (auto& e : doc) e = hide_passwords(std::move(e));
  }
  return doc;
}

// The herder half of GET /health: at most one no-op queued on the herder at a time; callers
// share its result ("" when it ran, else what the herder was stuck on after 10 s).
class single_check {
 public:
  std::pair<std::shared_future<std::string>, std::chrono::steady_clock::time_point> start(
      core::herder& h) {
    std::lock_guard lock(mutex_);
    if (!pending_.valid() ||
        pending_.wait_for(std::chrono::seconds(0)) == std::future_status::ready) {
      since_ = std::chrono::steady_clock::now();
      pending_ = std::async(std::launch::async, [&h]() -> std::string {
                   try {
                     h.check_responsive(std::chrono::seconds(10));
                     return "";
                   } catch (const core::request_timeout_error& e) {
                     return e.what();
                   }
                 }).share();
    }
    return {pending_, since_};
  }

 private:
  std::mutex mutex_;
  std::shared_future<std::string> pending_;
  std::chrono::steady_clock::time_point since_;
};

bool query_flag(const http_request& req, const std::string& name) {
  const auto* v = req.query_param(name);
  return v && api::parse_bool(*v).value_or(false);
}

}  // namespace

// What each route does, for GET /openapi.json; router::document() refuses a route that does
// not exist, and a unit test refuses a route without a summary.
void document_connect_routes(router& r) {
  const std::vector<std::tuple<const char*, const char*, router::route_doc>> docs = {
      {"GET", "/", {"Worker version, commit and Kafka cluster id", {}, 200}},
      {"GET",
       "/health",
       {"200 when started, the herder answers and Kafka is reachable; 503 while it starts or "
        "Kafka is unreachable; 500 when the herder is stuck",
        {},
        200}},
      {"GET", "/metrics", {"Prometheus metrics (text format 0.0.4)", {}, 200}},
      {"GET", "/connectors", {"Connector names, or details with ?expand", {"expand"}, 200}},
      {"POST", "/connectors", {"Create a connector: {name, config, initial_state}", {}, 201}},
      {"GET", "/connectors/{name}", {"Connector info: name, config, tasks, type", {}, 200}},
      {"DELETE", "/connectors/{name}", {"Delete a connector", {}, 204}},
      {"GET", "/connectors/{name}/config", {"The connector's config", {}, 200}},
      {"PUT", "/connectors/{name}/config", {"Create or replace the config (201 / 200)", {}, 200}},
      {"PATCH", "/connectors/{name}/config", {"Change keys; a null value removes one", {}, 200}},
      {"GET", "/connectors/{name}/offsets", {"The connector's offsets", {}, 200}},
      {"PATCH", "/connectors/{name}/offsets", {"Alter offsets (connector STOPPED)", {}, 200}},
      {"DELETE", "/connectors/{name}/offsets", {"Reset offsets (connector STOPPED)", {}, 200}},
      {"GET", "/connectors/{name}/topics", {"Topics the connector used", {}, 200}},
      {"PUT", "/connectors/{name}/topics/reset", {"Forget the topics used", {}, 202}},
      {"GET", "/connectors/{name}/status", {"Connector and task states", {}, 200}},
      {"GET", "/connectors/{name}/tasks", {"Task ids and configs", {}, 200}},
      {"GET", "/connectors/{name}/tasks/{task}/status", {"One task's state", {}, 200}},
      {"POST", "/connectors/{name}/tasks/{task}/restart", {"Restart one task", {}, 204}},
      {"POST",
       "/connectors/{name}/restart",
       {"Restart the connector (204), with tasks (202)", {"includeTasks", "onlyFailed"}, 204}},
      {"PUT", "/connectors/{name}/pause", {"Pause the connector and its tasks", {}, 202}},
      {"PUT", "/connectors/{name}/resume", {"Resume a paused or stopped connector", {}, 202}},
      {"PUT", "/connectors/{name}/stop", {"Stop the connector and shut its tasks down", {}, 204}},
      {"GET", "/connector-plugins", {"Installed plug-ins", {"connectorsOnly"}, 200}},
      {"GET", "/connector-plugins/{plugin}/config", {"A plug-in's config keys", {}, 200}},
      {"PUT",
       "/connector-plugins/{plugin}/config/validate",
       {"Validate a config; every key's errors at once", {}, 200}},
  };
  for (const auto& [method, pattern, doc] : docs) r.document(method, pattern, doc);
}

void add_connect_routes(router& r, core::herder& h, health_probe kafka) {
  r.add("GET", "/", [&h](const http_request&, const path_params&) {
    return http_response::json_body(200, h.server_info());
  });

  // Kafka Connect's answers (KIP-1017): 503 "starting" until start-up finished, 500
  // "unhealthy" when the herder's control thread cannot run a no-op within 10 s, 200 "healthy".
  // ferry adds a Kafka check (503 "unhealthy" naming the brokers and the error) and "checks".
  // One no-op at a time however many checks arrive, and a caller waits for it at most 2 s
  // (then 503, the herder is busy): probes of a stuck worker must not tie up the handler pool.
  auto herder_check = std::make_shared<single_check>();
  r.add("GET", "/health", [&h, kafka, herder_check](const http_request&, const path_params&) {
    if (!h.ready()) {
      return http_response::json_body(
          503, {{"status", "starting"},
                {"message", "Worker is still starting up. Please wait and try again."},
                {"checks", {{"herder", "starting"}}}});
    }
    auto [result, busy_since] = herder_check->start(h);
    if (result.wait_for(std::chrono::seconds(2)) != std::future_status::ready) {
      auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                    std::chrono::steady_clock::now() - busy_since)
                    .count();
      auto busy = "The worker's herder has not run a health check queued " + std::to_string(ms) +
                  " ms ago; it is busy (500 after 10 s)";
      return http_response::json_body(
          503, {{"status", "unhealthy"}, {"message", busy}, {"checks", {{"herder", busy}}}});
    }
    if (auto stuck = result.get(); !stuck.empty()) {
      return http_response::json_body(
          500, {{"status", "unhealthy"},
                {"message",
                 "Worker was unable to handle this request and may be unable to "
                 "handle other requests. " +
                     stuck},
                {"checks", {{"herder", stuck}}}});
    }
    json checks = {{"herder", "ok"}};
    if (kafka) {
      if (auto problem = kafka()) {
        checks["kafka"] = *problem;
        return http_response::json_body(
            503, {{"status", "unhealthy"}, {"message", *problem}, {"checks", checks}});
      }
      checks["kafka"] = "ok";
    }
    return http_response::json_body(
        200, {{"status", "healthy"},
              {"message", "Worker has completed startup and is ready to handle requests."},
              {"checks", checks}});
  });

  r.add("GET", "/metrics", [&h](const http_request&, const path_params&) {
    http_response out;
    out.body = h.metrics();
    out.content_type = "text/plain; version=0.0.4; charset=utf-8";
    return out;
  });

  r.add("GET", "/connectors", [&h](const http_request& req, const path_params&) {
    bool status = false, info = false;
    for (auto [it, end] = req.query.equal_range("expand"); it != end; ++it) {
      status |= it->second == "status";
      info |= it->second == "info";
    }
    auto names = h.connectors();
    if (!status && !info) return http_response::json_body(200, names);
    json out = json::object();
    for (const auto& n : names) {
      try {
        json entry = json::object();
        if (status) entry["status"] = hide_passwords(h.connector_status(n));
        if (info) entry["info"] = h.connector_info(n);
        out[n] = std::move(entry);
      } catch (const core::not_found_error&) {
        // deleted while listing: skipped, as Kafka Connect does
      }
    }
    return http_response::json_body(200, out);
  });

  r.add("POST", "/connectors", [&h](const http_request& req, const path_params&) {
    auto body = parse_body(req);
    if (!body.is_object()) throw bad_request_error("Request body must be a JSON object");
    if (!body.contains("name") || !body["name"].is_string()) {
      throw bad_request_error("Connector name must be given as a string in \"name\"");
    }
    auto name = api::trim(body["name"].get<std::string>());
    if (!body.contains("config") || body["config"].is_null()) {
      throw bad_request_error("Connector config must be given in \"config\"");
    }
    auto config = to_config_map(body["config"], "\"config\"");
    std::optional<storage::target_state> initial;
    if (body.contains("initial_state") && !body["initial_state"].is_null()) {
      auto s = body["initial_state"].is_string() ? body["initial_state"].get<std::string>() : "";
      initial = storage::parse_target_state(s);
      if (!initial) {
        throw bad_request_error("Invalid initial_state " + body["initial_state"].dump() +
                                "; must be one of RUNNING, PAUSED, STOPPED");
      }
    }
    auto result = h.put_connector_config(name, config, false, initial);
    auto resp = http_response::json_body(201, result.info);
    resp.headers.emplace_back("Location", connector_location(name));
    return resp;
  });

  r.add("GET", "/connectors/{name}", [&h](const http_request&, const path_params& p) {
    return http_response::json_body(200, h.connector_info(p.at("name")));
  });

  r.add("DELETE", "/connectors/{name}", [&h](const http_request&, const path_params& p) {
    h.delete_connector(p.at("name"));
    return http_response::empty(204);
  });

  r.add("GET", "/connectors/{name}/config", [&h](const http_request&, const path_params& p) {
    return http_response::json_body(200, h.connector_config(p.at("name")));
  });

  r.add("PUT", "/connectors/{name}/config", [&h](const http_request& req, const path_params& p) {
    auto config = to_config_map(parse_body(req), "Connector config");
    auto result = h.put_connector_config(p.at("name"), config, true, std::nullopt);
    auto resp = http_response::json_body(result.created ? 201 : 200, result.info);
    if (result.created) resp.headers.emplace_back("Location", connector_location(p.at("name")));
    return resp;
  });

  r.add("PATCH", "/connectors/{name}/config", [&h](const http_request& req, const path_params& p) {
    auto body = parse_body(req);
    if (!body.is_object()) throw bad_request_error("A config patch must be a JSON object");
    return http_response::json_body(200, h.patch_connector_config(p.at("name"), body).info);
  });

  r.add("GET", "/connectors/{name}/offsets", [&h](const http_request&, const path_params& p) {
    return http_response::json_body(200, h.connector_offsets(p.at("name")));
  });

  r.add("PATCH", "/connectors/{name}/offsets", [&h](const http_request& req, const path_params& p) {
    return http_response::json_body(200, h.alter_connector_offsets(p.at("name"), parse_body(req)));
  });

  r.add("DELETE", "/connectors/{name}/offsets", [&h](const http_request&, const path_params& p) {
    return http_response::json_body(200, h.reset_connector_offsets(p.at("name")));
  });

  r.add("GET", "/connectors/{name}/topics", [&h](const http_request&, const path_params& p) {
    return http_response::json_body(200, h.connector_active_topics(p.at("name")));
  });

  r.add("PUT", "/connectors/{name}/topics/reset", [&h](const http_request&, const path_params& p) {
    h.reset_connector_active_topics(p.at("name"));
    return http_response::empty(202);
  });

  r.add("GET", "/connectors/{name}/status", [&h](const http_request&, const path_params& p) {
    return http_response::json_body(200, hide_passwords(h.connector_status(p.at("name"))));
  });

  r.add("GET", "/connectors/{name}/tasks", [&h](const http_request&, const path_params& p) {
    return http_response::json_body(200, h.task_configs(p.at("name")));
  });

  r.add("GET", "/connectors/{name}/tasks/{task}/status",
        [&h](const http_request&, const path_params& p) {
          return http_response::json_body(
              200, hide_passwords(h.task_status(p.at("name"), parse_task_id(p.at("task")))));
        });

  r.add("POST", "/connectors/{name}/tasks/{task}/restart",
        [&h](const http_request&, const path_params& p) {
          h.restart_task(p.at("name"), parse_task_id(p.at("task")));
          return http_response::empty(204);
        });

  r.add("POST", "/connectors/{name}/restart", [&h](const http_request& req, const path_params& p) {
    bool include_tasks = query_flag(req, "includeTasks");
    bool only_failed = query_flag(req, "onlyFailed");
    const auto& name = p.at("name");
    if (!include_tasks && !only_failed) {
      h.restart_connector(name);
      return http_response::empty(204);
    }
    auto status = h.connector_status(name);
    bool restart_connector = !only_failed || status["connector"]["state"] == "FAILED";
    if (restart_connector) h.restart_connector(name);
    if (include_tasks) {
      for (const auto& t : status["tasks"]) {
        if (!only_failed || t["state"] == "FAILED") h.restart_task(name, t["id"].get<int>());
      }
    }
    return http_response::json_body(202, hide_passwords(h.connector_status(name)));
  });

  r.add("PUT", "/connectors/{name}/pause", [&h](const http_request&, const path_params& p) {
    h.pause_connector(p.at("name"));
    return http_response::empty(202);
  });

  r.add("PUT", "/connectors/{name}/resume", [&h](const http_request&, const path_params& p) {
    h.resume_connector(p.at("name"));
    return http_response::empty(202);
  });

  r.add("PUT", "/connectors/{name}/stop", [&h](const http_request&, const path_params& p) {
    h.stop_connector(p.at("name"));
    return http_response::empty(204);
  });

  r.add("GET", "/connector-plugins", [&h](const http_request& req, const path_params&) {
    const auto* only = req.query_param("connectorsOnly");
    bool connectors_only = !only || api::parse_bool(*only).value_or(true);
    return http_response::json_body(200, h.connector_plugins(connectors_only));
  });

  r.add("GET", "/connector-plugins/{plugin}/config",
        [&h](const http_request&, const path_params& p) {
          return http_response::json_body(200, h.plugin_config(p.at("plugin")));
        });

  r.add("PUT", "/connector-plugins/{plugin}/config/validate",
        [&h](const http_request& req, const path_params& p) {
          auto config = to_config_map(parse_body(req), "Connector config");
          return http_response::json_body(200, hide_passwords(h.validate(p.at("plugin"), config)));
        });

  document_connect_routes(r);
}

}  // namespace ferry::rest
