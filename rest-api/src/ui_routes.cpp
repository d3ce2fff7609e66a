#include "ferry/rest/ui_routes.hpp"

namespace ferry::rest {

namespace ui_assets {
// Generated from src/ui/status.html by src/ui/embed.cmake (rest-api/CMakeLists.txt).
extern const std::string_view status_html;
}  // namespace ui_assets

std::string_view status_page_html() {
  return ui_assets::status_html;
}

void add_ui_routes(router& r) {
  r.add("GET", "/ui", [](const http_request&, const path_params&) {
    http_response resp;
    resp.status = 200;
    resp.body = std::string(ui_assets::status_html);
    resp.content_type = "text/html; charset=utf-8";
    // The browser enforces what the page promises: nothing but itself and same-origin
    // requests to the REST API (inline script and style are the page's own), and no framing,
    // so its buttons cannot be clicked through another site's page.
    resp.headers.emplace_back("Content-Security-Policy",
                              "default-src 'none'; script-src 'unsafe-inline'; "
                              "style-src 'unsafe-inline'; connect-src 'self'; img-src data:; "
                              "base-uri 'none'; form-action 'none'; frame-ancestors 'none'");
    resp.headers.emplace_back("X-Content-Type-Options", "nosniff");
    resp.headers.emplace_back("Cache-Control", "no-cache");
    return resp;
  });
  r.document("GET", "/ui",
             {"Status page (HTML): connectors, tasks, states, records/s and lag, with pause, "
              "resume and restart buttons",
              {},
              200});
}

}  // namespace ferry::rest
