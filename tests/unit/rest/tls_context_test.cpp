#include <doctest/doctest.h>

#include <stdexcept>
#include <string>

#include "../temp_dir.hpp"
#include "ferry/rest/tls_context.hpp"

using ferry::rest::make_server_tls_context;
using ferry::test::temp_dir;
using ferry::test::write_text;

namespace {

std::string error_of(const std::map<std::string, std::string>& ssl) {
  try {
    make_server_tls_context(ssl);
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  FAIL("expected make_server_tls_context to throw");
  return {};
}

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

}  // namespace

TEST_CASE("tls: an https listener without a keystore says which settings to give") {
  auto e = error_of({});
  CHECK(contains(e, "ssl.keystore.location"));
  CHECK(contains(e, "ssl.keystore.key"));
}

TEST_CASE("tls: a Java JKS keystore is refused with the command that converts it") {
  temp_dir dir;
  write_text(dir.file("k.jks"), std::string("\xFE\xED\xFE\xED\x00\x00\x00\x02", 8) + "rest");
  auto e = error_of({{"ssl.keystore.location", dir.file("k.jks")}});
  CHECK(contains(e, "JKS"));
  CHECK(contains(e, "keytool -importkeystore -srckeystore " + dir.file("k.jks")));
}

TEST_CASE("tls: a file that is not a keystore, a missing file, a bad type") {
  temp_dir dir;
  write_text(dir.file("junk.p12"), "this is not a keystore");
  CHECK(contains(error_of({{"ssl.keystore.location", dir.file("junk.p12")}}),
                 "is not a PKCS12 keystore"));
  CHECK(contains(error_of({{"ssl.keystore.location", dir.file("missing.p12")}}), "cannot read"));
  CHECK(contains(error_of({{"ssl.keystore.type", "BKS"}}), "ssl.keystore.type"));
  CHECK(contains(
      error_of({{"ssl.keystore.location", dir.file("junk.p12")}, {"ssl.keystore.type", "PEM"}}),
      "no readable PEM private key"));
}

TEST_CASE("tls: protocols and cipher suites are checked by name") {
  CHECK(contains(error_of({{"ssl.enabled.protocols", "TLSv1.1"}}), "TLSv1.1 is not supported"));
  CHECK(contains(error_of({{"ssl.cipher.suites", "TLS_NOT_A_SUITE"}}),
                 "unknown cipher suite TLS_NOT_A_SUITE"));
  // Java's (IANA) names are accepted: the error is then about the missing keystore.
  CHECK(contains(error_of({{"ssl.cipher.suites",
                            "TLS_AES_128_GCM_SHA256,TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"}}),
                 "ssl.keystore.location"));
}
