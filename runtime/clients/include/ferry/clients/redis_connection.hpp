#pragma once

#include <hiredis/hiredis.h>

#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "ferry/api/errors.hpp"
#include "ferry/clients/redis_endpoint.hpp"

namespace ferry::clients {

// The connection failed, timed out or broke: the same commands may succeed after a reconnect.
class redis_io_error : public api::retriable_error {
 public:
  using api::retriable_error::retriable_error;
};

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
};

// One blocking connection to one Redis server, used by one thread at a time.
// Connects lazily; any I/O error or timeout closes it (the next call reconnects) and throws
// redis_io_error. Every call has a deadline of endpoint.timeout.
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
  const redis_endpoint& endpoint() const { return endpoint_; }

 private:
  std::vector<redis_reply> roundtrip(const std::string& out, std::size_t replies,
                                     std::chrono::steady_clock::time_point deadline);
  [[noreturn]] void fail(const std::string& what);

  redis_endpoint endpoint_;
  int fd_ = -1;
  redisReader* reader_ = nullptr;
};

// A client for the endpoint's topology: one server, or a Redis Cluster when endpoint.cluster.
std::unique_ptr<redis_client> make_redis_client(const redis_endpoint& endpoint);

}  // namespace ferry::clients
