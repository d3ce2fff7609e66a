#pragma once

#include <map>
#include <string>
#include <vector>

#include "ferry/rest/http.hpp"

namespace ferry::rest {

using path_params = std::map<std::string, std::string>;
using route_handler = std::function<http_response(const http_request&, const path_params&)>;

// Method + path template ("/connectors/{name}/status") -> handler. Unknown paths answer 404,
// known paths with another method 405, both with the JSON error body. Exceptions from handlers
// are mapped by map_exception(). Immutable after set-up; used from any thread.
class router {
 public:
  void add(const std::string& method, const std::string& pattern, route_handler handler);
  http_response handle(const http_request& request) const;

  // The templates and methods known, for documentation and tests.
  std::vector<std::pair<std::string, std::string>> routes() const;

  // What a route does, for the OpenAPI document. Throws std::logic_error for an unknown route,
  // so documentation cannot name a route that does not exist.
  struct route_doc {
    std::string summary;
    std::vector<std::string> query;  // query parameter names
    int status = 200;                // the success status
  };
  void document(const std::string& method, const std::string& pattern, route_doc doc);
  // OpenAPI 3 document generated from the routes themselves (undocumented routes included,
  // with an empty summary, so nothing the server answers is missing from it).
  json openapi(const std::string& title, const std::string& version) const;

 private:
  struct route {
    std::string method;
    std::vector<std::string> segments;  // "{x}" marks a parameter
    std::string pattern;
    route_handler handler;
    route_doc doc;
  };
  std::vector<route> routes_;
};

// The one error mapper: herder errors keep their status, malformed JSON is 400, anything else 500.
http_response map_exception(std::exception_ptr e);

}  // namespace ferry::rest
