#include <doctest/doctest.h>

#include "ferry/api/errors.hpp"
#include "sink/command_builder.hpp"
#include "sink_test_support.hpp"

using ferry::json;
using ferry::api::config_map;
using ferry::api::data_error;
using ferry::api::sink_record;
using namespace ferry::redis;
using sink_test::command;
using sink_test::record;

namespace {

std::vector<command> build(const config_map& config, const std::vector<sink_record>& records,
                           bool cluster = false) {
  auto c = redis_sink_config::parse(config);
  c.endpoint.cluster = cluster;
  command_builder b(c);
  ferry::clients::redis_pipeline p;
  b.build(records, p);
  return sink_test::decode(p);
}

const json obj = json::parse(R"({"name":"Ann","age":41,"vip":true,"tags":["a","b"],
                                "addr":{"city":"Oslo"},"none":null})");

}  // namespace

TEST_CASE("redis sink commands: STRING is SET, a tombstone DEL, in record order") {
  auto cmds =
      build({{"redis.type", "STRING"}}, {record("t", "a", "one", 0), record("t", "a", nullptr, 1),
                                         record("t", "b", nullptr, 2), record("t", "b", 42, 3)});
  CHECK(cmds == std::vector<command>{
                    {"SET", "t:a", "one"}, {"DEL", "t:a"}, {"DEL", "t:b"}, {"SET", "t:b", "42"}});
}

TEST_CASE("redis sink commands: keyspace, separator, empty keyspace, bytes") {
  CHECK(
      build({{"redis.type", "STRING"}, {"redis.keyspace", "k_${topic}"}, {"redis.separator", "/"}},
            {record("t", "a", "v")}) == std::vector<command>{{"SET", "k_t/a", "v"}});
  CHECK(build({{"redis.type", "STRING"}, {"redis.keyspace", ""}}, {record("t", "a", "v")}) ==
        std::vector<command>{{"SET", "a", "v"}});
  // redis-kafka-connect 0.9's redis.key is the keyspace when redis.keyspace is not set
  CHECK(build({{"redis.command", "SET"}, {"redis.key", "old"}}, {record("t", "a", "v")}) ==
        std::vector<command>{{"SET", "old:a", "v"}});
  json bytes = json::binary({0x00, 0xff, 'x'});
  auto cmds = build({{"redis.type", "STRING"}}, {record("t", bytes, bytes)});
  CHECK(cmds[0][1] == std::string("t:\0\xffx", 5));
  CHECK(cmds[0][2] == std::string("\0\xffx", 3));
}

TEST_CASE("redis sink commands: a record without a key is a data error for keyed types") {
  for (std::string type : {"STRING", "HASH", "JSON", "LIST", "SET", "ZSET"}) {
    CAPTURE(type);
    CHECK_THROWS_AS(build({{"redis.type", type}}, {record("t", nullptr, 1)}), data_error);
  }
}

TEST_CASE("redis sink commands: HASH writes fields, nested values as JSON, skips nulls") {
  auto cmds =
      build({{"redis.type", "HASH"}}, {record("users", "u1", obj), record("users", "u1", nullptr),
                                       record("users", "u2", obj.dump())});
  std::vector<command> want_hset = {{"HSET", "users:u1", "name", "Ann", "age", "41", "vip", "true",
                                     "tags", R"(["a","b"])", "addr", R"({"city":"Oslo"})"}};
  REQUIRE(cmds.size() == 3);
  CHECK(cmds[0] == want_hset[0]);
  CHECK(cmds[1] == command{"DEL", "users:u1"});
  CHECK(cmds[2][1] == "users:u2");  // text holding a JSON object works too
  CHECK(cmds[2].size() == want_hset[0].size());
  CHECK_THROWS_AS(build({{"redis.type", "HASH"}}, {record("t", "k", 5)}), data_error);
  CHECK(build({{"redis.type", "HASH"}}, {record("t", "k", json::object())}).empty());
}

TEST_CASE("redis sink commands: JSON is JSON.SET key $ document, a tombstone DEL") {
  auto cmds =
      build({{"redis.type", "JSON"}},
            {record("p", "1", obj), record("p", "2", R"({"x":1})"), record("p", "1", nullptr)});
  CHECK(cmds == std::vector<command>{{"JSON.SET", "p:1", "$", obj.dump()},
                                     {"JSON.SET", "p:2", "$", R"({"x":1})"},
                                     {"DEL", "p:1"}});
  CHECK(build({{"redis.command", "JSONSET"}}, {record("p", "1", "[]")})[0][0] == "JSON.SET");
}

TEST_CASE("redis sink commands: STREAM is XADD, with explicit id and MAXLEN ~") {
  json v = {{"id", "5-1"}, {"f", "x"}};
  CHECK(build({{"redis.type", "STREAM"}}, {record("s", nullptr, v)}) ==
        std::vector<command>{{"XADD", "s", "*", "id", "5-1", "f", "x"}});
  CHECK(
      build({{"redis.type", "STREAM"},
             {"redis.keyspace", "str:${topic}"},
             {"redis.stream.id.field", "id"},
             {"redis.stream.maxlen", "1000"}},
            {record("s", nullptr, v), record("s", "k", nullptr)}) ==
      std::vector<command>{{"XADD", "str:s", "MAXLEN", "~", "1000", "5-1", "id", "5-1", "f", "x"}});
  CHECK_THROWS_AS(build({{"redis.type", "STREAM"}, {"redis.stream.id.field", "nope"}},
                        {record("s", nullptr, v)}),
                  data_error);
}

TEST_CASE("redis sink commands: LIST pushes the key (RPUSH, or LPUSH via redis.command)") {
  std::vector<sink_record> rs = {record("l", "a", 1), record("l", "b", "x"),
                                 record("l", "a", nullptr)};
  CHECK(build({{"redis.type", "LIST"}}, rs) ==
        std::vector<command>{{"RPUSH", "l", "a"}, {"RPUSH", "l", "b"}, {"LREM", "l", "0", "a"}});
  CHECK(build({{"redis.command", "LPUSH"}}, rs)[0] == command{"LPUSH", "l", "a"});
  CHECK(build({{"redis.command", "lpush"}, {"redis.type", "LIST"}}, rs)[1] ==
        command{"LPUSH", "l", "b"});
}

TEST_CASE("redis sink commands: SET and ZSET, score from the value or a field") {
  CHECK(build({{"redis.type", "SET"}}, {record("s", "a", 1), record("s", "a", nullptr)}) ==
        std::vector<command>{{"SADD", "s", "a"}, {"SREM", "s", "a"}});
  CHECK(
      build({{"redis.type", "ZSET"}},
            {record("z", "a", 1.5), record("z", "b", "7"), record("z", "a", nullptr)}) ==
      std::vector<command>{{"ZADD", "z", "1.5", "a"}, {"ZADD", "z", "7", "b"}, {"ZREM", "z", "a"}});
  CHECK(build({{"redis.type", "ZSET"}, {"redis.zset.score.field", "s.v"}},
              {record("z", "a", json{{"s", {{"v", 3}}}})}) ==
        std::vector<command>{{"ZADD", "z", "3", "a"}});
  CHECK_THROWS_AS(build({{"redis.type", "ZSET"}}, {record("z", "a", "high")}), data_error);
  CHECK_THROWS_AS(build({{"redis.type", "ZSET"}, {"redis.zset.score.field", "s"}},
                        {record("z", "a", json{{"x", 1}})}),
                  data_error);
}

TEST_CASE("redis sink commands: PUBLISH sends the value to the keyspace channel") {
  CHECK(build({{"redis.type", "PUBLISH"}, {"redis.keyspace", "ch:${key}"}},
              {record("t", "a", obj), record("t", "a", nullptr), record("t", "b", "hi")}) ==
        std::vector<command>{{"PUBLISH", "ch:a", obj.dump()}, {"PUBLISH", "ch:b", "hi"}});
}

TEST_CASE("redis sink commands: a command template, and its delete template") {
  config_map geo = {{"redis.command", "GEOADD ${key} ${value.lon} ${value.lat} ${value.name}"}};
  json place = {{"lon", 13.361389}, {"lat", 38.115556}, {"name", "Palermo"}};
  CHECK(build(geo, {record("t", "Sicily", place), record("t", "Sicily", nullptr)}) ==
        std::vector<command>{{"GEOADD", "Sicily", "13.361389", "38.115556", "Palermo"}});

  config_map all = {
      {"redis.command",
       "HSET  x:${topic}:${key}  v ${value} p ${partition}/${offset} h ${header.h} $$ lit"},
      {"redis.command.delete", "HDEL x:${topic}:${key} v"}};
  auto r = record("t", "k", "val", 17, {{"h", "hv"}, {"other", std::nullopt}});
  r.partition = 3;
  CHECK(build(all, {r, record("t", "k", nullptr, 18)}) ==
        std::vector<command>{{"HSET", "x:t:k", "v", "val", "p", "3/17", "h", "hv", "$", "lit"},
                             {"HDEL", "x:t:k", "v"}});

  CHECK_THROWS_AS(build(geo, {record("t", "k", json{{"lon", 1}})}), data_error);
  CHECK_THROWS_AS(build(all, {record("t", "k", "v")}), data_error);  // no header h
}

TEST_CASE("redis sink commands: TTL is atomic with the write; header > field > global") {
  using ferry::api::header;
  auto hdr = [](std::string v) { return std::vector<header>{{"redis.key.ttl", std::move(v)}}; };
  SUBCASE("STRING uses SET EX") {
    CHECK(build({{"redis.type", "STRING"}, {"redis.key.ttl", "60"}},
                {record("t", "a", "v"), record("t", "b", "v", 1, hdr("5")),
                 record("t", "c", "v", 2, hdr("junk")), record("t", "a", nullptr)}) ==
          std::vector<command>{{"SET", "t:a", "v", "EX", "60"},
                               {"SET", "t:b", "v", "EX", "5"},
                               {"SET", "t:c", "v", "EX", "60"},
                               {"DEL", "t:a"}});
  }
  SUBCASE("collections wrap write + EXPIRE in MULTI/EXEC") {
    CHECK(build({{"redis.type", "SET"}}, {record("s", "a", 1, 0, hdr("9"))}) ==
          std::vector<command>{{"MULTI"}, {"SADD", "s", "a"}, {"EXPIRE", "s", "9"}, {"EXEC"}});
    CHECK(build({{"redis.type", "HASH"}, {"redis.key.ttl.field", "ttl"}},
                {record("h", "a", json{{"ttl", 30}, {"f", 1}}),
                 record("h", "b", json{{"ttl", "31"}}, 1, hdr("4")),
                 record("h", "c", json{{"f", 2}})}) ==
          std::vector<command>{{"MULTI"},
                               {"HSET", "h:a", "ttl", "30", "f", "1"},
                               {"EXPIRE", "h:a", "30"},
                               {"EXEC"},
                               {"MULTI"},
                               {"HSET", "h:b", "ttl", "31"},
                               {"EXPIRE", "h:b", "4"},
                               {"EXEC"},
                               {"HSET", "h:c", "f", "2"}});
  }
  SUBCASE("a template's TTL goes to its first argument") {
    CHECK(build({{"redis.command", "SADD tags:${key} ${value}"}, {"redis.key.ttl", "7"}},
                {record("t", "k", "v")}) ==
          std::vector<command>{
              {"MULTI"}, {"SADD", "tags:k", "v"}, {"EXPIRE", "tags:k", "7"}, {"EXEC"}});
  }
  SUBCASE("PUBLISH has no TTL") {
    CHECK(build({{"redis.type", "PUBLISH"}, {"redis.key.ttl", "7"}}, {record("t", "k", "v")}) ==
          std::vector<command>{{"PUBLISH", "t", "v"}});
  }
}

TEST_CASE("redis sink commands: redis.multiexec wraps the batch, per key on a cluster") {
  config_map c = {{"redis.type", "HASH"}, {"redis.multiexec", "true"}, {"redis.key.ttl", "5"}};
  std::vector<sink_record> rs = {record("h", "a", json{{"f", 1}}), record("h", "a", nullptr),
                                 record("h", "b", json{{"f", 2}})};
  CHECK(build(c, rs) == std::vector<command>{{"MULTI"},
                                             {"HSET", "h:a", "f", "1"},
                                             {"EXPIRE", "h:a", "5"},
                                             {"DEL", "h:a"},
                                             {"HSET", "h:b", "f", "2"},
                                             {"EXPIRE", "h:b", "5"},
                                             {"EXEC"}});
  CHECK(build(c, rs, true) == std::vector<command>{{"MULTI"},
                                                   {"HSET", "h:a", "f", "1"},
                                                   {"EXPIRE", "h:a", "5"},
                                                   {"DEL", "h:a"},
                                                   {"EXEC"},
                                                   {"MULTI"},
                                                   {"HSET", "h:b", "f", "2"},
                                                   {"EXPIRE", "h:b", "5"},
                                                   {"EXEC"}});
  // nothing to write: no empty transaction, no WAIT
  CHECK(build({{"redis.type", "STREAM"}, {"redis.multiexec", "true"}, {"redis.wait.replicas", "1"}},
              {record("s", "k", nullptr)})
            .empty());
}

TEST_CASE("redis sink commands: redis.wait.replicas adds WAIT after the batch") {
  CHECK(build({{"redis.type", "SET"}, {"redis.wait.replicas", "2"}, {"redis.wait.timeout", "250"}},
              {record("s", "a", 1), record("s", "b", 1)}) ==
        std::vector<command>{{"SADD", "s", "a"}, {"SADD", "s", "b"}, {"WAIT", "2", "250"}});
}

TEST_CASE("redis sink commands: the builder reuses its buffers across batches") {
  auto c = redis_sink_config::parse({{"redis.command", "SET k:${key} ${value.v}"}});
  command_builder b(c);
  ferry::clients::redis_pipeline p;
  for (int batch = 0; batch < 3; ++batch) {
    p.clear();
    std::vector<sink_record> rs;
    for (int i = 0; i < 100; ++i) {
      rs.push_back(record("t", std::to_string(i), json{{"v", batch * 1000 + i}}, i));
    }
    b.build(rs, p);
    auto cmds = sink_test::decode(p);
    REQUIRE(cmds.size() == 100);
    CHECK(cmds[99] == command{"SET", "k:99", std::to_string(batch * 1000 + 99)});
  }
}

TEST_CASE("redis sink commands: values as text (numbers without temporaries)") {
  std::string buf;
  CHECK(text_of(json(2.0), buf) == "2.0");
  CHECK(text_of(json(1.5), buf) == "1.5");
  CHECK(text_of(json(-0.25), buf) == "-0.25");
  CHECK(text_of(json(1e20), buf) == "1e+20");
  CHECK(text_of(json(-7), buf) == "-7");
  CHECK(text_of(json(18446744073709551615ull), buf) == "18446744073709551615");
  CHECK(text_of(json(true), buf) == "true");
  CHECK(text_of(json(nullptr), buf).empty());
  CHECK(text_of(json("text"), buf) == "text");
  CHECK(text_of(json{{"a", 1}}, buf) == R"({"a":1})");
}
