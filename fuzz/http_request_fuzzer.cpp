// libFuzzer target: arbitrary bytes sent as-is over a loopback TCP connection to the real
// rest::http_server, whose handler is the worker's router (Connect, admin and OpenAPI routes)
// over the scripted fake herder of the unit tests.
//
// One server, started once in LLVMFuzzerInitialize, serves every input. For each input the
// fuzzer connects, writes the bytes, half-closes (SHUT_WR) and reads until the server closes,
// then checks what came back (see check_responses). Findings abort(): a hang past the deadline,
// a malformed response, an error without Kafka Connect's {"error_code","message"} body, any 500
// (the fake herder never throws one on purpose), besides crashes, sanitizer reports and leaks.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>

#include "../tests/unit/rest/fake_herder.hpp"
#include "ferry/core/errors.hpp"
#include "ferry/core/log.hpp"
#include "ferry/rest/admin_routes.hpp"
#include "ferry/rest/connect_routes.hpp"
#include "ferry/rest/http_server.hpp"
#include "ferry/rest/router.hpp"

namespace {

using namespace std::chrono_literals;

constexpr auto k_deadline = 10s;  // a request that takes longer is a hang (finding)
// Small enough that inputs under libFuzzer's default -max_len (4096) can stream past it (413);
// the worker accepts rest.max.body.bytes down to 1024.
constexpr std::uint64_t k_body_limit = 2048;

// Everything the server needs; created once, never destroyed (its threads run until exit).
struct fixture {
  ferry::test::fake_herder herder;
  ferry::rest::router router;
  std::unique_ptr<ferry::rest::http_server> server;
  sockaddr_in address{};
};
fixture* g_fixture = nullptr;
std::string_view g_input;  // the current input, printed with a finding
// stderr as it was at start-up: still open under -close_fd_mask=2, which silences the log.
int g_diag_fd = 2;
bool g_print = false;  // FERRY_FUZZ_HTTP_PRINT=1: print every exchange (to read a reproducer)

void print_exchange(const char* what, std::string_view responses) {
  dprintf(g_diag_fd, "http_request_fuzzer: %s\n--- request (%zu bytes) ---\n%.*s\n", what,
          g_input.size(), static_cast<int>(std::min<std::size_t>(g_input.size(), 4096)),
          g_input.data());
  dprintf(g_diag_fd, "--- responses (%zu bytes) ---\n%.*s\n---\n", responses.size(),
          static_cast<int>(std::min<std::size_t>(responses.size(), 4096)), responses.data());
}

[[noreturn]] void finding(const std::string& what, std::string_view responses) {
  print_exchange(what.c_str(), responses);
  std::abort();
}

void script_herder(ferry::test::fake_herder& h) {
  // Names the corpus and dictionary use; anything else is "not found" (404).
  h.names = {"c", "sink", "source", "orders", "my connector", "failing", "gone", "exists"};
  h.vanished = {"gone"};  // listed by GET /connectors, 404 when read
  h.status_of["failing"] = {{"name", "failing"},
                            {"connector", {{"state", "FAILED"}, {"worker_id", "w:1"}}},
                            {"tasks",
                             {{{"id", 0}, {"state", "FAILED"}, {"worker_id", "w:1"}},
                              {{"id", 1}, {"state", "RUNNING"}, {"worker_id", "w:1"}}}},
                            {"type", "source"}};
  // Creating "exists" conflicts (409), as a second POST of one name does.
  h.on_put = [&h] {
    if (!h.puts.empty() && h.puts.back().name == "exists" && !h.puts.back().allow_replace) {
      throw ferry::core::already_exists_error("Connector exists already exists");
    }
  };
}

// ---- response checks -------------------------------------------------------------------------

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

// `all` is zero or more responses, back to back, as the server wrote them before closing.
// Each must be "HTTP/1.x NNN reason", headers, then exactly Content-Length bytes of body
// (none for 1xx and 204). A final response's body, when JSON, must parse; 4xx/5xx bodies must be
// {"error_code": <the status>, "message": "..."}; a 500 is never expected. Nothing may follow a
// response that said "Connection: close".
void check_responses(std::string_view all) {
  std::size_t pos = 0;
  bool closed = false;
  while (pos < all.size()) {
    if (closed) finding("bytes after a Connection: close response", all);
    auto head_end = all.find("\r\n\r\n", pos);
    if (head_end == std::string_view::npos) finding("response head not terminated", all);
    auto head = all.substr(pos, head_end - pos);
    pos = head_end + 4;

    // Status line. The server answers HTTP/1.0 requests as HTTP/1.0, others as HTTP/1.1.
    if (head.size() < 12 || head.substr(0, 7) != "HTTP/1." || (head[7] != '0' && head[7] != '1') ||
        head[8] != ' ' || !is_digit(head[9]) || !is_digit(head[10]) || !is_digit(head[11]) ||
        (head.size() > 12 && head[12] != ' ')) {
      finding("malformed status line", all);
    }
    int status = (head[9] - '0') * 100 + (head[10] - '0') * 10 + (head[11] - '0');
    if (status < 100 || status > 599) finding("status out of range", all);

    // Headers.
    long long content_length = -1;
    std::string content_type;
    bool close = false;
    auto line_start = head.find("\r\n");
    while (line_start != std::string_view::npos) {
      line_start += 2;
      auto line_end = head.find("\r\n", line_start);
      auto line =
          head.substr(line_start, line_end == std::string_view::npos ? std::string_view::npos
                                                                     : line_end - line_start);
      line_start = line_end;
      auto colon = line.find(':');
      if (colon == std::string_view::npos || colon == 0) finding("malformed header line", all);
      auto name = line.substr(0, colon);
      auto value = line.substr(colon + 1);
      while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
      for (char c : line) {
        if (c == '\r' || c == '\n' || c == '\0') finding("control character in a header", all);
      }
      if (iequals(name, "Content-Length")) {
        if (content_length >= 0) finding("two Content-Length headers", all);
        if (value.empty() || value.size() > 12) finding("bad Content-Length", all);
        content_length = 0;
        for (char c : value) {
          if (!is_digit(c)) finding("bad Content-Length", all);
          content_length = content_length * 10 + (c - '0');
        }
      } else if (iequals(name, "Transfer-Encoding")) {
        finding("unexpected Transfer-Encoding (responses are sized)", all);
      } else if (iequals(name, "Content-Type")) {
        content_type = std::string(value);
      } else if (iequals(name, "Connection")) {
        close = iequals(value, "close");
      }
    }

    if (status < 200) {  // 100 Continue, before the final answer to an Expect: 100-continue
      if (content_length > 0) finding("body on an interim response", all);
      continue;
    }
    closed = close;
    std::string_view body;
    if (status == 204) {
      if (content_length > 0) finding("body on a 204", all);
    } else {
      if (content_length < 0) finding("final response without Content-Length", all);
      if (pos + static_cast<std::size_t>(content_length) > all.size()) {
        finding("response body cut short", all);
      }
      body = all.substr(pos, static_cast<std::size_t>(content_length));
      pos += static_cast<std::size_t>(content_length);
    }

    if (status == 500) finding("500 Internal Server Error", all);
    if (content_type.find("json") != std::string::npos) {
      auto parsed = ferry::json::parse(body, nullptr, false);
      if (parsed.is_discarded()) finding("JSON response body does not parse", all);
      if (status >= 400) {
        if (!parsed.is_object() || !parsed.contains("error_code") ||
            !parsed["error_code"].is_number_integer() ||
            parsed["error_code"].get<int>() != status || !parsed.contains("message") ||
            !parsed["message"].is_string()) {
          finding("error response without {\"error_code\": status, \"message\": string}", all);
        }
      }
    } else if (status >= 400) {
      finding("error response that is not JSON", all);
    }
  }
}

// ---- one exchange -----------------------------------------------------------------------------

// Sends `request`, half-closes and returns everything the server wrote until it closed. Reads
// while writing, so a long pipelined input cannot deadlock on full socket buffers.
std::string exchange(std::string_view request) {
  auto deadline = std::chrono::steady_clock::now() + k_deadline;
  // Non-blocking: libFuzzer's SIGALRM (-timeout) interrupts a blocking connect() with EINTR.
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) finding(std::string("socket: ") + std::strerror(errno), {});
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&g_fixture->address),
                sizeof g_fixture->address) != 0) {
    if (errno != EINPROGRESS && errno != EINTR) {
      finding(std::string("connect: ") + std::strerror(errno), {});
    }
    for (;;) {  // wait until connected, then ask how it went
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) finding("connect did not complete within 10 s", {});
      pollfd p{fd, POLLOUT, 0};
      int r = ::poll(&p, 1, static_cast<int>(left.count()));
      if (r > 0) break;
      if (r < 0 && errno != EINTR) finding(std::string("poll: ") + std::strerror(errno), {});
    }
    int err = 0;
    socklen_t len = sizeof err;
    ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0) finding(std::string("connect: ") + std::strerror(err), {});
  }
  std::string received;
  std::size_t sent = 0;
  bool write_open = true;
  if (request.empty()) {
    ::shutdown(fd, SHUT_WR);
    write_open = false;
  }
  char buf[16 * 1024];
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) finding("server did not close the connection within 10 s", received);
    pollfd p{fd, static_cast<short>(POLLIN | (write_open ? POLLOUT : 0)), 0};
    int r = ::poll(&p, 1, static_cast<int>(left.count()));
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) finding(std::string("poll: ") + std::strerror(errno), received);
    if (r == 0) continue;  // deadline check above
    if (write_open && (p.revents & (POLLOUT | POLLERR | POLLHUP))) {
      auto n =
          ::send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n > 0) sent += static_cast<std::size_t>(n);
      if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
        write_open = false;  // the server closed early (e.g. after a 400 or 413): fine
      } else if (sent == request.size()) {
        ::shutdown(fd, SHUT_WR);
        write_open = false;
      }
    }
    if (p.revents & (POLLIN | POLLERR | POLLHUP)) {
      auto n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
      if (n > 0) {
        received.append(buf, static_cast<std::size_t>(n));
      } else if (n == 0) {
        break;
      } else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
        break;  // ECONNRESET: the server closed with unread input; what came before counts
      }
    }
  }
  ::close(fd);
  return received;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  if (int fd = ::dup(2); fd >= 0) g_diag_fd = fd;
  const char* print = std::getenv("FERRY_FUZZ_HTTP_PRINT");
  g_print = print && std::string_view(print) == "1";
  // Quiet: INFO lines per request would dominate the run time. Findings abort with their own
  // message instead.
  ferry::log::set_level(ferry::log::level::error);
  g_fixture = new fixture;
  script_herder(g_fixture->herder);
  ferry::rest::add_connect_routes(g_fixture->router, g_fixture->herder);
  ferry::rest::add_admin_routes(g_fixture->router);
  ferry::rest::add_openapi_route(g_fixture->router, "fuzz");
  // One handler thread: the fake herder is not thread-safe, and connections come one at a time.
  g_fixture->server = std::make_unique<ferry::rest::http_server>(
      ferry::rest::http_server_options{.host = "127.0.0.1",
                                       .port = 0,
                                       .body_limit = k_body_limit,
                                       .io_threads = 1,
                                       .handler_threads = 1},
      [](const ferry::rest::http_request& r) { return g_fixture->router.handle(r); });
  g_fixture->server->start();
  g_fixture->address.sin_family = AF_INET;
  g_fixture->address.sin_port = htons(g_fixture->server->port());
  g_fixture->address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  g_input = std::string_view(reinterpret_cast<const char*>(data), size);
  auto responses = exchange(g_input);
  if (g_print) print_exchange("exchange", responses);
  check_responses(responses);
  // The server has closed the connection, so no handler runs now: forget the recorded calls
  // (they would grow for the whole run) and undo a PUT /admin/loggers/root.
  g_fixture->herder.calls.clear();
  g_fixture->herder.puts.clear();
  ferry::log::set_level(ferry::log::level::error);
  return 0;
}
