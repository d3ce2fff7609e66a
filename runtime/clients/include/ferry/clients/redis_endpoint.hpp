#pragma once

#include <chrono>
#include <string>

namespace ferry::clients {

// Where and how to reach one Redis server. Parsed from a redis:// URI
// (redis://[[user]:password@]host[:port][/db][?timeout=5s]) or from separate settings.
struct redis_endpoint {
  std::string host = "127.0.0.1";
  int port = 6379;
  std::string username;
  std::string password;
  int database = 0;
  std::chrono::milliseconds timeout{60000};  // per command batch and per connect
  bool cluster = false;                      // host:port is one seed node of a Redis Cluster

  // Throws std::invalid_argument with a readable message on a malformed URI.
  static redis_endpoint parse_uri(const std::string& uri);
  std::string address() const { return host + ":" + std::to_string(port); }
};

}  // namespace ferry::clients
