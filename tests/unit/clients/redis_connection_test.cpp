#include <doctest/doctest.h>

#include <hiredis/hiredis.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <type_traits>

#include "ferry/clients/redis_connection.hpp"

using ferry::clients::redis_pipeline;
using namespace std::string_literals;

namespace {

// Decodes a pipeline's buffer with hiredis's own RESP reader (an array of bulk strings is also a
// valid reply), so the encoding is checked by an independent implementation too.
std::vector<std::vector<std::string>> decode_with_hiredis(const std::string& buf) {
  std::vector<std::vector<std::string>> commands;
  redisReader* reader = redisReaderCreate();
  REQUIRE(reader != nullptr);
  REQUIRE(redisReaderFeed(reader, buf.data(), buf.size()) == REDIS_OK);
  for (;;) {
    void* raw = nullptr;
    REQUIRE(redisReaderGetReply(reader, &raw) == REDIS_OK);
    if (raw == nullptr) break;
    auto* reply = static_cast<redisReply*>(raw);
    REQUIRE(reply->type == REDIS_REPLY_ARRAY);
    std::vector<std::string> args;
    for (std::size_t i = 0; i < reply->elements; ++i) {
      REQUIRE(reply->element[i]->type == REDIS_REPLY_STRING);
      args.emplace_back(reply->element[i]->str, reply->element[i]->len);
    }
    commands.push_back(std::move(args));
    freeReplyObject(reply);
  }
  redisReaderFree(reader);
  return commands;
}

}  // namespace

TEST_CASE("redis_pipeline encodes one command as a RESP array of bulk strings") {
  redis_pipeline p;
  CHECK(p.empty());
  p.add({"GET", "k"});
  CHECK(p.buffer() == "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n");
  CHECK(p.size() == 1);
  CHECK_FALSE(p.empty());
}

TEST_CASE("redis_pipeline appends commands in order and counts them") {
  redis_pipeline p;
  p.add({"SET", "key", "value"});
  p.add(std::vector<std::string_view>{"DEL", "key"});
  p.add({"PING"});
  CHECK(p.size() == 3);
  CHECK(p.buffer() ==
        "*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nvalue\r\n"
        "*2\r\n$3\r\nDEL\r\n$3\r\nkey\r\n"
        "*1\r\n$4\r\nPING\r\n");
  CHECK(decode_with_hiredis(p.buffer()) ==
        std::vector<std::vector<std::string>>{{"SET", "key", "value"}, {"DEL", "key"}, {"PING"}});
}

TEST_CASE("redis_pipeline clear() empties it for reuse") {
  redis_pipeline p;
  p.add({"GET", "a"});
  p.add({"GET", "b"});
  p.clear();
  CHECK(p.size() == 0);
  CHECK(p.empty());
  CHECK(p.buffer().empty());
  p.add({"GET", "c"});
  CHECK(p.buffer() == "*2\r\n$3\r\nGET\r\n$1\r\nc\r\n");
  CHECK(p.size() == 1);
}

TEST_CASE("redis_pipeline begin/arg builds the same bytes as add") {
  redis_pipeline incremental;
  incremental.begin(4);
  incremental.arg("HSET");
  incremental.arg("h");
  incremental.arg("field");
  incremental.arg("12345678901");
  redis_pipeline whole;
  whole.add({"HSET", "h", "field", "12345678901"});
  CHECK(incremental.buffer() == whole.buffer());
  CHECK(incremental.size() == 1);
  CHECK(incremental.buffer() ==
        "*4\r\n$4\r\nHSET\r\n$1\r\nh\r\n$5\r\nfield\r\n$11\r\n12345678901\r\n");
}

TEST_CASE("redis_pipeline is binary safe: NUL, CR LF and empty arguments") {
  redis_pipeline p;
  const auto nul = "a\0b"s;
  const auto crlf = "x\r\ny"s;
  p.add({"SET", nul, crlf});
  p.add({"SET", "", ""});
  CHECK(p.buffer() ==
        "*3\r\n$3\r\nSET\r\n$3\r\na\0b\r\n$4\r\nx\r\ny\r\n"
        "*3\r\n$3\r\nSET\r\n$0\r\n\r\n$0\r\n\r\n"s);
  auto decoded = decode_with_hiredis(p.buffer());
  REQUIRE(decoded.size() == 2);
  CHECK(decoded[0] == std::vector<std::string>{"SET", nul, crlf});
  CHECK(decoded[1] == std::vector<std::string>{"SET", "", ""});
}

TEST_CASE("redis_pipeline handles large arguments") {
  redis_pipeline p;
  const std::string big(100000, 'z');
  p.add({"SET", "big", big});
  CHECK(p.buffer().starts_with("*3\r\n$3\r\nSET\r\n$3\r\nbig\r\n$100000\r\n"));
  auto decoded = decode_with_hiredis(p.buffer());
  REQUIRE(decoded.size() == 1);
  CHECK(decoded[0][2] == big);
}

// ---------------------------------------------------------------- TLS files

namespace {

using ferry::clients::redis_endpoint;
using ferry::clients::redis_tls_file_error;
using tls_file = redis_tls_file_error::file;

// A scratch directory, removed with everything in it.
struct scratch_dir {
  std::filesystem::path path;
  scratch_dir() {
    static int counter = 0;
    path = std::filesystem::temp_directory_path() /
           ("ferry-tls-unit-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    std::filesystem::create_directories(path);
  }
  ~scratch_dir() { std::filesystem::remove_all(path); }
  std::string write(const std::string& name, const std::string& content) const {
    auto p = (path / name).string();
    std::ofstream(p, std::ios::binary) << content;
    return p;
  }
};

std::string drain(BIO* mem) {
  char* data = nullptr;
  auto n = BIO_get_mem_data(mem, &data);
  std::string out(data, static_cast<std::size_t>(n));
  BIO_free(mem);
  return out;
}

// A self-signed EC certificate and its key in PEM: plain, and as PKCS#8 encrypted with
// `password`.
struct pem_identity {
  std::string cert, key, encrypted_key;
};

pem_identity make_identity(const char* common_name, const char* password) {
  EVP_PKEY* key = EVP_EC_gen("P-256");
  REQUIRE(key != nullptr);
  X509* x = X509_new();
  REQUIRE(x != nullptr);
  X509_set_version(x, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
  X509_gmtime_adj(X509_getm_notBefore(x), 0);
  X509_gmtime_adj(X509_getm_notAfter(x), 3600);
  X509_set_pubkey(x, key);
  X509_NAME* name = X509_get_subject_name(x);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(common_name), -1, -1, 0);
  X509_set_issuer_name(x, name);
  REQUIRE(X509_sign(x, key, EVP_sha256()) > 0);
  pem_identity id;
  BIO* mem = BIO_new(BIO_s_mem());
  PEM_write_bio_X509(mem, x);
  id.cert = drain(mem);
  mem = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(mem, key, nullptr, nullptr, 0, nullptr, nullptr);
  id.key = drain(mem);
  mem = BIO_new(BIO_s_mem());
  auto* pw = const_cast<char*>(password);
  PEM_write_bio_PKCS8PrivateKey(mem, key, EVP_aes_256_cbc(), pw,
                                static_cast<int>(std::strlen(password)), nullptr, nullptr);
  id.encrypted_key = drain(mem);
  X509_free(x);
  EVP_PKEY_free(key);
  return id;
}

redis_endpoint tls_endpoint() {
  redis_endpoint ep;
  ep.port = 1;  // never reached: the files fail first
  ep.tls.enabled = true;
  return ep;
}

// The error check_tls_files throws for `ep`, which must throw.
redis_tls_file_error file_error(const redis_endpoint& ep) {
  try {
    ferry::clients::check_tls_files(ep);
  } catch (const redis_tls_file_error& e) {
    return e;
  }
  FAIL("check_tls_files did not throw");
  throw std::logic_error("unreachable");
}

}  // namespace

TEST_CASE("TLS login and file errors are not retriable, I/O errors are") {
  using namespace ferry;
  static_assert(std::is_base_of_v<api::retriable_error, clients::redis_io_error>);
  static_assert(std::is_base_of_v<api::connect_error, clients::redis_auth_error>);
  static_assert(!std::is_base_of_v<api::retriable_error, clients::redis_auth_error>);
  static_assert(std::is_base_of_v<api::config_error, clients::redis_tls_file_error>);
  static_assert(!std::is_base_of_v<api::retriable_error, clients::redis_tls_file_error>);
}

TEST_CASE("check_tls_files accepts a CA, a client certificate and its key") {
  scratch_dir dir;
  auto ca = make_identity("test ca", "pw");
  auto client = make_identity("client", "pw");
  auto ep = tls_endpoint();
  CHECK_NOTHROW(ferry::clients::check_tls_files(ep));  // the system's trust store
  ep.tls.ca_file = dir.write("ca.pem", ca.cert);
  CHECK_NOTHROW(ferry::clients::check_tls_files(ep));
  ep.tls.cert_file = dir.write("client.pem", client.cert);
  ep.tls.key_file = dir.write("client.key", client.key);
  CHECK_NOTHROW(ferry::clients::check_tls_files(ep));

  SUBCASE("the key may sit in the certificate file") {
    ep.tls.cert_file = dir.write("both.pem", client.cert + client.key);
    ep.tls.key_file.clear();
    CHECK_NOTHROW(ferry::clients::check_tls_files(ep));
  }
  SUBCASE("an encrypted PKCS#8 key with its password") {
    ep.tls.key_file = dir.write("client-enc.key", client.encrypted_key);
    ep.tls.key_password = "pw";
    CHECK_NOTHROW(ferry::clients::check_tls_files(ep));
  }
}

TEST_CASE("check_tls_files names the file that is missing or does not parse") {
  scratch_dir dir;
  auto client = make_identity("client", "pw");
  auto other = make_identity("other", "pw");
  auto ep = tls_endpoint();

  SUBCASE("missing CA file") {
    ep.tls.ca_file = (dir.path / "nope.pem").string();
    auto e = file_error(ep);
    CHECK(e.which() == tls_file::ca);
    CHECK(e.path() == ep.tls.ca_file);
    CHECK(std::string(e.what()).find("No such file") != std::string::npos);
    CHECK(std::string(e.what()).find(ep.tls.ca_file) != std::string::npos);
  }
  SUBCASE("CA file that is not PEM") {
    ep.tls.ca_file = dir.write("ca.pem", "not a certificate\n");
    auto e = file_error(ep);
    CHECK(e.which() == tls_file::ca);
    CHECK(std::string(e.what()).find("no usable PEM certificate") != std::string::npos);
  }
  SUBCASE("client certificate that is not PEM") {
    ep.tls.cert_file = dir.write("client.pem", "garbage");
    ep.tls.key_file = dir.write("client.key", client.key);
    auto e = file_error(ep);
    CHECK(e.which() == tls_file::cert);
    CHECK(e.path() == ep.tls.cert_file);
  }
  SUBCASE("missing key file") {
    ep.tls.cert_file = dir.write("client.pem", client.cert);
    ep.tls.key_file = (dir.path / "missing.key").string();
    auto e = file_error(ep);
    CHECK(e.which() == tls_file::key);
    CHECK(e.path() == ep.tls.key_file);
  }
  SUBCASE("key of another certificate") {
    ep.tls.cert_file = dir.write("client.pem", client.cert);
    ep.tls.key_file = dir.write("other.key", other.key);
    auto e = file_error(ep);
    CHECK(e.which() == tls_file::key);
    CHECK(std::string(e.what()).find("does not match") != std::string::npos);
  }
  SUBCASE("encrypted key without its password, or with a wrong one") {
    ep.tls.cert_file = dir.write("client.pem", client.cert);
    ep.tls.key_file = dir.write("client-enc.key", client.encrypted_key);
    auto missing = file_error(ep);
    CHECK(missing.which() == tls_file::key);
    CHECK(std::string(missing.what()).find("password is missing") != std::string::npos);
    ep.tls.key_password = "wrong";
    auto wrong = file_error(ep);
    CHECK(wrong.which() == tls_file::key);
    CHECK(std::string(wrong.what()).find("password is wrong") != std::string::npos);
  }
  SUBCASE("a key without a certificate") {
    ep.tls.key_file = dir.write("client.key", client.key);
    CHECK(file_error(ep).which() == tls_file::cert);
  }
  SUBCASE("a certificate file without a key, and no key file") {
    ep.tls.cert_file = dir.write("client.pem", client.cert);
    CHECK(file_error(ep).which() == tls_file::cert);
  }
}

TEST_CASE("redis_connection reports a bad TLS file before touching the network") {
  scratch_dir dir;
  auto ep = tls_endpoint();
  ep.tls.ca_file = (dir.path / "nope.pem").string();
  ferry::clients::redis_connection connection(ep);
  CHECK_THROWS_AS(connection.connect(), redis_tls_file_error);
  CHECK_FALSE(connection.connected());
  // Without TLS the files are not read.
  ep.tls.enabled = false;
  CHECK_NOTHROW(ferry::clients::redis_connection{ep});
}
