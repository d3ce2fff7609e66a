#include <doctest/doctest.h>

#include <stdexcept>

#include "ferry/clients/redis_endpoint.hpp"

using ferry::clients::redis_endpoint;
using namespace std::chrono_literals;

TEST_CASE("redis_endpoint defaults") {
  redis_endpoint ep;
  CHECK(ep.host == "127.0.0.1");
  CHECK(ep.port == 6379);
  CHECK(ep.database == 0);
  CHECK(ep.address() == "127.0.0.1:6379");
}

TEST_CASE("parse_uri: host, port and database") {
  auto plain = redis_endpoint::parse_uri("redis://cache.local");
  CHECK(plain.host == "cache.local");
  CHECK(plain.port == 6379);
  CHECK(plain.database == 0);
  CHECK(plain.username.empty());
  CHECK(plain.password.empty());

  auto full = redis_endpoint::parse_uri("redis://10.1.2.3:6380/5");
  CHECK(full.host == "10.1.2.3");
  CHECK(full.port == 6380);
  CHECK(full.database == 5);
  CHECK(full.address() == "10.1.2.3:6380");

  CHECK(redis_endpoint::parse_uri("redis://h:1/").database == 0);
  CHECK(redis_endpoint::parse_uri("redis://h?db=3").database == 3);
  CHECK(redis_endpoint::parse_uri("redis://h?database=4").database == 4);
}

TEST_CASE("parse_uri: user:password@, password only, and percent-decoding") {
  auto both = redis_endpoint::parse_uri("redis://alice:s3cret@h:6379");
  CHECK(both.username == "alice");
  CHECK(both.password == "s3cret");
  CHECK(both.host == "h");

  auto password_only = redis_endpoint::parse_uri("redis://s3cret@h");
  CHECK(password_only.username.empty());
  CHECK(password_only.password == "s3cret");

  auto empty_user = redis_endpoint::parse_uri("redis://:s3cret@h");
  CHECK(empty_user.username.empty());
  CHECK(empty_user.password == "s3cret");

  auto encoded = redis_endpoint::parse_uri("redis://us%65r:p%40ss%3Aw%2Fd@h/2");
  CHECK(encoded.username == "user");
  CHECK(encoded.password == "p@ss:w/d");
  CHECK(encoded.host == "h");
  CHECK(encoded.database == 2);
}

TEST_CASE("parse_uri: ?timeout= in seconds or milliseconds") {
  CHECK(redis_endpoint::parse_uri("redis://h?timeout=5s").timeout == 5000ms);
  CHECK(redis_endpoint::parse_uri("redis://h:6379/1?timeout=500ms").timeout == 500ms);
  CHECK(redis_endpoint::parse_uri("redis://h?timeout=7").timeout == 7000ms);
  CHECK(redis_endpoint::parse_uri("redis://h?foo=bar&timeout=2s").timeout == 2000ms);
  CHECK(redis_endpoint::parse_uri("redis://h").timeout == 60000ms);
}

TEST_CASE("parse_uri: IPv6 literals in brackets") {
  auto with_port = redis_endpoint::parse_uri("redis://[::1]:6380");
  CHECK(with_port.host == "::1");
  CHECK(with_port.port == 6380);
  auto no_port = redis_endpoint::parse_uri("redis://u:p@[fe80::1]/3");
  CHECK(no_port.host == "fe80::1");
  CHECK(no_port.port == 6379);
  CHECK(no_port.database == 3);
  CHECK(no_port.password == "p");
}

TEST_CASE("parse_uri: rediss:// means TLS, redis:// does not") {
  auto tls = redis_endpoint::parse_uri("rediss://alice:pw@cache.local:6380/2?timeout=3s");
  CHECK(tls.tls.enabled);
  CHECK_FALSE(tls.tls.insecure);
  CHECK(tls.host == "cache.local");
  CHECK(tls.port == 6380);
  CHECK(tls.database == 2);
  CHECK(tls.username == "alice");
  CHECK(tls.password == "pw");
  CHECK(tls.timeout == 3000ms);
  CHECK(tls.tls.ca_file.empty());
  CHECK(tls.tls.cert_file.empty());
  CHECK(tls.tls.key_file.empty());

  CHECK(redis_endpoint::parse_uri("rediss://h").port == 6379);
  CHECK(redis_endpoint::parse_uri("rediss://[::1]:7000").host == "::1");
  CHECK_FALSE(redis_endpoint::parse_uri("redis://h:6380").tls.enabled);
  CHECK_FALSE(redis_endpoint{}.tls.enabled);
}

TEST_CASE("parse_uri: Lettuce's verifyPeer turns peer verification off or keeps it") {
  CHECK(redis_endpoint::parse_uri("rediss://h?verifyPeer=false").tls.insecure);
  CHECK(redis_endpoint::parse_uri("rediss://h?verifyPeer=NONE").tls.insecure);
  CHECK_FALSE(redis_endpoint::parse_uri("rediss://h?verifyPeer=true").tls.insecure);
  CHECK_FALSE(redis_endpoint::parse_uri("rediss://h?verifyPeer=FULL").tls.insecure);
  CHECK_FALSE(redis_endpoint::parse_uri("rediss://h?verifyPeer=CA").tls.insecure);
  CHECK_THROWS_AS(redis_endpoint::parse_uri("rediss://h?verifyPeer=maybe"), std::invalid_argument);
}

TEST_CASE("parse_uri rejects other schemes and malformed URIs with invalid_argument") {
  for (std::string bad :
       {"rediss://", "rediss://:6380", "http://h:6379", "h:6379", "", "redis://", "redis://:6379",
        "redis://h:abc", "redis://h:0", "redis://h:70000", "redis://h:6379/x", "redis://[::1",
        "redis://h?timeout=soon", "redis://h?timeout=5m", "redis://u:p@"}) {
    CAPTURE(bad);
    CHECK_THROWS_AS(redis_endpoint::parse_uri(bad), std::invalid_argument);
  }
}

TEST_CASE("parse_uri rejects a negative database or timeout") {
  CHECK_THROWS_AS(redis_endpoint::parse_uri("redis://h/-1"), std::invalid_argument);
  CHECK_THROWS_AS(redis_endpoint::parse_uri("redis://h?timeout=-5s"), std::invalid_argument);
}
