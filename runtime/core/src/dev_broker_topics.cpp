#include "dev_broker_topics.hpp"

#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <memory>

namespace ferry::core {

namespace {

using steady = std::chrono::steady_clock;

int ms_left(steady::time_point deadline) {
  auto left =
      std::chrono::duration_cast<std::chrono::milliseconds>(deadline - steady::now()).count();
  return static_cast<int>(std::max<std::int64_t>(left, 0));
}

bool wait_fd(int fd, short events, steady::time_point deadline) {
  pollfd p{.fd = fd, .events = events, .revents = 0};
  return ::poll(&p, 1, ms_left(deadline)) == 1;
}

}  // namespace

std::string create_topic_on_dev_broker(const std::string& control,
                                       const clients::topic_spec& spec) {
  auto colon = control.rfind(':');
  if (colon == std::string::npos) return "dev.broker.control must be host:port, not " + control;
  auto host = control.substr(0, colon), port = control.substr(colon + 1);
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (int rc = ::getaddrinfo(host.c_str(), port.c_str(), &hints, &found); rc != 0) {
    return "cannot resolve " + control + ": " + ::gai_strerror(rc);
  }
  std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> addresses(found, ::freeaddrinfo);
  auto deadline = steady::now() + std::chrono::seconds(5);
  int fd = ::socket(found->ai_family, found->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return std::string("socket: ") + std::strerror(errno);
  struct closer {
    int fd;
    ~closer() { ::close(fd); }
  } close_fd{fd};
  if (::connect(fd, found->ai_addr, found->ai_addrlen) != 0 && errno != EINPROGRESS) {
    return "cannot connect to " + control + ": " + std::strerror(errno);
  }
  if (!wait_fd(fd, POLLOUT, deadline)) return "cannot connect to " + control + ": timed out";
  int so_error = 0;
  socklen_t len = sizeof so_error;
  ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &so_error, &len);
  if (so_error != 0) return "cannot connect to " + control + ": " + std::strerror(so_error);
  std::string command = "create-topic " + spec.name + " " + std::to_string(spec.partitions) + " " +
                        std::to_string(spec.replication_factor > 0 ? spec.replication_factor : 1) +
                        "\n";
  std::size_t sent = 0;
  while (sent < command.size()) {
    if (!wait_fd(fd, POLLOUT, deadline)) return "timed out writing to " + control;
    auto n = ::send(fd, command.data() + sent, command.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno != EAGAIN && errno != EINTR)
      return std::string("send: ") + std::strerror(errno);
    if (n > 0) sent += static_cast<std::size_t>(n);
  }
  std::string reply;
  while (reply.find('\n') == std::string::npos) {
    if (!wait_fd(fd, POLLIN, deadline)) return "no answer from " + control + " in time";
    char buf[512];
    auto n = ::recv(fd, buf, sizeof buf, 0);
    if (n == 0) return "the control channel at " + control + " closed without an answer";
    if (n < 0 && errno != EAGAIN && errno != EINTR)
      return std::string("recv: ") + std::strerror(errno);
    if (n > 0) reply.append(buf, static_cast<std::size_t>(n));
  }
  reply.resize(reply.find('\n'));
  if (!reply.empty() && reply.back() == '\r') reply.pop_back();
  if (reply.rfind("OK", 0) == 0) return {};
  return "the development broker answered: " + reply;
}

}  // namespace ferry::core
