#include "keys_source/key_state.hpp"

#include <doctest/doctest.h>

#include "../sink/sink_test_support.hpp"
#include "ferry/api/errors.hpp"
#include "keys_source/keys_source_config.hpp"

using namespace ferry::redis;
using ferry::json;

namespace {

keys::key_state decode(const std::string& key, const std::string& resp) {
  auto r = sink_test::replies(resp);
  REQUIRE(r.size() == 1);
  return keys::decode_state(key, r[0].view());
}

}  // namespace

TEST_CASE("keys source: a string, its TTL and rkc's field layout") {
  auto s = decode("greeting", "*3\r\n$6\r\nstring\r\n:1700000000123\r\n$5\r\nhello\r\n");
  CHECK(s.exists);
  CHECK(s.value["key"] == "greeting");
  CHECK(s.value["type"] == "string");
  CHECK(s.value["ttl"] == 1700000000123LL);
  CHECK(s.value["string"] == "hello");
  for (const char* f : {"hash", "json", "list", "set", "zset", "stream"})
    CHECK(s.value[f].is_null());
  auto no_ttl = decode("greeting", "*3\r\n$6\r\nstring\r\n:-1\r\n$5\r\nhello\r\n");
  CHECK(no_ttl.value["ttl"].is_null());
  CHECK(no_ttl.digest != s.digest);  // a TTL change is a change
}

TEST_CASE("keys source: hashes, sets and sorted sets are canonical, so the digest is stable") {
  auto a =
      decode("h", "*3\r\n$4\r\nhash\r\n:-1\r\n*4\r\n$1\r\nb\r\n$1\r\n2\r\n$1\r\na\r\n$1\r\n1\r\n");
  auto b =
      decode("h", "*3\r\n$4\r\nhash\r\n:-1\r\n*4\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n2\r\n");
  CHECK(a.value["hash"] == json{{"a", "1"}, {"b", "2"}});
  CHECK(a.value.dump() == b.value.dump());
  CHECK(a.digest == b.digest);

  auto s1 = decode("s", "*3\r\n$3\r\nset\r\n:-1\r\n*2\r\n$2\r\nm2\r\n$2\r\nm1\r\n");
  auto s2 = decode("s", "*3\r\n$3\r\nset\r\n:-1\r\n*2\r\n$2\r\nm1\r\n$2\r\nm2\r\n");
  CHECK(s1.value["set"] == json::array({"m1", "m2"}));
  CHECK(s1.digest == s2.digest);

  auto z = decode(
      "z", "*3\r\n$4\r\nzset\r\n:-1\r\n*4\r\n$1\r\nb\r\n$1\r\n2\r\n$1\r\na\r\n$3\r\n1.5\r\n");
  CHECK(z.value["zset"] == json{{"a", 1.5}, {"b", 2.0}});
  CHECK(z.value["type"] == "zset");
}

TEST_CASE("keys source: lists keep their order, streams list their entries") {
  auto l = decode("l", "*3\r\n$4\r\nlist\r\n:-1\r\n*2\r\n$1\r\ny\r\n$1\r\nx\r\n");
  CHECK(l.value["list"] == json::array({"y", "x"}));
  auto l2 = decode("l", "*3\r\n$4\r\nlist\r\n:-1\r\n*2\r\n$1\r\nx\r\n$1\r\ny\r\n");
  CHECK(l.digest != l2.digest);

  auto x = decode(
      "x", "*3\r\n$6\r\nstream\r\n:-1\r\n*1\r\n*2\r\n$3\r\n1-0\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n");
  CHECK(x.value["stream"] == json::array({json{{"id", "1-0"}, {"body", {{"f", "v"}}}}}));
  auto j = decode("j", "*3\r\n$9\r\nReJSON-RL\r\n:-1\r\n$7\r\n{\"a\":1}\r\n");
  CHECK(j.value["type"] == "json");
  CHECK(j.value["json"] == "{\"a\":1}");
}

TEST_CASE("keys source: a missing key, and errors") {
  auto gone = decode("k", "*1\r\n$4\r\nnone\r\n");
  CHECK_FALSE(gone.exists);
  CHECK(gone.value["type"] == "none");
  CHECK(gone.value["string"].is_null());
  CHECK(gone.digest == decode("k", "*1\r\n$4\r\nnone\r\n").digest);
  CHECK(gone.digest != decode("other", "*1\r\n$4\r\nnone\r\n").digest);

  auto wrongtype = sink_test::replies("-WRONGTYPE Operation against a key\r\n");
  CHECK(keys::is_retry_reply(wrongtype[0].view()));
  auto oom = sink_test::replies("-ERR something else\r\n");
  CHECK_FALSE(keys::is_retry_reply(oom[0].view()));
  CHECK_THROWS_AS(keys::decode_state("k", oom[0].view()), ferry::api::connect_error);
}

TEST_CASE("keys source: digests in offsets") {
  auto d = keys::fnv1a64("abc");
  CHECK(d == 0xe71fa2190541574bULL);  // FNV-1a 64 test vector
  CHECK(keys::digest_hex(d) == "e71fa2190541574b");
  CHECK(keys::parse_digest(json{{"digest", "e71fa2190541574b"}}) == d);
  CHECK_FALSE(keys::parse_digest(json{{"digest", "xyz"}}));
  CHECK_FALSE(keys::parse_digest(json{{"offset", "1-0"}}));
  CHECK_FALSE(keys::parse_digest(json(nullptr)));
}

TEST_CASE("keys source: UTF-8 repair, channels and notification flags") {
  CHECK(keys::to_utf8("plain") == "plain");
  CHECK(keys::to_utf8("caf\xC3\xA9") == "caf\xC3\xA9");
  CHECK(keys::to_utf8("a\xFF"
                      "b") ==
        "a\xEF\xBF\xBD"
        "b");
  CHECK(keys::to_utf8("\xC0\xAF") == "\xEF\xBF\xBD\xEF\xBF\xBD");  // overlong '/'
  CHECK(keys::to_utf8("\xE2\x82") == "\xEF\xBF\xBD\xEF\xBF\xBD");  // truncated

  auto prefix = keys::keyspace_prefix(3);
  CHECK(prefix == "__keyspace@3__:");
  CHECK(keys::key_of_channel("__keyspace@3__:user:1", prefix) == "user:1");
  CHECK_FALSE(keys::key_of_channel("__keyspace@0__:user:1", prefix));

  CHECK(keys::missing_notify_flags("KA") == "");
  CHECK(keys::missing_notify_flags("AKE") == "");
  CHECK(keys::missing_notify_flags("") == "Kg$lshzxet");
  CHECK(keys::missing_notify_flags("Ex") == "Kg$lshzet");
  CHECK(keys::missing_notify_flags("Kg$lshzxet") == "");
  CHECK(keys::is_removal_event("expired"));
  CHECK_FALSE(keys::is_removal_event("set"));
}

TEST_CASE("keys source config: rkc keys and defaults") {
  auto c = keys_source_config::parse({{"redis.uri", "redis://127.0.0.1:7000/2"}});
  CHECK(c.pattern == "*");
  CHECK(c.snapshot);
  CHECK(c.topic == "rediskeys");
  CHECK(c.batch_size == 500);
  CHECK(c.endpoint.database == 2);
  auto live_only = keys_source_config::parse({{"redis.uri", "redis://127.0.0.1:7000"},
                                              {"mode", "liveonly"},
                                              {"redis.keys.pattern", "user:*"}});
  CHECK_FALSE(live_only.snapshot);
  CHECK(live_only.pattern == "user:*");
  auto errors = keys_source_config_def().validate({{"mode", "SOMETIMES"}, {"batch.size", "0"}});
  CHECK(ferry::api::config_def::error_count(errors) == 2);
}
