#include "ferry/clients/redis_endpoint.hpp"

#include <charconv>
#include <stdexcept>

namespace ferry::clients {

namespace {

int parse_int(const std::string& s, const std::string& what, const std::string& uri) {
  int v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || p != s.data() + s.size() || s.empty() || v < 0) {
    throw std::invalid_argument("invalid " + what + " '" + s + "' in Redis URI " + uri);
  }
  return v;
}

std::string percent_decode(const std::string& s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      int v = 0;
      auto [p, ec] = std::from_chars(s.data() + i + 1, s.data() + i + 3, v, 16);
      if (ec == std::errc{} && p == s.data() + i + 3) {
        out.push_back(static_cast<char>(v));
        i += 2;
        continue;
      }
    }
    out.push_back(s[i]);
  }
  return out;
}

}  // namespace

redis_endpoint redis_endpoint::parse_uri(const std::string& uri) {
  redis_endpoint ep;
  std::string rest;
  if (uri.starts_with("redis://")) {
    rest = uri.substr(8);
  } else if (uri.starts_with("rediss://")) {
    rest = uri.substr(9);
    ep.tls.enabled = true;
  } else {
    throw std::invalid_argument("Redis URI must start with redis:// or rediss:// : " + uri);
  }
  if (auto q = rest.find('?'); q != std::string::npos) {
    auto query = rest.substr(q + 1);
    rest = rest.substr(0, q);
    std::size_t start = 0;
    while (start < query.size()) {
      auto amp = query.find('&', start);
      if (amp == std::string::npos) amp = query.size();
      auto kv = query.substr(start, amp - start);
      auto eq = kv.find('=');
      auto k = kv.substr(0, eq);
      auto v = eq == std::string::npos ? std::string{} : kv.substr(eq + 1);
      if (k == "timeout") {
        // Lettuce style: 5s, 500ms, or plain seconds.
        if (v.ends_with("ms")) {
          ep.timeout = std::chrono::milliseconds(parse_int(v.substr(0, v.size() - 2), k, uri));
        } else if (v.ends_with("s")) {
          ep.timeout = std::chrono::seconds(parse_int(v.substr(0, v.size() - 1), k, uri));
        } else {
          ep.timeout = std::chrono::seconds(parse_int(v, k, uri));
        }
      } else if (k == "database" || k == "db") {
        ep.database = parse_int(v, k, uri);
      } else if (k == "verifyPeer") {
        // Lettuce: true/FULL/CA verify, false/NONE does not. Host names are always checked
        // when verifying (CA alone is treated as FULL, the safer reading).
        if (v == "false" || v == "NONE") {
          ep.tls.insecure = true;
        } else if (v != "true" && v != "FULL" && v != "CA") {
          throw std::invalid_argument("invalid verifyPeer '" + v + "' in Redis URI " + uri);
        }
      }
      start = amp + 1;
    }
  }
  if (auto slash = rest.find('/'); slash != std::string::npos) {
    auto db = rest.substr(slash + 1);
    rest = rest.substr(0, slash);
    if (!db.empty()) ep.database = parse_int(db, "database", uri);
  }
  if (auto at = rest.rfind('@'); at != std::string::npos) {
    auto userinfo = rest.substr(0, at);
    rest = rest.substr(at + 1);
    auto colon = userinfo.find(':');
    if (colon == std::string::npos) {
      ep.password = percent_decode(userinfo);  // redis://password@host (Lettuce accepts it)
    } else {
      ep.username = percent_decode(userinfo.substr(0, colon));
      ep.password = percent_decode(userinfo.substr(colon + 1));
    }
  }
  if (!rest.empty() && rest.front() == '[') {  // [::1]:6379
    auto close = rest.find(']');
    if (close == std::string::npos) throw std::invalid_argument("bad IPv6 host in " + uri);
    ep.host = rest.substr(1, close - 1);
    rest = rest.substr(close + 1);
    if (rest.starts_with(":")) ep.port = parse_int(rest.substr(1), "port", uri);
  } else {
    auto colon = rest.rfind(':');
    ep.host = colon == std::string::npos ? rest : rest.substr(0, colon);
    if (colon != std::string::npos) ep.port = parse_int(rest.substr(colon + 1), "port", uri);
  }
  if (ep.host.empty()) throw std::invalid_argument("Redis URI has no host: " + uri);
  if (ep.port <= 0 || ep.port > 65535) throw std::invalid_argument("bad port in " + uri);
  return ep;
}

}  // namespace ferry::clients
