#pragma once

#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "ferry/api/json.hpp"

namespace ferry::rest {

// Transport-free request and response, so routes and resources are testable without sockets.
struct http_request {
  std::string method;  // "GET", "POST", ...
  std::string path;    // raw path, no query; the router decodes each segment
  std::multimap<std::string, std::string> query;
  std::string content_type;
  std::string authorization;  // the Authorization header, if any
  std::string body;

  // The last value of a query parameter, if present.
  const std::string* query_param(const std::string& name) const;
};

struct http_response {
  int status = 200;
  std::string body;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;

  static http_response json_body(int status, const json& body);
  static http_response empty(int status);
  // Kafka Connect's error body: {"error_code":status,"message":...}.
  static http_response error(int status, const std::string& message);
};

using http_handler = std::function<http_response(const http_request&)>;

// Splits "a/b%20c?x=1&y" into the raw path and decoded query parameters.
void parse_target(const std::string& target, std::string& path,
                  std::multimap<std::string, std::string>& query);

}  // namespace ferry::rest
