#pragma once

#include <string_view>

#include "ferry/rest/router.hpp"

namespace ferry::rest {

// GET /ui: the status page (rest-api/src/ui/status.html, embedded at build time). One
// self-contained HTML page that reads the REST API and /metrics from the browser; the worker
// itself only serves the file.
void add_ui_routes(router& r);

// The page as served, for tests.
std::string_view status_page_html();

}  // namespace ferry::rest
