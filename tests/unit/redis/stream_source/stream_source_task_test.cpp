#include <doctest/doctest.h>

#include <deque>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "../sink/sink_test_support.hpp"
#include "ferry/core/converters.hpp"
#include "stream_source/stream_source_task.hpp"

using ferry::json;
using ferry::api::source_record;
using ferry::redis::stream_source_task;
using sink_test::command;

namespace {

// What the fake Redis was sent (one entry per pipeline) and the replies it will give (RESP
// text, one string per pipeline).
struct script {
  std::vector<std::vector<command>> sent;
  std::deque<std::string> replies;
  bool send_ahead = false;  // the fake can pipeline across calls (one server)
};

class fake_redis final : public ferry::clients::redis_client {
 public:
  explicit fake_redis(std::shared_ptr<script> s) : s_(std::move(s)) {}
  void connect() override {}
  void close() override {}
  std::vector<ferry::clients::redis_reply> execute(
      const ferry::clients::redis_pipeline& pipeline) override {
    REQUIRE_MESSAGE(ahead_ == 0, "a command while replies sent ahead were not taken");
    s_->sent.push_back(sink_test::decode(pipeline));
    return reply_to(pipeline.size());
  }
  // Pipelining across calls, when the script allows it.
  bool send_ahead(const ferry::clients::redis_pipeline& pipeline) override {
    if (!s_->send_ahead) return false;
    REQUIRE(ahead_ == 0);
    s_->sent.push_back(sink_test::decode(pipeline));
    ahead_ = pipeline.size();
    return true;
  }
  std::vector<ferry::clients::redis_reply> take_ahead() override {
    REQUIRE(ahead_ > 0);
    return reply_to(std::exchange(ahead_, 0));
  }

 private:
  std::vector<ferry::clients::redis_reply> reply_to(std::size_t commands) {
    REQUIRE_MESSAGE(!s_->replies.empty(), "no reply scripted for " << s_->sent.back()[0][0]);
    auto out = sink_test::replies(s_->replies.front());
    s_->replies.pop_front();
    REQUIRE(out.size() == commands);
    return out;
  }
  std::shared_ptr<script> s_;
  std::size_t ahead_ = 0;
};

class offsets final : public ferry::api::source_task_context {
 public:
  std::optional<json> offset(const json& partition) override {
    auto it = stored.find(partition.at("stream").get<std::string>());
    if (it == stored.end()) return std::nullopt;
    return json{{"offset", it->second}};
  }
  std::map<std::string, std::string> stored;
  ferry::api::value_form form = ferry::api::value_form::data;
  ferry::api::value_form values() const override { return form; }
};

std::string bulk(const std::string& s) {
  return "$" + std::to_string(s.size()) + "\r\n" + s + "\r\n";
}
std::string array(const std::vector<std::string>& items) {
  std::string out = "*" + std::to_string(items.size()) + "\r\n";
  for (const auto& i : items) out += i;
  return out;
}
// An entry [id, [n, <value>]].
std::string entry(const std::string& id, const std::string& n) {
  return array({bulk(id), array({bulk("n"), bulk(n)})});
}
// An XREAD/XREADGROUP reply for one stream.
std::string stream_reply(const std::string& stream, const std::vector<std::string>& entries) {
  return array({array({bulk(stream), array(entries)})});
}

struct harness {
  std::shared_ptr<script> redis = std::make_shared<script>();
  offsets context;
  stream_source_task task{[r = redis](const ferry::clients::redis_endpoint&) {
    return std::make_unique<fake_redis>(r);
  }};
  void start(ferry::api::config_map config) { task.start(config, context); }
  const std::vector<command>& last() const { return redis->sent.back(); }
};

}  // namespace

TEST_CASE("group mode: XACK only for what Kafka acknowledged, a vanished group comes back there") {
  harness h;
  h.start({{"redis.stream.name", "orders"}, {"redis.stream.consumer.group", "g"}});
  h.redis->replies = {"+OK\r\n", "*0\r\n",
                      stream_reply("orders", {entry("1-1", "a"), entry("1-2", "b")})};
  auto records = h.task.poll();
  REQUIRE(h.redis->sent.size() == 3);
  CHECK(h.redis->sent[0] ==
        std::vector<command>{{"XGROUP", "CREATE", "orders", "g", "0-0", "MKSTREAM"}});
  CHECK(h.redis->sent[1] ==
        std::vector<command>{{"XPENDING", "orders", "g", "IDLE", "60000", "-", "+", "500"}});
  CHECK(h.redis->sent[2] ==
        std::vector<command>{{"XREADGROUP", "GROUP", "g", "consumer-0", "COUNT", "500", "BLOCK",
                              "100", "STREAMS", "orders", ">"}});
  REQUIRE(records.size() == 2);
  CHECK(records[0].source_partition == json{{"stream", "orders"}});
  CHECK(records[0].source_offset == json{{"offset", "1-1"}});
  CHECK(records[0].topic == "orders");
  CHECK(records[0].key == "1-1");
  CHECK(records[1].value == json{{"id", "1-2"}, {"stream", "orders"}, {"body", {{"n", "b"}}}});

  // Only the first record was acknowledged by Kafka: only it is acknowledged in Redis, in
  // front of the next read.
  h.task.commit_record(records[0]);
  h.redis->replies = {":1\r\n*-1\r\n"};
  CHECK(h.task.poll().empty());
  CHECK(h.last() == std::vector<command>{{"XACK", "orders", "g", "1-1"},
                                         {"XREADGROUP", "GROUP", "g", "consumer-0", "COUNT", "500",
                                          "BLOCK", "100", "STREAMS", "orders", ">"}});

  // The group is destroyed: it is created again at the last id Kafka acknowledged, not at 0.
  h.redis->replies = {"-NOGROUP No such key 'orders' or consumer group 'g'\r\n"};
  CHECK(h.task.poll().empty());
  h.redis->replies = {"+OK\r\n", "*-1\r\n"};
  CHECK(h.task.poll().empty());
  REQUIRE(h.redis->sent.size() >= 2);
  CHECK(h.redis->sent[h.redis->sent.size() - 2] ==
        std::vector<command>{{"XGROUP", "CREATE", "orders", "g", "1-1", "MKSTREAM"}});

  // commit() sends what is left to acknowledge, and nothing when there is nothing.
  auto before = h.redis->sent.size();
  h.task.commit();
  CHECK(h.redis->sent.size() == before);
  h.task.commit_record(records[1]);
  h.redis->replies = {":0\r\n"};
  h.task.commit();
  CHECK(h.last() == std::vector<command>{{"XACK", "orders", "g", "1-2"}});
  h.task.stop();
}

TEST_CASE("group mode: own pending entries first, then another consumer's idle ones are claimed") {
  harness h;
  h.start({{"redis.stream.name", "orders"},
           {"redis.stream.mode", "group"},
           {"redis.stream.claim.idle.ms", "1000"},
           {"redis.stream.key", "stream"},
           {"redis.stream.value", "body"}});
  h.redis->replies = {
      "-BUSYGROUP Consumer Group name already exists\r\n",
      stream_reply("orders", {entry("5-0", "mine")}),
  };
  auto records = h.task.poll();
  REQUIRE(h.redis->sent.size() == 2);
  CHECK(h.redis->sent[1] ==
        std::vector<command>{{"XREADGROUP", "GROUP", "kafka-consumer-group", "consumer-0", "COUNT",
                              "500", "STREAMS", "orders", "0"}});
  REQUIRE(records.size() == 1);
  CHECK(records[0].key == "orders");
  CHECK(records[0].value == json{{"n", "mine"}});

  // The pending pass goes on after the last id seen, until it comes back empty; then the idle
  // entries of other consumers (never this consumer's own) are claimed.
  h.redis->replies = {
      stream_reply("orders", {}),
      array({array({bulk("1-1"), bulk("dead"), ":5000\r\n", ":1\r\n"}),
             array({bulk("6-0"), bulk("consumer-0"), ":5000\r\n", ":1\r\n"})}),
      array({entry("1-1", "old")}),
  };
  records = h.task.poll();
  REQUIRE(h.redis->sent.size() == 5);
  CHECK(h.redis->sent[2][0] == command{"XREADGROUP", "GROUP", "kafka-consumer-group", "consumer-0",
                                       "COUNT", "500", "STREAMS", "orders", "5-0"});
  CHECK(h.redis->sent[3][0] ==
        command{"XPENDING", "orders", "kafka-consumer-group", "IDLE", "1000", "-", "+", "500"});
  CHECK(h.redis->sent[4][0] ==
        command{"XCLAIM", "orders", "kafka-consumer-group", "consumer-0", "1000", "1-1"});
  REQUIRE(records.size() == 1);
  // Older than what was handed out already: the offset stays, "entry" names the entry.
  CHECK(records[0].source_offset == json{{"offset", "5-0"}, {"entry", "1-1"}});
  h.task.commit_record(records[0]);
  h.redis->replies = {":1\r\n*-1\r\n"};
  h.task.poll();
  CHECK(h.last()[0] == command{"XACK", "orders", "kafka-consumer-group", "1-1"});
}

TEST_CASE("xread mode: stored offsets, $ pinned to the last entry, one XREAD for all streams") {
  harness h;
  h.context.stored["a"] = "5-0";
  h.start({{"redis.stream.name", "a,b"}, {"redis.stream.offset", "$"}, {"batch.size", "10"}});
  h.redis->replies = {array({entry("9-0", "x")}), stream_reply("b", {entry("9-1", "y")})};
  auto records = h.task.poll();
  REQUIRE(h.redis->sent.size() == 2);
  CHECK(h.redis->sent[0] == std::vector<command>{{"XREVRANGE", "b", "+", "-", "COUNT", "1"}});
  CHECK(h.redis->sent[1] == std::vector<command>{{"XREAD", "COUNT", "10", "BLOCK", "100", "STREAMS",
                                                  "a", "b", "5-0", "9-0"}});
  REQUIRE(records.size() == 1);
  CHECK(records[0].source_offset == json{{"offset", "9-1"}});
  // Read on after the last entry; Kafka's acknowledgements send nothing to Redis.
  h.task.commit_record(records[0]);
  h.redis->replies = {"*-1\r\n"};
  h.task.poll();
  CHECK(h.last() == std::vector<command>{{"XREAD", "COUNT", "10", "BLOCK", "100", "STREAMS", "a",
                                          "b", "5-0", "9-1"}});
  h.task.commit();
  CHECK(h.redis->sent.size() == 3);
}

TEST_CASE("xread mode on one server: the next XREAD goes out ahead, after the reply's last ids") {
  harness h;
  h.redis->send_ahead = true;
  h.start({{"redis.stream.name", "a,b"}, {"redis.stream.offset", "0-0"}, {"batch.size", "10"}});
  const command blocking_read{"XREAD",   "COUNT", "10", "BLOCK", "100",
                              "STREAMS", "a",     "b",  "0-0",   "0-0"};
  // A blocking read with entries of a only: the next read, without BLOCK, goes on after a's
  // last entry and where b was.
  h.redis->replies = {stream_reply("a", {entry("1-0", "x"), entry("2-0", "y")})};
  auto records = h.task.poll();
  CHECK(records.size() == 2);
  REQUIRE(h.redis->sent.size() == 2);
  CHECK(h.redis->sent[0] == std::vector<command>{blocking_read});
  CHECK(h.redis->sent[1] ==
        std::vector<command>{{"XREAD", "COUNT", "10", "STREAMS", "a", "b", "2-0", "0-0"}});
  // The next poll takes that reply and sends the one after it.
  h.redis->replies = {stream_reply("b", {entry("5-0", "z")})};
  records = h.task.poll();
  REQUIRE(records.size() == 1);
  CHECK(records[0].source_partition == json{{"stream", "b"}});
  CHECK(h.last() ==
        std::vector<command>{{"XREAD", "COUNT", "10", "STREAMS", "a", "b", "2-0", "5-0"}});
  // Nothing new: no read ahead; the poll after it blocks as usual.
  h.redis->replies = {"*-1\r\n"};
  CHECK(h.task.poll().empty());
  CHECK(h.redis->sent.size() == 3);
  h.redis->replies = {"*-1\r\n"};
  CHECK(h.task.poll().empty());
  CHECK(h.last() == std::vector<command>{{"XREAD", "COUNT", "10", "BLOCK", "100", "STREAMS", "a",
                                          "b", "2-0", "5-0"}});
}

TEST_CASE("a Redis error that retrying cannot fix fails the poll with the stream's name") {
  harness h;
  h.start({{"redis.stream.name", "k"}});
  h.redis->replies = {"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"};
  CHECK_THROWS_WITH_AS(h.task.poll(), doctest::Contains("XREAD on k failed: WRONGTYPE"),
                       ferry::api::connect_error);
  h.redis->replies = {"-LOADING Redis is loading the dataset in memory\r\n"};
  CHECK_THROWS_AS(h.task.poll(), ferry::api::retriable_error);
}

TEST_CASE("written values are byte for byte what the JSON converter writes from the data") {
  // Entries with escapes, UTF-8, a field that is not UTF-8 and a field name given twice; each
  // layout read twice: with values as data (through the converter) and written by the task.
  auto fields_entry = [](const std::string& id, const std::vector<std::string>& fields) {
    std::vector<std::string> items;
    for (const auto& f : fields) items.push_back(bulk(f));
    return array({bulk(id), array(items)});
  };
  const std::string reply =
      stream_reply("s\"1", {fields_entry("1-0", {"user", "ann", "note", "say \"hi\"\n\t\x01/\\"}),
                            fields_entry("2-0", {"user",
                                                 "b\xc3\xa9"
                                                 "a",
                                                 "emoji", "\xf0\x9f\x98\x80"}),
                            fields_entry("3-0", {"user", "bad\xff"}),
                            fields_entry("4-0", {"user", "x", "user", "y"}),
                            fields_entry("5-0", {"other", "no user field"})});
  auto converter =
      ferry::core::make_converter("JsonConverter", {{"schemas.enable", "false"}}, false);
  for (auto layout : {"record", "body"}) {
    for (auto key : {"id", "body.user"}) {
      CAPTURE(layout);
      CAPTURE(key);
      ferry::api::config_map config{{"redis.stream.name", "s\"1"},
                                    {"redis.stream.value", layout},
                                    {"redis.stream.key", key},
                                    {"redis.stream.offset", "0-0"}};
      harness as_data, written;
      written.context.form = ferry::api::value_form::schemaless_json;
      as_data.start(config);
      written.start(config);
      as_data.redis->replies = {reply};
      written.redis->replies = {reply};
      auto expected = as_data.task.poll();
      auto got = written.task.poll();
      REQUIRE(expected.size() == 5);
      REQUIRE(got.size() == 5);
      for (std::size_t i = 0; i < got.size(); ++i) {
        CAPTURE(i);
        CHECK_FALSE(expected[i].value_bytes);
        CHECK(got[i].key == expected[i].key);
        CHECK(got[i].key_schema == expected[i].key_schema);
        CHECK(got[i].source_partition == expected[i].source_partition);
        CHECK(got[i].source_offset == expected[i].source_offset);
        CHECK(got[i].topic == expected[i].topic);
        if (i == 2 || i == 3) {  // left to the converter: not UTF-8, a name given twice
          CHECK_FALSE(got[i].value_bytes);
          CHECK(got[i].value == expected[i].value);
          continue;
        }
        REQUIRE(got[i].value_bytes);
        CHECK(got[i].value.is_null());
        CHECK(*got[i].value_bytes ==
              converter->from_connect("t", expected[i].value, expected[i].value_schema.get()));
      }
    }
  }
}
