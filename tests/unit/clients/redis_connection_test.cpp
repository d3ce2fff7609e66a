#include <doctest/doctest.h>

#include <hiredis/hiredis.h>

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
