#include "sink/sink_replies.hpp"

#include <string>
#include <string_view>

#include "ferry/api/errors.hpp"

namespace ferry::redis {

namespace {

bool is_retriable(std::string_view error) {
  for (std::string_view p : {"LOADING", "BUSY", "TRYAGAIN", "CLUSTERDOWN", "MASTERDOWN", "READONLY",
                             "OOM", "NOREPLICAS", "MOVED", "ASK"}) {
    if (error.starts_with(p) &&
        (error.size() == p.size() || error[p.size()] == ' ' || error[p.size()] == '\r')) {
      return true;
    }
  }
  return false;
}

}  // namespace

void check_reply(clients::redis_reply_view reply) {
  if (reply.is_error()) {
    auto msg = std::string(reply.str());
    if (msg.starts_with("EXECABORT")) return;  // the command's own error is reported too
    if (is_retriable(msg)) {
      throw api::retriable_error("Redis is not accepting writes now (the batch is retried): " +
                                 msg);
    }
    throw api::data_error("Redis refused a write: " + msg);
  }
  if (reply.is_array()) {
    for (std::size_t i = 0; i < reply.size(); ++i) check_reply(reply[i]);
  }
}

void check_replies(const std::vector<clients::redis_reply>& replies, bool multiexec,
                   int wait_replicas, std::int64_t wait_timeout_ms) {
  for (const auto& reply : replies) {
    if (multiexec && reply.view().is_nil()) {
      throw api::retriable_error("Redis aborted the MULTI/EXEC batch");
    }
    check_reply(reply.view());
  }
  if (wait_replicas > 0 && !replies.empty()) {
    auto acked = replies.back().view();
    if (!acked.is_integer() || acked.integer() < wait_replicas) {
      throw api::retriable_error(
          "WAIT: " + (acked.is_integer() ? std::to_string(acked.integer()) : acked.describe()) +
          " of the " + std::to_string(wait_replicas) +
          " replicas asked for (redis.wait.replicas) acknowledged the batch within " +
          std::to_string(wait_timeout_ms) + " ms (redis.wait.timeout); the batch is retried");
    }
  }
}

}  // namespace ferry::redis
