#pragma once

#include "ferry/rest/router.hpp"

namespace ferry::rest {

// Kafka Connect's /admin/loggers: read and change log levels at runtime, per logger name
// ("root" is the default of every logger without a level of its own).
void add_admin_routes(router& r);

// GET /openapi.json: the OpenAPI 3 document of every route of `r`, rendered per request from
// the router itself, so it cannot drift from what the server answers.
void add_openapi_route(router& r, const std::string& version);

}  // namespace ferry::rest
