#pragma once

#include "ferry/rest/router.hpp"

namespace ferry::rest {

// Kafka Connect's /admin/loggers: read and change log levels at runtime, per logger name
// ("root" is the default of every logger without a level of its own).
void add_admin_routes(router& r);

}  // namespace ferry::rest
