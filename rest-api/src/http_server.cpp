#include "ferry/rest/http_server.hpp"

#include <openssl/ssl.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <stdexcept>
#include <thread>
#include <vector>

#include "ferry/core/log.hpp"

namespace ferry::rest {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = net::ip::tcp;
using tls_stream = beast::ssl_stream<beast::tcp_stream>;

namespace {

constexpr auto k_idle_timeout = std::chrono::seconds(30);
constexpr auto k_handshake_timeout = std::chrono::seconds(10);
constexpr auto use_tuple = net::as_tuple(net::use_awaitable);

// Ends our side of a plain connection, so a client still sending sees the answer, not a reset.
// A TLS connection is ended with close_notify by its session instead.
void half_close(beast::tcp_stream& stream) {
  beast::error_code ec;
  stream.socket().shutdown(tcp::socket::shutdown_send, ec);
}
void half_close(tls_stream&) {}

// asio's context takes ownership of the SSL_CTX it wraps: give it a reference of its own.
std::unique_ptr<net::ssl::context> wrap(const tls_context& ctx) {
  if (!ctx) return nullptr;
  SSL_CTX_up_ref(ctx.get());
  return std::make_unique<net::ssl::context>(ctx.get());
}

}  // namespace

struct http_server::impl {
  impl(http_server_options o, http_handler h)
      : options(std::move(o)),
        handler(std::move(h)),
        pool(static_cast<std::size_t>(options.handler_threads)),
        acceptor(io),
        tls(wrap(options.tls)) {}

  net::awaitable<void> listen();
  net::awaitable<void> session(tcp::socket socket);
  template <typename Stream>
  net::awaitable<void> serve(Stream& stream);
  template <typename Stream>
  net::awaitable<void> reject(Stream& stream, int status, const std::string& message,
                              unsigned version);

  http_server_options options;
  http_handler handler;
  net::io_context io;
  net::thread_pool pool;
  tcp::acceptor acceptor;
  std::unique_ptr<net::ssl::context> tls;  // null: plain HTTP
  std::vector<std::thread> threads;
  std::uint16_t port = 0;
  bool running = false;
};

namespace {

bhttp::response<bhttp::string_body> to_beast(const http_response& r, unsigned version,
                                             bool keep_alive) {
  bhttp::response<bhttp::string_body> res{static_cast<bhttp::status>(r.status), version};
  res.set(bhttp::field::server, "ferry");
  if (!r.content_type.empty()) res.set(bhttp::field::content_type, r.content_type);
  for (const auto& [k, v] : r.headers) res.set(k, v);
  res.body() = r.body;
  res.keep_alive(keep_alive);
  res.prepare_payload();
  return res;
}

}  // namespace

net::awaitable<void> http_server::impl::listen() {
  for (;;) {
    auto [ec, socket] = co_await acceptor.async_accept(net::make_strand(io), use_tuple);
    if (ec) {
      if (ec == net::error::operation_aborted || !acceptor.is_open()) co_return;
      continue;
    }
    auto executor = socket.get_executor();
    net::co_spawn(executor, session(std::move(socket)), net::detached);
  }
}

// Answers with an error and closes; reads (and drops) what the client is still sending for a
// moment, so it sees the answer rather than a reset connection.
template <typename Stream>
net::awaitable<void> http_server::impl::reject(Stream& stream, int status,
                                               const std::string& message, unsigned version) {
  auto res = to_beast(http_response::error(status, message), version, false);
  auto& tcp_layer = beast::get_lowest_layer(stream);
  tcp_layer.expires_after(std::chrono::seconds(5));
  co_await bhttp::async_write(stream, res, use_tuple);
  half_close(stream);
  std::vector<char> scratch(64 * 1024);
  std::size_t drained = 0;
  tcp_layer.expires_after(std::chrono::seconds(2));
  while (drained < 64 * 1024 * 1024) {
    auto [rec, n] = co_await stream.async_read_some(net::buffer(scratch), use_tuple);
    if (rec) break;
    drained += n;
  }
}

net::awaitable<void> http_server::impl::session(tcp::socket socket) {
  if (!tls) {
    beast::tcp_stream stream(std::move(socket));
    co_await serve(stream);
    half_close(stream);
    co_return;
  }
  tls_stream stream(beast::tcp_stream(std::move(socket)), *tls);
  auto& tcp_layer = beast::get_lowest_layer(stream);
  tcp_layer.expires_after(k_handshake_timeout);
  auto [hec] = co_await stream.async_handshake(net::ssl::stream_base::server, use_tuple);
  if (hec) {
    log::debug("rest", "TLS handshake failed: ", hec.message());
    co_return;
  }
  co_await serve(stream);
  tcp_layer.expires_after(std::chrono::seconds(2));
  co_await stream.async_shutdown(use_tuple);
}

template <typename Stream>
net::awaitable<void> http_server::impl::serve(Stream& stream) {
  auto& tcp_layer = beast::get_lowest_layer(stream);
  beast::flat_buffer buffer;
  for (;;) {
    bhttp::request_parser<bhttp::string_body> parser;
    parser.header_limit(64 * 1024);
    parser.body_limit(options.body_limit);
    tcp_layer.expires_after(k_idle_timeout);
    auto [hec, hn] = co_await bhttp::async_read_header(stream, buffer, parser, use_tuple);
    if (hec == bhttp::error::body_limit) {  // Content-Length already over the limit
      co_await reject(stream, 413,
                      "Request body is larger than the limit of " +
                          std::to_string(options.body_limit) + " bytes",
                      parser.get().version());
      break;
    }
    if (hec) {
      if (hec != bhttp::error::end_of_stream && hec != beast::error::timeout &&
          hec != net::error::connection_reset && hec != net::error::eof) {
        co_await reject(stream, 400, "Malformed HTTP request: " + hec.message(), 11);
      }
      break;
    }
    auto& header = parser.get();
    unsigned version = header.version();
    if (parser.content_length() && *parser.content_length() > options.body_limit) {
      co_await reject(stream, 413,
                      "Request body of " + std::to_string(*parser.content_length()) +
                          " bytes is larger than the limit of " +
                          std::to_string(options.body_limit) + " bytes",
                      version);
      break;
    }
    if (beast::iequals(header[bhttp::field::expect], "100-continue")) {
      bhttp::response<bhttp::empty_body> cont{bhttp::status::continue_, version};
      co_await bhttp::async_write(stream, cont, use_tuple);
    }
    auto [bec, bn] = co_await bhttp::async_read(stream, buffer, parser, use_tuple);
    if (bec == bhttp::error::body_limit) {
      co_await reject(stream, 413,
                      "Request body is larger than the limit of " +
                          std::to_string(options.body_limit) + " bytes",
                      version);
      break;
    }
    if (bec) {
      if (bec != beast::error::timeout && bec != bhttp::error::end_of_stream) {
        co_await reject(stream, 400, "Malformed HTTP request: " + bec.message(), version);
      }
      break;
    }
    auto req = parser.release();
    http_request request;
    request.method = std::string(req.method_string());
    parse_target(std::string(req.target()), request.path, request.query);
    request.content_type = std::string(req[bhttp::field::content_type]);
    request.authorization = std::string(req[bhttp::field::authorization]);
    request.body = std::move(req.body());
    bool keep_alive = req.keep_alive();

    // Handlers may block (a herder write waits for the control thread): run them on the pool so
    // this connection's strand, and every other connection, stays free.
    http_response response;
    try {
      response = co_await net::co_spawn(
          pool.get_executor(),
          [this, &request]() -> net::awaitable<http_response> { co_return handler(request); },
          net::use_awaitable);
    } catch (const std::exception& e) {
      response = http_response::error(500, e.what());
    }
    auto res = to_beast(response, version, keep_alive);
    tcp_layer.expires_after(k_idle_timeout);
    auto [wec, wn] = co_await bhttp::async_write(stream, res, use_tuple);
    if (wec || !keep_alive) break;
  }
}

http_server::http_server(http_server_options options, http_handler handler)
    : impl_(std::make_unique<impl>(std::move(options), std::move(handler))) {}

http_server::~http_server() {
  stop();
}

void http_server::start() {
  auto& s = *impl_;
  beast::error_code ec;
  auto address = net::ip::make_address(s.options.host, ec);
  if (ec) {
    // A host name: resolve it once.
    tcp::resolver resolver(s.io);
    auto results = resolver.resolve(s.options.host, std::to_string(s.options.port), ec);
    if (ec || results.empty()) {
      throw std::runtime_error("Cannot resolve REST listener host " + s.options.host + ": " +
                               ec.message());
    }
    address = results.begin()->endpoint().address();
  }
  tcp::endpoint endpoint(address, s.options.port);
  s.acceptor.open(endpoint.protocol(), ec);
  if (!ec) s.acceptor.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) s.acceptor.bind(endpoint, ec);
  if (!ec) s.acceptor.listen(net::socket_base::max_listen_connections, ec);
  if (ec) {
    throw std::runtime_error("Cannot listen on " + s.options.host + ":" +
                             std::to_string(s.options.port) + ": " + ec.message());
  }
  s.port = s.acceptor.local_endpoint().port();
  net::co_spawn(s.io, s.listen(), net::detached);
  s.running = true;
  for (int i = 0; i < s.options.io_threads; ++i) s.threads.emplace_back([&s] { s.io.run(); });
}

void http_server::stop() {
  auto& s = *impl_;
  if (!s.running) return;
  s.running = false;
  net::post(s.io, [&s] {
    beast::error_code ec;
    s.acceptor.close(ec);
  });
  s.io.stop();
  for (auto& t : s.threads) t.join();
  s.threads.clear();
  s.pool.join();
}

std::uint16_t http_server::port() const {
  return impl_->port;
}

}  // namespace ferry::rest
