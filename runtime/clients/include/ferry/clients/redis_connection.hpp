#pragma once

#include <hiredis/hiredis.h>

#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ferry/api/errors.hpp"
#include "ferry/clients/redis_endpoint.hpp"

// OpenSSL's SSL_CTX and SSL, so that users of this header do not include OpenSSL.
struct ssl_ctx_st;
struct ssl_st;

namespace ferry::clients {

struct metrics_scope;  // client_metrics.hpp

// The connection failed, timed out or broke: the same commands may succeed after a reconnect.
class redis_io_error : public api::retriable_error {
 public:
  using api::retriable_error::retriable_error;
};

// The server refused the login (wrong password, unknown or disabled user, AUTH required), its
// TLS certificate failed verification, or it refused the client certificate: retrying with the
// same settings cannot help. The message says which setting to fix.
class redis_auth_error : public api::connect_error {
 public:
  using api::connect_error::connect_error;
};

// A TLS file of an endpoint that is missing, unreadable or does not parse.
class redis_tls_file_error : public api::config_error {
 public:
  enum class file { ca, cert, key };
  redis_tls_file_error(file which, std::string path, const std::string& message)
      : api::config_error(message), which_(which), path_(std::move(path)) {}
  file which() const { return which_; }
  const std::string& path() const { return path_; }

 private:
  file which_;
  std::string path_;
};

// Loads endpoint.tls's files (CA, client certificate and key) as a connection would; throws
// redis_tls_file_error. Lets a connector report a bad file at start under its own key name.
void check_tls_files(const redis_endpoint& endpoint);

// Read-only view of one parsed reply (or of an element of an array reply).
class redis_reply_view {
 public:
  explicit redis_reply_view(const redisReply* r) : r_(r) {}
  bool is_nil() const { return r_->type == REDIS_REPLY_NIL; }
  bool is_error() const { return r_->type == REDIS_REPLY_ERROR; }
  bool is_array() const { return r_->type == REDIS_REPLY_ARRAY; }
  bool is_integer() const { return r_->type == REDIS_REPLY_INTEGER; }
  bool is_string() const {
    return r_->type == REDIS_REPLY_STRING || r_->type == REDIS_REPLY_STATUS;
  }
  std::string_view str() const { return {r_->str ? r_->str : "", r_->len}; }
  long long integer() const { return r_->integer; }
  std::size_t size() const { return r_->type == REDIS_REPLY_ARRAY ? r_->elements : 0; }
  redis_reply_view operator[](std::size_t i) const { return redis_reply_view(r_->element[i]); }
  std::string describe() const;  // for error messages

 private:
  const redisReply* r_;
};

// Owns one parsed reply tree.
class redis_reply {
 public:
  explicit redis_reply(redisReply* r) : r_(r) {}
  redis_reply_view view() const { return redis_reply_view(r_.get()); }
  redis_reply_view operator*() const { return view(); }

 private:
  struct deleter {
    void operator()(redisReply* r) const { freeReplyObject(r); }
  };
  std::unique_ptr<redisReply, deleter> r_;
};

// A batch of commands encoded in RESP, sent in one go (pipelining). Reusable: clear() keeps
// the buffer's capacity, so a steady-state sink allocates nothing per batch for encoding.
class redis_pipeline {
 public:
  void add(std::initializer_list<std::string_view> args);
  void add(const std::vector<std::string_view>& args);
  // Incremental form for commands with a variable number of arguments.
  void begin(std::size_t argc);
  void arg(std::string_view a);

  std::size_t size() const { return count_; }
  bool empty() const { return count_ == 0; }
  const std::string& buffer() const { return buf_; }
  void clear() {
    buf_.clear();
    count_ = 0;
  }

 private:
  std::string buf_;
  std::size_t count_ = 0;
};

// What a connector needs from Redis, whatever the topology: send a pipeline, get its replies
// in order. redis_connection talks to one server; a cluster client routes each command to the
// master that owns its key's slot. Replies that are errors are returned, not thrown (callers
// decide what a command error means); I/O problems throw redis_io_error (retriable).
class redis_client {
 public:
  virtual ~redis_client() = default;
  // Connects now (the first execute() would otherwise); throws redis_io_error.
  virtual void connect() = 0;
  virtual std::vector<redis_reply> execute(const redis_pipeline& pipeline) = 0;
  // Convenience for one command.
  redis_reply command(std::initializer_list<std::string_view> args);
  virtual void close() = 0;
  // Pipelining across calls, where the client can (one server): send_ahead() writes a pipeline
  // and returns without reading, so the server works on it while the caller does something
  // else; take_ahead() then reads its replies. No other call in between. false: this client
  // cannot, nothing was sent.
  virtual bool send_ahead(const redis_pipeline& /*pipeline*/) { return false; }
  virtual std::vector<redis_reply> take_ahead() { return {}; }
};

// One blocking connection to one Redis server, used by one thread at a time.
// Connects lazily; any I/O error or timeout closes it (the next call reconnects) and throws
// redis_io_error. Every call has a deadline of endpoint.timeout. With endpoint.tls.enabled the
// same non-blocking socket carries TLS (OpenSSL), handshake included in the connect deadline.
// A refused login or certificate throws redis_auth_error, a bad TLS file redis_tls_file_error;
// neither is retriable.
class redis_connection final : public redis_client {
 public:
  explicit redis_connection(redis_endpoint endpoint);
  ~redis_connection() override;
  redis_connection(const redis_connection&) = delete;
  redis_connection& operator=(const redis_connection&) = delete;

  std::vector<redis_reply> execute(const redis_pipeline& pipeline) override;
  using redis_client::command;

  void connect() override;
  void close() override;
  bool connected() const { return fd_ >= 0; }
  bool send_ahead(const redis_pipeline& pipeline) override;
  std::vector<redis_reply> take_ahead() override;

  // For a Pub/Sub subscriber (redis_subscriber), whose replies come when the server pushes
  // them: send() writes the pipeline (connecting first) without reading anything, and
  // read_reply() returns the next reply or pushed message, or nullopt when none is complete by
  // `deadline` — not an error, the connection stays open. Both throw redis_io_error (and close
  // the connection) when it breaks; send() also on endpoint.timeout.
  void send(const redis_pipeline& pipeline);
  std::optional<redis_reply> read_reply(std::chrono::steady_clock::time_point deadline);
  const redis_endpoint& endpoint() const { return endpoint_; }

 private:
  std::vector<redis_reply> roundtrip(const std::string& out, std::size_t replies,
                                     std::chrono::steady_clock::time_point deadline);
  // The metrics of one round trip: its pipeline size, latency since `sent`, error replies.
  void count_roundtrip(const std::vector<redis_reply>& replies,
                       std::chrono::steady_clock::time_point sent);
  void open_socket(std::chrono::steady_clock::time_point deadline);
  void handshake(std::chrono::steady_clock::time_point deadline);
  void log_in(std::chrono::steady_clock::time_point deadline);
  // Move bytes over the socket or TLS: the count moved, or 0 with `want` set to the poll
  // event to wait for. Throw on a broken connection.
  std::size_t send_some(const char* data, std::size_t size, short& want);
  std::size_t recv_some(char* data, std::size_t size, short& want);
  [[noreturn]] void fail(const std::string& what);
  [[noreturn]] void fail_tls(const std::string& what);
  // The server closed or reset the connection. While logging in after a handshake in which it
  // asked for a client certificate, that is a TLS 1.3 server refusing the certificate (its
  // alert is often lost: it closes before reading our first command, so the kernel resets).
  [[noreturn]] void fail_closed(const std::string& what);

  redis_endpoint endpoint_;
  int fd_ = -1;
  redisReader* reader_ = nullptr;
  std::shared_ptr<ssl_ctx_st> tls_context_;  // built on the first TLS connect, then reused
  ssl_st* tls_ = nullptr;                    // the TLS session on fd_, if any
  bool client_cert_requested_ = false;       // by the server, in tls_'s handshake
  bool logging_in_ = false;                  // the first round trip of a connection
  // Counters for GET /metrics: the scope of the thread that created this connection.
  std::shared_ptr<metrics_scope> metrics_;
  bool connected_before_ = false;  // a connect after this one is a reconnect
  std::size_t ahead_ = 0;          // replies of send_ahead() not taken yet
  std::chrono::steady_clock::time_point ahead_sent_{};
};

// A client for the endpoint's topology: one server, or a Redis Cluster when endpoint.cluster.
std::unique_ptr<redis_client> make_redis_client(const redis_endpoint& endpoint);

}  // namespace ferry::clients
