#include "ferry/clients/redis_subscriber.hpp"

#include <arpa/inet.h>
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <string>
#include <thread>

using namespace ferry::clients;
using namespace std::chrono_literals;

namespace {

// A scripted Redis on a loopback port, one connection at a time: answers the login PING,
// confirms SUBSCRIBE / PSUBSCRIBE (one confirmation per name), answers PING with a pong unless
// told to stay silent, and pushes what the test queues. drop() closes the connection.
class fake_redis {
 public:
  fake_redis() {
    listener_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(listener_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    socklen_t len = sizeof addr;
    ::getsockname(listener_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    ::listen(listener_, 4);
    thread_ = std::thread([this] { run(); });
  }
  ~fake_redis() {
    stop_ = true;
    thread_.join();
    ::close(listener_);
  }
  int port() const { return port_; }
  void push(std::string resp) {
    std::lock_guard lock(mutex_);
    outbox_ += resp;
  }
  void drop() { drop_ = true; }
  void silent(bool s) { silent_ = s; }
  int subscribes() const { return subscribes_; }
  int pings() const { return pings_; }

 private:
  void run() {
    while (!stop_) {
      pollfd p{listener_, POLLIN, 0};
      if (::poll(&p, 1, 10) <= 0) continue;
      int fd = ::accept(listener_, nullptr, nullptr);
      serve(fd);
      ::close(fd);
    }
  }
  void serve(int fd) {
    std::string in;
    bool logged_in = false;
    while (!stop_ && !drop_) {
      {
        std::lock_guard lock(mutex_);
        if (!outbox_.empty()) {
          ::send(fd, outbox_.data(), outbox_.size(), MSG_NOSIGNAL);
          outbox_.clear();
        }
      }
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, 5) <= 0) continue;
      char buf[4096];
      auto n = ::recv(fd, buf, sizeof buf, 0);
      if (n <= 0) return;
      in.append(buf, static_cast<std::size_t>(n));
      // Commands are small here: handle each complete one by its name and argument count.
      for (;;) {
        auto star = in.find('*');
        auto eol = in.find("\r\n", star);
        if (star != 0 || eol == std::string::npos) break;
        int argc = std::stoi(in.substr(1, eol - 1));
        std::size_t pos = eol + 2;
        std::vector<std::string> args;
        bool complete = true;
        for (int a = 0; a < argc; ++a) {
          auto e = in.find("\r\n", pos);
          if (e == std::string::npos) {
            complete = false;
            break;
          }
          auto len = std::stoul(in.substr(pos + 1, e - pos - 1));
          if (e + 2 + len + 2 > in.size()) {
            complete = false;
            break;
          }
          args.push_back(in.substr(e + 2, len));
          pos = e + 2 + len + 2;
        }
        if (!complete) break;
        in.erase(0, pos);
        reply(fd, args, logged_in);
      }
    }
    drop_ = false;
  }
  void reply(int fd, const std::vector<std::string>& args, bool& logged_in) {
    std::string out;
    if (args[0] == "PING" && !logged_in) {
      logged_in = true;
      out = "+PONG\r\n";
    } else if (args[0] == "PING") {
      ++pings_;
      if (!silent_) out = "*2\r\n$4\r\npong\r\n$0\r\n\r\n";
    } else if (args[0] == "SUBSCRIBE" || args[0] == "PSUBSCRIBE") {
      ++subscribes_;
      std::string kind = args[0] == "SUBSCRIBE" ? "subscribe" : "psubscribe";
      for (std::size_t i = 1; i < args.size(); ++i) {
        out += "*3\r\n$" + std::to_string(kind.size()) + "\r\n" + kind + "\r\n$" +
               std::to_string(args[i].size()) + "\r\n" + args[i] + "\r\n:" + std::to_string(i) +
               "\r\n";
      }
    }
    if (!out.empty()) ::send(fd, out.data(), out.size(), MSG_NOSIGNAL);
  }

  int listener_ = -1;
  int port_ = 0;
  std::thread thread_;
  std::mutex mutex_;
  std::string outbox_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> drop_{false};
  std::atomic<bool> silent_{false};
  std::atomic<int> subscribes_{0};
  std::atomic<int> pings_{0};
};

redis_endpoint endpoint_of(const fake_redis& server, std::chrono::milliseconds timeout = 2000ms) {
  redis_endpoint ep;
  ep.host = "127.0.0.1";
  ep.port = server.port();
  ep.timeout = timeout;
  return ep;
}

std::string bulk(const std::string& s) {
  return "$" + std::to_string(s.size()) + "\r\n" + s + "\r\n";
}

}  // namespace

TEST_CASE(
    "redis_subscriber: subscribes, reads messages and pattern messages, waits no longer "
    "than the deadline") {
  fake_redis server;
  redis_subscriber sub(endpoint_of(server), {"a", "b"}, {"p*"});
  sub.connect();
  CHECK(sub.connected());
  CHECK(server.subscribes() == 2);

  std::vector<pubsub_message> out;
  auto began = std::chrono::steady_clock::now();
  CHECK(sub.read(out, 10, began + 100ms) == 0);
  auto waited = std::chrono::steady_clock::now() - began;
  CHECK(waited >= 90ms);  // poll() counts whole milliseconds
  CHECK(waited < 1s);
  CHECK(sub.connected());  // nothing arrived: not an error

  server.push("*3\r\n" + bulk("message") + bulk("a") + bulk("hello"));
  server.push("*4\r\n" + bulk("pmessage") + bulk("p*") + bulk("pq") + bulk("world"));
  while (out.size() < 2) sub.read(out, 10, std::chrono::steady_clock::now() + 2s);
  CHECK(out[0].channel == "a");
  CHECK(out[0].pattern.empty());
  CHECK(out[0].payload == "hello");
  CHECK(out[1].channel == "pq");
  CHECK(out[1].pattern == "p*");
  CHECK(out[1].payload == "world");
}

TEST_CASE("redis_subscriber: a closed connection is an I/O error, and connect() subscribes again") {
  fake_redis server;
  redis_subscriber sub(endpoint_of(server), {"a"}, {});
  sub.connect();
  server.drop();
  std::vector<pubsub_message> out;
  auto read_until_error = [&] {
    for (int i = 0; i < 100; ++i) sub.read(out, 10, std::chrono::steady_clock::now() + 50ms);
  };
  CHECK_THROWS_AS(read_until_error(), redis_io_error);
  CHECK_FALSE(sub.connected());
  CHECK_THROWS_AS(sub.read(out, 10, std::chrono::steady_clock::now()), redis_io_error);
  sub.connect();
  CHECK(sub.connected());
  CHECK(server.subscribes() == 2);
}

TEST_CASE("redis_subscriber: a silent connection is found by PING") {
  fake_redis server;
  redis_subscriber sub(endpoint_of(server, 300ms), {"a"}, {}, 50ms);
  sub.connect();
  std::vector<pubsub_message> out;
  // Answered pings keep the connection.
  auto until = std::chrono::steady_clock::now() + 400ms;
  while (std::chrono::steady_clock::now() < until) {
    sub.read(out, 10, std::chrono::steady_clock::now() + 20ms);
  }
  CHECK(server.pings() >= 1);
  CHECK(sub.connected());
  server.silent(true);
  auto read_until_error = [&] {
    auto end = std::chrono::steady_clock::now() + 3s;
    while (std::chrono::steady_clock::now() < end) {
      sub.read(out, 10, std::chrono::steady_clock::now() + 20ms);
    }
  };
  CHECK_THROWS_AS(read_until_error(), redis_io_error);
  CHECK_FALSE(sub.connected());
}
