#include "ferry/rest/router.hpp"

#include <algorithm>
#include <cctype>
#include <stdexcept>

#include "ferry/api/errors.hpp"
#include "ferry/core/errors.hpp"
#include "ferry/core/log.hpp"

namespace ferry::rest {

namespace {

std::vector<std::string> split_path(const std::string& path) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start < path.size()) {
    auto slash = path.find('/', start);
    if (slash == std::string::npos) slash = path.size();
    if (slash > start) out.push_back(path.substr(start, slash - start));
    start = slash + 1;
  }
  return out;
}

int hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string decode(const std::string& s, bool plus_is_space) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && hex(s[i + 1]) >= 0 && hex(s[i + 2]) >= 0) {
      out.push_back(static_cast<char>(hex(s[i + 1]) * 16 + hex(s[i + 2])));
      i += 2;
    } else if (plus_is_space && s[i] == '+') {
      out.push_back(' ');
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

}  // namespace

const std::string* http_request::query_param(const std::string& name) const {
  const std::string* found = nullptr;
  for (auto [it, end] = query.equal_range(name); it != end; ++it) found = &it->second;
  return found;
}

http_response http_response::json_body(int status, const json& body) {
  http_response r;
  r.status = status;
  // Bytes that are not UTF-8 (an echoed path, header or config value) become U+FFFD: dump()
  // would throw type_error 316 and turn any such answer into a 500.
  r.body = body.dump(-1, ' ', false, json::error_handler_t::replace);
  return r;
}

http_response http_response::empty(int status) {
  http_response r;
  r.status = status;
  r.content_type.clear();
  return r;
}

http_response http_response::error(int status, const std::string& message) {
  json body = json::object();
  body["error_code"] = status;
  body["message"] = log::hide_secrets(message);  // e.g. a refused config quoted whole
  return json_body(status, body);
}

void parse_target(const std::string& target, std::string& path,
                  std::multimap<std::string, std::string>& query) {
  auto q = target.find('?');
  // Segments are decoded after splitting in the router; here only the whole path is decoded
  // for display, keeping %2F inside names intact is not needed by Kafka Connect's API.
  path = target.substr(0, q);
  if (q == std::string::npos) return;
  auto qs = target.substr(q + 1);
  std::size_t start = 0;
  while (start < qs.size()) {
    auto amp = qs.find('&', start);
    if (amp == std::string::npos) amp = qs.size();
    auto kv = qs.substr(start, amp - start);
    if (!kv.empty()) {
      auto eq = kv.find('=');
      query.emplace(decode(kv.substr(0, eq), true),
                    eq == std::string::npos ? std::string{} : decode(kv.substr(eq + 1), true));
    }
    start = amp + 1;
  }
}

void router::add(const std::string& method, const std::string& pattern, route_handler handler) {
  routes_.push_back({method, split_path(pattern), pattern, std::move(handler)});
}

std::vector<std::pair<std::string, std::string>> router::routes() const {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& r : routes_) out.emplace_back(r.method, r.pattern);
  return out;
}

void router::document(const std::string& method, const std::string& pattern, route_doc doc) {
  for (auto& r : routes_) {
    if (r.method == method && r.pattern == pattern) {
      r.doc = std::move(doc);
      return;
    }
  }
  throw std::logic_error("documented route does not exist: " + method + " " + pattern);
}

json router::openapi(const std::string& title, const std::string& version) const {
  json paths = json::object();
  for (const auto& r : routes_) {
    json op = json::object();
    op["summary"] = r.doc.summary;
    json params = json::array();
    for (const auto& s : r.segments) {
      if (s.size() > 2 && s.front() == '{') {
        params.push_back({{"name", s.substr(1, s.size() - 2)},
                          {"in", "path"},
                          {"required", true},
                          {"schema", {{"type", "string"}}}});
      }
    }
    for (const auto& q : r.doc.query) {
      params.push_back({{"name", q}, {"in", "query"}, {"schema", {{"type", "string"}}}});
    }
    if (!params.empty()) op["parameters"] = std::move(params);
    if (r.method == "POST" || r.method == "PUT" || r.method == "PATCH") {
      op["requestBody"] = {{"content", {{"application/json", {{"schema", {{"type", "object"}}}}}}}};
    }
    json error = {
        {"description", "Error: {\"error_code\": <status>, \"message\": \"...\"}"},
        {"content",
         {{"application/json",
           {{"schema",
             {{"type", "object"},
              {"properties",
               {{"error_code", {{"type", "integer"}}}, {"message", {{"type", "string"}}}}}}}}}}}};
    op["responses"] = {{std::to_string(r.doc.status), {{"description", "Success"}}},
                       {"default", std::move(error)}};
    std::string method = r.method;
    std::transform(method.begin(), method.end(), method.begin(),
                   [](unsigned char c) { return std::tolower(c); });
    paths[r.pattern][method] = std::move(op);
  }
  return {{"openapi", "3.0.3"},
          {"info", {{"title", title}, {"version", version}}},
          {"paths", std::move(paths)}};
}

http_response router::handle(const http_request& request) const {
  auto raw_segments = split_path(request.path);
  std::vector<std::string> segments;
  segments.reserve(raw_segments.size());
  for (const auto& s : raw_segments) segments.push_back(decode(s, false));
  bool path_known = false;
  std::vector<std::string> allowed;
  for (const auto& r : routes_) {
    if (r.segments.size() != segments.size()) continue;
    path_params params;
    bool match = true;
    for (std::size_t i = 0; i < segments.size() && match; ++i) {
      const auto& s = r.segments[i];
      if (s.size() > 2 && s.front() == '{' && s.back() == '}') {
        params[s.substr(1, s.size() - 2)] = segments[i];
      } else {
        match = s == segments[i];
      }
    }
    if (!match) continue;
    path_known = true;
    if (r.method != request.method) {
      allowed.push_back(r.method);
      continue;
    }
    try {
      return r.handler(request, params);
    } catch (...) {
      return map_exception(std::current_exception());
    }
  }
  if (path_known) {
    auto resp =
        http_response::error(405, "HTTP " + request.method + " is not allowed on " + request.path);
    std::string allow;
    for (const auto& m : allowed) allow += (allow.empty() ? "" : ", ") + m;
    resp.headers.emplace_back("Allow", allow);
    return resp;
  }
  return http_response::error(404, "HTTP 404 Not Found: " + request.path);
}

http_response map_exception(std::exception_ptr e) {
  try {
    std::rethrow_exception(e);
  } catch (const core::herder_error& he) {
    return http_response::error(he.http_status(), he.what());
  } catch (const json::parse_error& pe) {
    return http_response::error(400, std::string("Request body is not valid JSON: ") + pe.what());
  } catch (const api::config_error& ce) {
    return http_response::error(400, ce.what());
  } catch (const std::exception& ex) {
    log::error("rest", "Request failed: ", ex.what());
    return http_response::error(500, ex.what());
  } catch (...) {
    return http_response::error(500, "Unknown error");
  }
}

}  // namespace ferry::rest
