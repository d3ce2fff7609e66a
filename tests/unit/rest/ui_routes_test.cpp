#include <doctest/doctest.h>

#include <regex>
#include <string>

#include "ferry/rest/ui_routes.hpp"

TEST_CASE("GET /ui serves the embedded status page as HTML") {
  ferry::rest::router r;
  ferry::rest::add_ui_routes(r);
  auto resp = r.handle({.method = "GET", .path = "/ui"});
  CHECK(resp.status == 200);
  CHECK(resp.content_type == "text/html; charset=utf-8");
  CHECK(resp.body == ferry::rest::status_page_html());
  CHECK(resp.body.rfind("<!DOCTYPE html>", 0) == 0);
  CHECK(resp.body.find("</html>") != std::string::npos);
  bool csp = false;
  for (const auto& [k, v] : resp.headers) {
    if (k == "Content-Security-Policy") csp = v.find("default-src 'none'") != std::string::npos;
  }
  CHECK(csp);
  CHECK(r.handle({.method = "POST", .path = "/ui"}).status == 405);
}

TEST_CASE("the status page loads nothing from elsewhere and builds no markup from data") {
  const std::string page(ferry::rest::status_page_html());
  // No absolute or scheme-relative URL anywhere, no attribute or CSS that loads a resource.
  CHECK(page.find("http://") == std::string::npos);
  CHECK(page.find("https://") == std::string::npos);
  CHECK_FALSE(std::regex_search(page, std::regex(R"((src|href|action)\s*=)", std::regex::icase)));
  const auto style_begin = page.find("<style>");
  const auto style_end = page.find("</style>");
  REQUIRE(style_begin < style_end);
  const auto css = page.substr(style_begin, style_end - style_begin);
  CHECK_FALSE(std::regex_search(css, std::regex(R"(url\s*\(|@import)", std::regex::icase)));
  CHECK(page.find("<style>", style_end) == std::string::npos);  // the only style sheet
  CHECK_FALSE(std::regex_search(page, std::regex(R"((fetch|URL)\(\s*["'`]//)")));
  // Connector names are user input: text goes in through textContent / text nodes only.
  CHECK(page.find("innerHTML") == std::string::npos);
  CHECK(page.find("outerHTML") == std::string::npos);
  CHECK(page.find("insertAdjacentHTML") == std::string::npos);
  CHECK(page.find("document.write") == std::string::npos);
  // The REST calls the buttons make, as relative URLs.
  for (const char* call :
       {"\"/pause\"", "\"/resume\"", "\"/restart?includeTasks=true\"", "\"/restart\"",
        "\"connectors?expand=status&expand=info\"", "\"metrics\""}) {
    INFO(call);
    CHECK(page.find(call) != std::string::npos);
  }
}
