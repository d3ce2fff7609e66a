#pragma once

#include <functional>
#include <optional>
#include <string>

#include "ferry/core/herder.hpp"
#include "ferry/rest/router.hpp"

namespace ferry::rest {

// Kafka Connect's REST resources: each route parses the request, calls the herder and renders
// the answer; nothing else happens here.
// `kafka`, when given, is asked by GET /health whether Kafka is reachable: nullopt when it is,
// else what is wrong.
using health_probe = std::function<std::optional<std::string>()>;
void add_connect_routes(router& r, core::herder& herder, health_probe kafka = {});

}  // namespace ferry::rest
