#include "ferry/clients/redis_connection.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <utility>

#include "ferry/clients/client_metrics.hpp"

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

namespace {

// "<marker><n>\r\n" appended in one go: the hot path of every pipeline (two per argument).
void append_header(std::string& buf, char marker, std::size_t n) {
  char head[24];
  head[0] = marker;
  auto end = std::to_chars(head + 1, head + sizeof head - 2, n).ptr;
  *end++ = '\r';
  *end++ = '\n';
  buf.append(head, static_cast<std::size_t>(end - head));
}

}  // namespace

void redis_pipeline::begin(std::size_t argc) {
  append_header(buf_, '*', argc);
  ++count_;
}

void redis_pipeline::arg(std::string_view a) {
  // A short argument (most field names and values) is framed on the stack and appended with
  // one copy; a long one is appended in three.
  constexpr std::size_t k_short = 64;
  if (a.size() > k_short) {
    append_header(buf_, '$', a.size());
    buf_.append(a.data(), a.size());
    buf_.append("\r\n", 2);
    return;
  }
  char framed[k_short + 8];  // "$" + at most 2 digits + CRLF + argument + CRLF
  char* p = framed;
  *p++ = '$';
  if (a.size() >= 10) *p++ = static_cast<char>('0' + a.size() / 10);
  *p++ = static_cast<char>('0' + a.size() % 10);
  *p++ = '\r';
  *p++ = '\n';
  std::memcpy(p, a.data(), a.size());
  p += a.size();
  *p++ = '\r';
  *p++ = '\n';
  buf_.append(framed, static_cast<std::size_t>(p - framed));
}

void redis_pipeline::add(std::initializer_list<std::string_view> args) {
  begin(args.size());
  for (auto a : args) arg(a);
}

void redis_pipeline::add(const std::vector<std::string_view>& args) {
  begin(args.size());
  for (auto a : args) arg(a);
}

namespace {

// ---------------------------------------------------------------- TLS context

struct ctx_deleter {
  void operator()(SSL_CTX* c) const { SSL_CTX_free(c); }
};

// The last OpenSSL error of this thread as text, and the queue cleared.
std::string openssl_error() {
  unsigned long code = ERR_peek_last_error();
  std::string text = "unknown TLS error";
  if (code != 0) {
    char buf[256];
    ERR_error_string_n(code, buf, sizeof buf);
    text = buf;
  }
  ERR_clear_error();
  return text;
}

void check_readable(redis_tls_file_error::file which, const std::string& path,
                    const std::string& what) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) {
    throw redis_tls_file_error(which, path,
                               "cannot read " + what + " " + path + ": " + std::strerror(errno));
  }
  std::fclose(f);
}

// Hands OpenSSL the key password (never prompts on a terminal: without a password an encrypted
// key fails to load).
int key_password_cb(char* buf, int size, int, void* userdata) {
  const auto* password = static_cast<const std::string*>(userdata);
  if (!password || password->empty() || size <= 0) return 0;
  auto n = std::min(password->size(), static_cast<std::size_t>(size));
  std::memcpy(buf, password->data(), n);
  return static_cast<int>(n);
}

std::shared_ptr<SSL_CTX> make_tls_context(const redis_tls_settings& tls) {
  using file = redis_tls_file_error::file;
  std::shared_ptr<SSL_CTX> ctx(SSL_CTX_new(TLS_client_method()), ctx_deleter{});
  if (!ctx) throw api::connect_error("cannot create a TLS context: " + openssl_error());
  SSL_CTX_set_min_proto_version(ctx.get(), TLS1_2_VERSION);
  SSL_CTX_set_mode(ctx.get(), SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  if (!tls.ca_file.empty()) {
    check_readable(file::ca, tls.ca_file, "CA file");
    if (SSL_CTX_load_verify_locations(ctx.get(), tls.ca_file.c_str(), nullptr) != 1) {
      throw redis_tls_file_error(
          file::ca, tls.ca_file,
          "CA file " + tls.ca_file + " holds no usable PEM certificate: " + openssl_error());
    }
  } else if (SSL_CTX_set_default_verify_paths(ctx.get()) != 1) {
    throw api::connect_error("cannot load the system's trusted CAs: " + openssl_error());
  }
  if (!tls.key_file.empty() && tls.cert_file.empty()) {
    throw redis_tls_file_error(
        file::cert, tls.cert_file,
        "a client key (" + tls.key_file + ") needs a client certificate, which is not set");
  }
  if (!tls.cert_file.empty()) {
    check_readable(file::cert, tls.cert_file, "client certificate file");
    if (SSL_CTX_use_certificate_chain_file(ctx.get(), tls.cert_file.c_str()) != 1) {
      throw redis_tls_file_error(file::cert, tls.cert_file,
                                 "client certificate file " + tls.cert_file +
                                     " holds no usable PEM certificate: " + openssl_error());
    }
    // No key file: the key is expected next to the certificate in the same PEM file.
    const auto& key = tls.key_file.empty() ? tls.cert_file : tls.key_file;
    auto which = tls.key_file.empty() ? file::cert : file::key;
    check_readable(which, key, "client key file");
    SSL_CTX_set_default_passwd_cb(ctx.get(), key_password_cb);
    SSL_CTX_set_default_passwd_cb_userdata(ctx.get(), const_cast<std::string*>(&tls.key_password));
    int loaded = SSL_CTX_use_PrivateKey_file(ctx.get(), key.c_str(), SSL_FILETYPE_PEM);
    SSL_CTX_set_default_passwd_cb_userdata(ctx.get(), nullptr);
    if (loaded != 1) {
      unsigned long code = ERR_peek_last_error();
      if (ERR_GET_LIB(code) == ERR_LIB_X509 && ERR_GET_REASON(code) == X509_R_KEY_VALUES_MISMATCH) {
        ERR_clear_error();
        throw redis_tls_file_error(
            which, key, "client key file " + key + " does not match certificate " + tls.cert_file);
      }
      auto why = openssl_error();
      throw redis_tls_file_error(
          which, key,
          "client key file " + key + " holds no usable PEM private key" +
              (tls.key_password.empty() ? " (if it is encrypted, its password is missing)"
                                        : " (or the password is wrong)") +
              ": " + why);
    }
    if (SSL_CTX_check_private_key(ctx.get()) != 1) {
      throw redis_tls_file_error(which, key,
                                 "client key file " + key + " does not match certificate " +
                                     tls.cert_file + ": " + openssl_error());
    }
  }
  return ctx;
}

bool is_ip_literal(const std::string& host) {
  in6_addr addr{};
  return ::inet_pton(AF_INET, host.c_str(), &addr) == 1 ||
         ::inet_pton(AF_INET6, host.c_str(), &addr) == 1;
}

// Alerts a server sends when it does not accept the client certificate (or its absence).
bool is_client_cert_refusal(unsigned long code) {
  if (ERR_GET_LIB(code) != ERR_LIB_SSL) return false;
  switch (ERR_GET_REASON(code)) {
    case SSL_R_SSLV3_ALERT_BAD_CERTIFICATE:
    case SSL_R_SSLV3_ALERT_CERTIFICATE_UNKNOWN:
    case SSL_R_SSLV3_ALERT_CERTIFICATE_EXPIRED:
    case SSL_R_SSLV3_ALERT_CERTIFICATE_REVOKED:
    case SSL_R_SSLV3_ALERT_UNSUPPORTED_CERTIFICATE:
    case SSL_R_TLSV1_ALERT_UNKNOWN_CA:
    case SSL_R_TLSV1_ALERT_ACCESS_DENIED:
    case SSL_R_TLSV13_ALERT_CERTIFICATE_REQUIRED:
      return true;
    default:
      return false;
  }
}

// A socket BIO that writes with MSG_NOSIGNAL: OpenSSL's own uses write(), which raises SIGPIPE
// on a connection the server has closed, and a library must not rely on the process ignoring it.
int socket_bio_fd(BIO* b) {
  return static_cast<int>(reinterpret_cast<std::intptr_t>(BIO_get_data(b)));
}

int socket_bio_write(BIO* b, const char* data, int size) {
  BIO_clear_retry_flags(b);
  auto n = ::send(socket_bio_fd(b), data, static_cast<std::size_t>(size), MSG_NOSIGNAL);
  if (n < 0 && (errno == EAGAIN || errno == EINTR)) BIO_set_retry_write(b);
  return static_cast<int>(n);
}

int socket_bio_read(BIO* b, char* data, int size) {
  BIO_clear_retry_flags(b);
  auto n = ::recv(socket_bio_fd(b), data, static_cast<std::size_t>(size), 0);
  if (n < 0 && (errno == EAGAIN || errno == EINTR)) BIO_set_retry_read(b);
  return static_cast<int>(n);
}

long socket_bio_ctrl(BIO*, int cmd, long, void*) {
  return cmd == BIO_CTRL_FLUSH ? 1 : 0;  // nothing is buffered here
}

int socket_bio_create(BIO* b) {
  BIO_set_init(b, 1);
  return 1;
}

BIO_METHOD* socket_bio_method() {
  static BIO_METHOD* method = [] {
    auto* m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "ferry redis socket");
    if (m) {
      BIO_meth_set_write(m, socket_bio_write);
      BIO_meth_set_read(m, socket_bio_read);
      BIO_meth_set_ctrl(m, socket_bio_ctrl);
      BIO_meth_set_create(m, socket_bio_create);
    }
    return m;
  }();
  return method;
}

// Records (in the bool at `arg`) that the server asked for a client certificate.
void note_certificate_request(int write_p, int, int content_type, const void* buf, std::size_t len,
                              SSL*, void* arg) {
  if (write_p == 0 && content_type == SSL3_RT_HANDSHAKE && len > 0 &&
      static_cast<const unsigned char*>(buf)[0] == SSL3_MT_CERTIFICATE_REQUEST) {
    *static_cast<bool*>(arg) = true;
  }
}

// Replies a server gives while it cannot serve yet; the login itself may be fine.
bool is_transient(std::string_view error) {
  for (std::string_view p : {"LOADING", "BUSY", "MASTERDOWN", "TRYAGAIN", "CLUSTERDOWN"}) {
    if (error.starts_with(p)) return true;
  }
  return false;
}

}  // namespace

void check_tls_files(const redis_endpoint& endpoint) {
  make_tls_context(endpoint.tls);
}

redis_connection::redis_connection(redis_endpoint endpoint)
    : endpoint_(std::move(endpoint)), metrics_(thread_metrics_scope()) {}

redis_connection::~redis_connection() {
  close();
}

void redis_connection::close() {
  logging_in_ = false;
  ahead_ = 0;
  if (tls_) {
    // No close_notify: the socket is closed right after, and the server does not need one.
    SSL_free(tls_);
    tls_ = nullptr;
  }
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  if (reader_) redisReaderFree(reader_);
  reader_ = nullptr;
}

void redis_connection::fail(const std::string& what) {
  metrics_->redis.io_errors.fetch_add(1, std::memory_order_relaxed);
  close();
  throw redis_io_error("Redis at " + endpoint_.address() + ": " + what);
}

void redis_connection::fail_closed(const std::string& what) {
  if (!tls_ || !logging_in_ || !client_cert_requested_) fail(what);
  close();
  throw redis_auth_error(
      "Redis at " + endpoint_.address() +
      " closed the connection right after a TLS handshake in which it asked for a client "
      "certificate (" +
      what + "): it did not accept " +
      (endpoint_.tls.cert_file.empty()
           ? "the connection without one. Set redis.key.cert and redis.key.file."
           : "certificate " + endpoint_.tls.cert_file +
                 ". Check redis.key.cert / redis.key.file, and that the server trusts their CA."));
}

void redis_connection::fail_tls(const std::string& what) {
#ifdef SSL_R_UNEXPECTED_EOF_WHILE_READING
  if (unsigned long eof = ERR_peek_last_error();
      ERR_GET_LIB(eof) == ERR_LIB_SSL &&
      ERR_GET_REASON(eof) == SSL_R_UNEXPECTED_EOF_WHILE_READING) {
    ERR_clear_error();
    fail_closed(what + ": connection closed by server");
  }
#endif
  long verify = tls_ ? SSL_get_verify_result(tls_) : X509_V_OK;
  unsigned long code = ERR_peek_last_error();
  auto detail = openssl_error();
  close();
  auto at = "Redis at " + endpoint_.address();
  if (verify != X509_V_OK && !endpoint_.tls.insecure) {
    throw redis_auth_error(
        at + ": the server's TLS certificate failed verification: " +
        X509_verify_cert_error_string(verify) +
        (endpoint_.tls.ca_file.empty()
             ? " (checked against the system's trusted CAs)"
             : " (checked against CA file " + endpoint_.tls.ca_file + ")") +
        ". Check redis.cacert, or set redis.insecure=true to skip verification.");
  }
  if (is_client_cert_refusal(code)) {
    throw redis_auth_error(
        at + ": the server refused the client certificate (" + detail + "). " +
        (endpoint_.tls.cert_file.empty()
             ? "It requires one: set redis.key.cert and redis.key.file."
             : "Check redis.key.cert / redis.key.file (" + endpoint_.tls.cert_file + ")."));
  }

  if (ERR_GET_LIB(code) == ERR_LIB_SSL && ERR_GET_REASON(code) == SSL_R_WRONG_VERSION_NUMBER) {
    detail += " (is this a TLS port? without TLS, set redis.tls=false / use redis://)";
  }
  throw redis_io_error(at + ": " + what + ": " + detail);
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
  // Bad TLS files fail before any network I/O, and once per connection object.
  if (endpoint_.tls.enabled && !tls_context_) tls_context_ = make_tls_context(endpoint_.tls);
  try {
    open_socket(deadline);
  } catch (const redis_io_error&) {  // unresolved or refused (fail() counts the other cases)
    metrics_->redis.io_errors.fetch_add(1, std::memory_order_relaxed);
    throw;
  }
  reader_ = redisReaderCreate();
  // Keep the reader's buffer across replies: hiredis frees it when it exceeds maxbuf (16 KB by
  // default), which costs a malloc per big batch.
  reader_->maxbuf = 0;
  if (endpoint_.tls.enabled) handshake(deadline);
  log_in(deadline);
  metrics_->redis.connects.fetch_add(1, std::memory_order_relaxed);
  if (connected_before_) metrics_->redis.reconnects.fetch_add(1, std::memory_order_relaxed);
  connected_before_ = true;
}

void redis_connection::open_socket(clock::time_point deadline) {
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
}

void redis_connection::handshake(clock::time_point deadline) {
  ERR_clear_error();
  tls_ = SSL_new(tls_context_.get());
  if (!tls_) fail_tls("cannot start TLS");
  BIO* bio = socket_bio_method() ? BIO_new(socket_bio_method()) : nullptr;
  if (!bio) fail_tls("cannot start TLS");
  BIO_set_data(bio, reinterpret_cast<void*>(static_cast<std::intptr_t>(fd_)));
  SSL_set_bio(tls_, bio, bio);  // the session owns it now
  const auto& host = endpoint_.host;
  const bool ip = is_ip_literal(host);
  // SNI carries host names only (RFC 6066).
  if (!ip && SSL_set_tlsext_host_name(tls_, host.c_str()) != 1) fail_tls("cannot set SNI");
  client_cert_requested_ = false;
  SSL_set_msg_callback(tls_, note_certificate_request);
  SSL_set_msg_callback_arg(tls_, &client_cert_requested_);
  if (endpoint_.tls.insecure) {
    SSL_set_verify(tls_, SSL_VERIFY_NONE, nullptr);
  } else {
    SSL_set_verify(tls_, SSL_VERIFY_PEER, nullptr);
    auto* param = SSL_get0_param(tls_);
    int ok = ip ? X509_VERIFY_PARAM_set1_ip_asc(param, host.c_str())
                : X509_VERIFY_PARAM_set1_host(param, host.c_str(), host.size());
    if (ok != 1) fail_tls("cannot set the host name to verify");
  }
  for (;;) {
    ERR_clear_error();
    int rc = SSL_connect(tls_);
    if (rc == 1) return;
    short want = 0;
    switch (SSL_get_error(tls_, rc)) {
      case SSL_ERROR_WANT_READ:
        want = POLLIN;
        break;
      case SSL_ERROR_WANT_WRITE:
        want = POLLOUT;
        break;
      case SSL_ERROR_SYSCALL:
        if (ERR_peek_last_error() == 0) {
          fail(std::string("TLS handshake failed: ") +
               (rc == 0 || errno == 0 ? "connection closed by server" : std::strerror(errno)));
        }
        fail_tls("TLS handshake failed");
      default:
        fail_tls("TLS handshake failed");
    }
    int ev = wait_fd(fd_, want, deadline);
    if (ev == 0) {
      fail("TLS handshake timed out after " + std::to_string(endpoint_.timeout.count()) + " ms");
    }
    if (ev < 0) fail(std::strerror(errno));
  }
}

void redis_connection::log_in(clock::time_point deadline) {
  logging_in_ = true;
  redis_pipeline hello;
  const bool auth = !endpoint_.password.empty();
  if (auth) {
    if (endpoint_.username.empty()) {
      hello.add({"AUTH", endpoint_.password});
    } else {
      hello.add({"AUTH", endpoint_.username, endpoint_.password});
    }
  }
  std::string db = std::to_string(endpoint_.database);
  if (endpoint_.database != 0) hello.add({"SELECT", db});
  // Nothing to say: still make one round trip, so a server that needs a login (NOAUTH) or
  // refuses the client certificate (TLS 1.3 tells only after the handshake) fails connect()
  // rather than the first command.
  if (hello.empty()) hello.add({"PING"});
  auto replies = roundtrip(hello.buffer(), hello.size(), deadline);
  logging_in_ = false;
  auto at = "Redis at " + endpoint_.address();
  auto user = endpoint_.username.empty() ? std::string("default") : endpoint_.username;
  for (std::size_t i = 0; i < replies.size(); ++i) {
    auto r = replies[i].view();
    if (!r.is_error()) continue;
    auto msg = std::string(r.str());
    // The advice below starts a new sentence.
    while (!msg.empty() && (msg.back() == '.' || msg.back() == ' ')) msg.pop_back();
    close();
    if (is_transient(msg)) throw redis_io_error(at + " is not ready: " + msg);
    if (auth && i == 0) {
      throw redis_auth_error(at + " refused the login of user '" + user + "': " + msg +
                             ". Check redis.username / redis.password.");
    }
    if (msg.starts_with("NOAUTH")) {
      throw redis_auth_error(at + " requires a login: " + msg +
                             ". Set redis.password (and redis.username for an ACL user).");
    }
    if (msg.starts_with("NOPERM")) {
      throw redis_auth_error(at + " refused a command of user '" + user + "': " + msg +
                             ". Check the user's ACL or redis.username.");
    }
    if (endpoint_.database != 0) {
      throw api::connect_error(at + " refused SELECT " + db + ": " + msg +
                               ". Check redis.database.");
    }
    throw redis_io_error(at + ": " + msg);
  }
}

std::vector<redis_reply> redis_connection::execute(const redis_pipeline& pipeline) {
  if (pipeline.empty()) return {};
  if (ahead_ > 0) throw std::logic_error("redis_connection: replies sent ahead were not taken");
  connect();
  metrics_->redis.commands.fetch_add(pipeline.size(), std::memory_order_relaxed);
  auto start = clock::now();
  auto replies = roundtrip(pipeline.buffer(), pipeline.size(), start + endpoint_.timeout);
  count_roundtrip(replies, start);
  return replies;
}

void redis_connection::count_roundtrip(const std::vector<redis_reply>& replies,
                                       clock::time_point sent) {
  auto& m = metrics_->redis;
  m.pipeline_size.observe(static_cast<double>(replies.size()));
  m.roundtrips.fetch_add(1, std::memory_order_relaxed);
  m.latency.observe(std::chrono::duration<double>(clock::now() - sent).count());
  std::uint64_t errors = 0;
  for (const auto& r : replies) errors += r.view().is_error() ? 1 : 0;
  if (errors) m.error_replies.fetch_add(errors, std::memory_order_relaxed);
}

void redis_connection::send(const redis_pipeline& pipeline) {
  if (pipeline.empty()) return;
  connect();
  metrics_->redis.commands.fetch_add(pipeline.size(), std::memory_order_relaxed);
  const auto& out = pipeline.buffer();
  auto deadline = clock::now() + endpoint_.timeout;
  std::size_t written = 0;
  while (written < out.size()) {
    short want = 0;
    auto n = send_some(out.data() + written, out.size() - written, want);
    written += n;
    if (n > 0) continue;
    int ev = wait_fd(fd_, want, deadline);
    if (ev == 0) fail("timed out after " + std::to_string(endpoint_.timeout.count()) + " ms");
    if (ev < 0) fail(std::strerror(errno));
  }
}

bool redis_connection::send_ahead(const redis_pipeline& pipeline) {
  if (ahead_ > 0) throw std::logic_error("redis_connection: replies sent ahead were not taken");
  ahead_sent_ = clock::now();
  send(pipeline);
  ahead_ = pipeline.size();
  return true;
}

std::vector<redis_reply> redis_connection::take_ahead() {
  std::vector<redis_reply> replies;
  const auto count = std::exchange(ahead_, 0);
  replies.reserve(count);
  auto deadline = clock::now() + endpoint_.timeout;
  while (replies.size() < count) {
    auto r = read_reply(deadline);
    if (!r) fail("timed out after " + std::to_string(endpoint_.timeout.count()) + " ms");
    replies.push_back(std::move(*r));
  }
  count_roundtrip(replies, ahead_sent_);
  return replies;
}

std::optional<redis_reply> redis_connection::read_reply(clock::time_point deadline) {
  if (fd_ < 0) throw redis_io_error("Redis at " + endpoint_.address() + ": not connected");
  char buf[16 * 1024];
  for (;;) {
    void* reply = nullptr;
    if (redisReaderGetReply(reader_, &reply) != REDIS_OK) fail("protocol error");
    if (reply) return redis_reply(static_cast<redisReply*>(reply));
    // Read before polling: TLS may hold decrypted bytes that poll() cannot see.
    short want = 0;
    auto n = recv_some(buf, sizeof buf, want);
    if (n > 0) {
      if (redisReaderFeed(reader_, buf, n) != REDIS_OK) fail("protocol error");
      continue;
    }
    int ev = wait_fd(fd_, want, deadline);
    if (ev == 0) return std::nullopt;
    if (ev < 0) fail(std::strerror(errno));
  }
}

redis_reply redis_client::command(std::initializer_list<std::string_view> args) {
  redis_pipeline p;
  p.add(args);
  auto replies = execute(p);
  return std::move(replies.front());
}

std::size_t redis_connection::send_some(const char* data, std::size_t size, short& want) {
  if (tls_) {
    ERR_clear_error();
    int n = SSL_write(tls_, data, static_cast<int>(std::min<std::size_t>(size, 1 << 30)));
    if (n > 0) return static_cast<std::size_t>(n);
    switch (SSL_get_error(tls_, n)) {
      case SSL_ERROR_WANT_WRITE:
        want |= POLLOUT;
        return 0;
      case SSL_ERROR_WANT_READ:
        want |= POLLIN;
        return 0;
      case SSL_ERROR_ZERO_RETURN:
        fail_closed("connection closed by server");
      case SSL_ERROR_SYSCALL:
        if (ERR_peek_last_error() == 0) {
          fail_closed(errno == 0 ? "connection closed by server" : std::strerror(errno));
        }
        fail_tls("TLS write failed");
      default:
        fail_tls("TLS write failed");
    }
  }
  auto n = ::send(fd_, data, size, MSG_NOSIGNAL);
  if (n > 0) return static_cast<std::size_t>(n);
  if (n < 0 && errno != EAGAIN && errno != EINTR) fail(std::strerror(errno));
  want |= POLLOUT;
  return 0;
}

std::size_t redis_connection::recv_some(char* data, std::size_t size, short& want) {
  if (tls_) {
    ERR_clear_error();
    int n = SSL_read(tls_, data, static_cast<int>(std::min<std::size_t>(size, 1 << 30)));
    if (n > 0) return static_cast<std::size_t>(n);
    switch (SSL_get_error(tls_, n)) {
      case SSL_ERROR_WANT_READ:
        want |= POLLIN;
        return 0;
      case SSL_ERROR_WANT_WRITE:
        want |= POLLOUT;
        return 0;
      case SSL_ERROR_ZERO_RETURN:
        fail_closed("connection closed by server");
      case SSL_ERROR_SYSCALL:
        if (ERR_peek_last_error() == 0) {
          fail_closed(n == 0 || errno == 0 ? "connection closed by server" : std::strerror(errno));
        }
        fail_tls("TLS read failed");
      default:
        fail_tls("TLS read failed");
    }
  }
  auto n = ::recv(fd_, data, size, 0);
  if (n > 0) return static_cast<std::size_t>(n);
  if (n == 0) fail("connection closed by server");
  if (errno != EAGAIN && errno != EINTR) fail(std::strerror(errno));
  want |= POLLIN;
  return 0;
}

std::vector<redis_reply> redis_connection::roundtrip(const std::string& out, std::size_t replies,
                                                     clock::time_point deadline) {
  std::vector<redis_reply> result;
  result.reserve(replies);
  std::size_t written = 0;
  char buf[64 * 1024];
  // Write and read at the same time: a large pipeline would otherwise fill both socket buffers.
  // Both directions are tried before polling: TLS may hold decrypted bytes that poll() cannot
  // see, and a TLS write may need a read first (and the other way round).
  while (result.size() < replies) {
    short want = 0;
    bool progress = false;
    if (written < out.size()) {
      auto n = send_some(out.data() + written, out.size() - written, want);
      written += n;
      progress = n > 0;
    }
    auto n = recv_some(buf, sizeof buf, want);
    if (n > 0) {
      progress = true;
      if (redisReaderFeed(reader_, buf, n) != REDIS_OK) fail("protocol error");
      for (;;) {
        void* reply = nullptr;
        if (redisReaderGetReply(reader_, &reply) != REDIS_OK) fail("protocol error");
        if (!reply) break;
        result.emplace_back(static_cast<redisReply*>(reply));
      }
    }
    if (progress) continue;
    int ev = wait_fd(fd_, want, deadline);
    if (ev == 0) fail("timed out after " + std::to_string(endpoint_.timeout.count()) + " ms");
    if (ev < 0) fail(std::strerror(errno));
  }
  return result;
}

}  // namespace ferry::clients
