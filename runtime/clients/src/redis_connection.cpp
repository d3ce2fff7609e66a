#include "ferry/clients/redis_connection.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace ferry::clients {

using clock = std::chrono::steady_clock;

std::string redis_reply_view::describe() const {
  switch (r_->type) {
    case REDIS_REPLY_NIL:
      return "(nil)";
    case REDIS_REPLY_INTEGER:
      return std::to_string(r_->integer);
    case REDIS_REPLY_ARRAY:
      return "(array of " + std::to_string(r_->elements) + ")";
    default:
      return std::string(str());
  }
}

void redis_pipeline::begin(std::size_t argc) {
  buf_ += '*';
  buf_ += std::to_string(argc);
  buf_ += "\r\n";
  ++count_;
}

void redis_pipeline::arg(std::string_view a) {
  buf_ += '$';
  buf_ += std::to_string(a.size());
  buf_ += "\r\n";
  buf_.append(a.data(), a.size());
  buf_ += "\r\n";
}

void redis_pipeline::add(std::initializer_list<std::string_view> args) {
  begin(args.size());
  for (auto a : args) arg(a);
}

void redis_pipeline::add(const std::vector<std::string_view>& args) {
  begin(args.size());
  for (auto a : args) arg(a);
}

redis_connection::redis_connection(redis_endpoint endpoint) : endpoint_(std::move(endpoint)) {}

redis_connection::~redis_connection() {
  close();
}

void redis_connection::close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  if (reader_) redisReaderFree(reader_);
  reader_ = nullptr;
}

void redis_connection::fail(const std::string& what) {
  close();
  throw redis_io_error("Redis at " + endpoint_.address() + ": " + what);
}

namespace {

int wait_fd(int fd, short events, clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now());
  if (left.count() <= 0) return 0;
  pollfd p{.fd = fd, .events = events, .revents = 0};
  int rc = 0;
  do {
    rc = ::poll(&p, 1, static_cast<int>(left.count()));
  } while (rc < 0 && errno == EINTR);
  return rc < 0 ? -1 : (rc == 0 ? 0 : p.revents);
}

}  // namespace

void redis_connection::connect() {
  if (fd_ >= 0) return;
  auto deadline = clock::now() + endpoint_.timeout;
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  auto port = std::to_string(endpoint_.port);
  if (int rc = ::getaddrinfo(endpoint_.host.c_str(), port.c_str(), &hints, &res); rc != 0) {
    throw redis_io_error("Redis at " + endpoint_.address() +
                         ": cannot resolve host: " + gai_strerror(rc));
  }
  std::string last_error = "no address";
  for (auto* ai = res; ai; ai = ai->ai_next) {
    int fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) continue;
    int rc = ::connect(fd, ai->ai_addr, ai->ai_addrlen);
    if (rc < 0 && errno == EINPROGRESS) {
      int ev = wait_fd(fd, POLLOUT, deadline);
      int err = 0;
      socklen_t len = sizeof err;
      if (ev <= 0) {
        err = ETIMEDOUT;
      } else {
        ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
      }
      rc = err == 0 ? 0 : -1;
      errno = err;
    }
    if (rc == 0) {
      fd_ = fd;
      break;
    }
    last_error = std::strerror(errno);
    ::close(fd);
  }
  ::freeaddrinfo(res);
  if (fd_ < 0) throw redis_io_error("Redis at " + endpoint_.address() + ": " + last_error);
  int one = 1;
  ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  reader_ = redisReaderCreate();
  // Keep the reader's buffer across replies: hiredis frees it when it exceeds maxbuf (16 KB by
  // default), which costs a malloc per big batch.
  reader_->maxbuf = 0;

  redis_pipeline hello;
  if (!endpoint_.password.empty()) {
    if (endpoint_.username.empty()) {
      hello.add({"AUTH", endpoint_.password});
    } else {
      hello.add({"AUTH", endpoint_.username, endpoint_.password});
    }
  }
  std::string db = std::to_string(endpoint_.database);
  if (endpoint_.database != 0) hello.add({"SELECT", db});
  if (hello.empty()) return;
  auto replies = roundtrip(hello.buffer(), hello.size(), deadline);
  for (const auto& r : replies) {
    if (r.view().is_error()) {
      auto msg = std::string(r.view().str());
      close();
      throw redis_io_error("Redis at " + endpoint_.address() + " refused the login: " + msg);
    }
  }
}

std::vector<redis_reply> redis_connection::execute(const redis_pipeline& pipeline) {
  if (pipeline.empty()) return {};
  connect();
  return roundtrip(pipeline.buffer(), pipeline.size(), clock::now() + endpoint_.timeout);
}

redis_reply redis_client::command(std::initializer_list<std::string_view> args) {
  redis_pipeline p;
  p.add(args);
  auto replies = execute(p);
  return std::move(replies.front());
}

std::vector<redis_reply> redis_connection::roundtrip(const std::string& out, std::size_t replies,
                                                     clock::time_point deadline) {
  std::vector<redis_reply> result;
  result.reserve(replies);
  std::size_t written = 0;
  char buf[64 * 1024];
  // Write and read at the same time: a large pipeline would otherwise fill both socket buffers.
  while (result.size() < replies) {
    short events = POLLIN;
    if (written < out.size()) events |= POLLOUT;
    int ev = wait_fd(fd_, events, deadline);
    if (ev == 0) fail("timed out after " + std::to_string(endpoint_.timeout.count()) + " ms");
    if (ev < 0) fail(std::strerror(errno));
    if ((ev & POLLOUT) && written < out.size()) {
      auto n = ::send(fd_, out.data() + written, out.size() - written, MSG_NOSIGNAL);
      if (n < 0 && errno != EAGAIN && errno != EINTR) fail(std::strerror(errno));
      if (n > 0) written += static_cast<std::size_t>(n);
    }
    if (ev & (POLLIN | POLLHUP | POLLERR)) {
      auto n = ::recv(fd_, buf, sizeof buf, 0);
      if (n == 0) fail("connection closed by server");
      if (n < 0) {
        if (errno == EAGAIN || errno == EINTR) continue;
        fail(std::strerror(errno));
      }
      if (redisReaderFeed(reader_, buf, static_cast<std::size_t>(n)) != REDIS_OK) {
        fail("protocol error");
      }
      for (;;) {
        void* reply = nullptr;
        if (redisReaderGetReply(reader_, &reply) != REDIS_OK) fail("protocol error");
        if (!reply) break;
        result.emplace_back(static_cast<redisReply*>(reply));
      }
    }
  }
  return result;
}

}  // namespace ferry::clients
