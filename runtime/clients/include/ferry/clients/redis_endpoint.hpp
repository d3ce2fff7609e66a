#pragma once

#include <chrono>
#include <string>

namespace ferry::clients {

// How to talk TLS to a server. Empty file names mean: trust the system store, no client
// certificate.
struct redis_tls_settings {
  bool enabled = false;
  bool insecure = false;     // skip peer verification (certificate chain and host name)
  std::string ca_file;       // PEM CA certificate(s) to trust instead of the system store
  std::string cert_file;     // PEM client certificate chain (mTLS)
  std::string key_file;      // PEM private key of cert_file (PKCS#8 or traditional)
  std::string key_password;  // decrypts key_file when it is encrypted

  bool operator==(const redis_tls_settings&) const = default;
};

// Where and how to reach one Redis server. Parsed from a redis:// or rediss:// (TLS) URI
// (redis[s]://[[user]:password@]host[:port][/db][?timeout=5s]) or from separate settings.
struct redis_endpoint {
  std::string host = "127.0.0.1";
  int port = 6379;
  std::string username;
  std::string password;
  int database = 0;
  std::chrono::milliseconds timeout{60000};  // per command batch and per connect
  bool cluster = false;                      // host:port is one seed node of a Redis Cluster
  redis_tls_settings tls;

  // Throws std::invalid_argument with a readable message on a malformed URI.
  static redis_endpoint parse_uri(const std::string& uri);
  std::string address() const { return host + ":" + std::to_string(port); }
};

}  // namespace ferry::clients
