#include "ferry/rest/admin_routes.hpp"

#include "ferry/core/errors.hpp"
#include "ferry/core/log.hpp"

#include <cctype>

namespace ferry::rest {

namespace {

json setting_json(const log::logger_setting& s) {
  return {{"level", std::string(log::to_string(s.threshold))},
          {"last_modified", s.last_modified_ms ? json(s.last_modified_ms) : json(nullptr)}};
}

}  // namespace

void add_admin_routes(router& r) {
  r.add("GET", "/admin/loggers", [](const http_request&, const path_params&) {
    json out = json::object();
    for (const auto& [name, s] : log::loggers()) out[name] = setting_json(s);
    return http_response::json_body(200, out);
  });

  r.add("GET", "/admin/loggers/{name}", [](const http_request&, const path_params& p) {
    auto all = log::loggers();
    auto it = all.find(p.at("name"));
    if (it == all.end()) throw core::not_found_error("Logger " + p.at("name") + " not found.");
    return http_response::json_body(200, setting_json(it->second));
  });

  r.add("PUT", "/admin/loggers/{name}", [](const http_request& req, const path_params& p) {
    if (req.content_type.find("json") == std::string::npos) {
      throw core::herder_error(415,
                               "HTTP 415 Unsupported Media Type: send the body with "
                               "Content-Type: application/json");
    }
    json body;
    try {
      body = json::parse(req.body);
    } catch (const json::exception& e) {  // parse_error, or out_of_range (1e309)
      throw core::bad_request_error(std::string("Malformed JSON in request body: ") + e.what());
    }
    if (!body.is_object() || !body.contains("level") || !body["level"].is_string()) {
      throw core::bad_request_error("Desired 'level' parameter was not specified in request.");
    }
    auto text = body["level"].get<std::string>();
    for (auto& c : text) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    log::level level;
    if (!log::parse_level(text, level)) {
      // Kafka Connect answers 404 here; kept for drop-in compatibility.
      throw core::not_found_error("Invalid log level '" + body["level"].get<std::string>() + "'.");
    }
    const auto& name = p.at("name");
    log::set_logger_level(name, level);
    log::info("rest", "Log level of ", name, " set to ", text);
    const auto* scope = req.query_param("scope");
    if (scope && *scope == "cluster") return http_response::empty(204);
    return http_response::json_body(200, json::array({name}));
  });

  r.document("GET", "/admin/loggers", {"Every logger's level", {}, 200});
  r.document("GET", "/admin/loggers/{name}", {"One logger's level", {}, 200});
  r.document("PUT", "/admin/loggers/{name}", {"Set a logger's level: {level}", {"scope"}, 200});
}

void add_openapi_route(router& r, const std::string& version) {
  r.add("GET", "/openapi.json", [&r, version](const http_request&, const path_params&) {
    return http_response::json_body(200,
                                    r.openapi("ferry worker REST API (Kafka Connect)", version));
  });
  r.document("GET", "/openapi.json", {"This document", {}, 200});
}

}  // namespace ferry::rest
