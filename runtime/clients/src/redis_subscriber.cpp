#include "ferry/clients/redis_subscriber.hpp"

#include <utility>

#include "ferry/api/errors.hpp"

namespace ferry::clients {

using clock = std::chrono::steady_clock;

redis_subscriber::redis_subscriber(redis_endpoint endpoint, std::vector<std::string> channels,
                                   std::vector<std::string> patterns,
                                   std::chrono::milliseconds ping_interval)
    : connection_(std::move(endpoint)),
      channels_(std::move(channels)),
      patterns_(std::move(patterns)),
      ping_interval_(ping_interval) {}

void redis_subscriber::close() {
  connection_.close();
  ping_outstanding_ = false;
  confirmations_ = 0;
  early_.clear();
}

void redis_subscriber::connect() {
  if (connection_.connected()) return;
  close();
  redis_pipeline subscribe;
  if (!channels_.empty()) {
    subscribe.begin(1 + channels_.size());
    subscribe.arg("SUBSCRIBE");
    for (const auto& c : channels_) subscribe.arg(c);
  }
  if (!patterns_.empty()) {
    subscribe.begin(1 + patterns_.size());
    subscribe.arg("PSUBSCRIBE");
    for (const auto& p : patterns_) subscribe.arg(p);
  }
  connection_.send(subscribe);  // connects (TLS, AUTH, SELECT) first
  const auto wanted = channels_.size() + patterns_.size();
  const auto deadline = clock::now() + connection_.endpoint().timeout;
  std::vector<pubsub_message> early;
  while (confirmations_ < wanted) {
    auto reply = connection_.read_reply(deadline);
    if (!reply) {
      connection_.close();
      throw redis_io_error("Redis at " + connection_.endpoint().address() +
                           ": no confirmation of the subscriptions within " +
                           std::to_string(connection_.endpoint().timeout.count()) + " ms");
    }
    take(*reply, early);
  }
  for (auto& m : early) early_.push_back(std::move(m));
  last_heard_ = clock::now();
}

bool redis_subscriber::take(const redis_reply& reply, std::vector<pubsub_message>& out) {
  auto r = reply.view();
  const auto at = "Redis at " + connection_.endpoint().address();
  if (r.is_error()) {
    auto text = std::string(r.str());
    connection_.close();
    throw api::connect_error(at + " refused a subscription: " + text);
  }
  if (!r.is_array() || r.size() < 2 || !r[0].is_string()) {
    connection_.close();
    throw redis_io_error(at + ": unexpected reply in subscribed mode: " + r.describe());
  }
  auto kind = r[0].str();
  if (kind == "message" && r.size() == 3) {
    out.push_back({std::string(r[1].str()), {}, std::string(r[2].str())});
    return true;
  }
  if (kind == "pmessage" && r.size() == 4) {
    out.push_back({std::string(r[2].str()), std::string(r[1].str()), std::string(r[3].str())});
    return true;
  }
  if (kind == "subscribe" || kind == "psubscribe") {
    ++confirmations_;
  } else if (kind == "pong") {
    ping_outstanding_ = false;
  }
  return false;  // unsubscribe confirmations and the like: nothing to deliver
}

void redis_subscriber::check_alive(clock::time_point now) {
  if (ping_outstanding_) {
    if (now - ping_sent_ > connection_.endpoint().timeout) {
      connection_.close();
      ping_outstanding_ = false;
      throw redis_io_error("Redis at " + connection_.endpoint().address() +
                           ": no answer to PING on the subscriber connection within " +
                           std::to_string(connection_.endpoint().timeout.count()) + " ms");
    }
    return;
  }
  if (now - last_heard_ >= ping_interval_) {
    redis_pipeline ping;
    ping.add({"PING"});
    connection_.send(ping);
    ping_outstanding_ = true;
    ping_sent_ = now;
  }
}

std::size_t redis_subscriber::read(std::vector<pubsub_message>& out, std::size_t max,
                                   clock::time_point deadline) {
  const auto before = out.size();
  while (!early_.empty() && out.size() - before < max) {
    out.push_back(std::move(early_.front()));
    early_.pop_front();
  }
  if (!connection_.connected()) {
    throw redis_io_error("Redis at " + connection_.endpoint().address() +
                         ": the subscriber is not connected");
  }
  check_alive(clock::now());
  while (out.size() - before < max) {
    // Once something arrived, only take what is already there.
    auto until = out.size() > before ? clock::now() : deadline;
    auto reply = connection_.read_reply(until);
    if (!reply) break;
    last_heard_ = clock::now();
    take(*reply, out);
  }
  return out.size() - before;
}

}  // namespace ferry::clients
