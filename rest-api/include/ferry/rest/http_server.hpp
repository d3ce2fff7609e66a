#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "ferry/rest/http.hpp"
#include "ferry/rest/tls_context.hpp"

namespace ferry::rest {

struct http_server_options {
  std::string host = "127.0.0.1";
  std::uint16_t port = 8083;  // 0 picks a free port
  std::uint64_t body_limit = 1024 * 1024;
  int io_threads = 2;
  int handler_threads = 8;  // handlers may block (herder writes), so they get their own pool
  tls_context tls;          // set: HTTPS (make_server_tls_context); null: plain HTTP
};

// HTTP/1.1 server, plain or over TLS (Boost.Beast, C++20 coroutines), with keep-alive, a body limit
// (413) and idle timeouts. Owns its io_context and threads; start() binds and returns, stop()
// joins.
class http_server {
 public:
  http_server(http_server_options options, http_handler handler);
  ~http_server();
  http_server(const http_server&) = delete;
  http_server& operator=(const http_server&) = delete;

  // Throws std::runtime_error when the address cannot be bound.
  void start();
  void stop();
  std::uint16_t port() const;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace ferry::rest
