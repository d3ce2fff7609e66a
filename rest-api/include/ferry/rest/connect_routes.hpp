#pragma once

#include "ferry/core/herder.hpp"
#include "ferry/rest/router.hpp"

namespace ferry::rest {

// Kafka Connect's REST resources: each route parses the request, calls the herder and renders
// the answer; nothing else happens here.
void add_connect_routes(router& r, core::herder& herder);

}  // namespace ferry::rest
