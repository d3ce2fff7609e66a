#pragma once

// Helpers for the Redis sink's unit tests: decode the RESP a pipeline holds, make records,
// parse reply bytes into real hiredis replies.

#include <hiredis/hiredis.h>
#include <hiredis/read.h>

#include <stdexcept>
#include <string>
#include <vector>

#include "ferry/api/record.hpp"
#include "ferry/clients/redis_connection.hpp"

namespace sink_test {

using command = std::vector<std::string>;

// The commands in a pipeline's RESP buffer (arrays of bulk strings only).
inline std::vector<command> decode(const ferry::clients::redis_pipeline& p) {
  const std::string& b = p.buffer();
  std::vector<command> out;
  std::size_t i = 0;
  auto number = [&](char tag) {
    if (b.at(i) != tag) throw std::runtime_error("bad RESP at " + std::to_string(i));
    auto end = b.find("\r\n", i);
    auto n = std::stoul(b.substr(i + 1, end - i - 1));
    i = end + 2;
    return n;
  };
  while (i < b.size()) {
    auto argc = number('*');
    command c;
    for (std::size_t a = 0; a < argc; ++a) {
      auto len = number('$');
      c.push_back(b.substr(i, len));
      i += len + 2;
    }
    out.push_back(std::move(c));
  }
  return out;
}

inline ferry::api::sink_record record(std::string topic, ferry::json key, ferry::json value,
                                      std::int64_t offset = 0,
                                      std::vector<ferry::api::header> headers = {}) {
  ferry::api::sink_record r;
  r.topic = std::move(topic);
  r.partition = 0;
  r.offset = offset;
  r.key = std::move(key);
  r.value = std::move(value);
  r.headers = std::move(headers);
  return r;
}

// Real replies from RESP text, e.g. "-OOM command not allowed\r\n".
inline std::vector<ferry::clients::redis_reply> replies(const std::string& resp) {
  redisReader* reader = redisReaderCreate();
  redisReaderFeed(reader, resp.data(), resp.size());
  std::vector<ferry::clients::redis_reply> out;
  while (true) {
    void* r = nullptr;
    if (redisReaderGetReply(reader, &r) != REDIS_OK) {
      redisReaderFree(reader);
      throw std::runtime_error("bad RESP reply text");
    }
    if (r == nullptr) break;
    out.emplace_back(static_cast<redisReply*>(r));
  }
  redisReaderFree(reader);
  return out;
}

}  // namespace sink_test
