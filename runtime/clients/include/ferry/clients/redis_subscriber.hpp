#pragma once

#include <chrono>
#include <cstddef>
#include <deque>
#include <string>
#include <vector>

#include "ferry/clients/redis_connection.hpp"

namespace ferry::clients {

// One message pushed by the server to a subscriber.
struct pubsub_message {
  std::string channel;
  std::string pattern;  // the PSUBSCRIBE pattern that matched; empty for a SUBSCRIBE channel
  std::string payload;
};

// A Redis Pub/Sub subscriber on one server: SUBSCRIBE / PSUBSCRIBE over its own
// redis_connection (so connect, TLS, AUTH and SELECT are the connection's), and the pushed
// messages read with a deadline. Used by one thread (a source task's); lifecycle: connect()
// (again after any redis_io_error), read() any number of times, close().
//
// A broken connection (server gone, CLIENT KILL, reset) throws redis_io_error from read() and
// leaves the subscriber disconnected; the caller decides when to connect() again and what to
// reconcile, since messages published meanwhile are gone (Pub/Sub keeps nothing). A connection
// that goes silent without breaking is found by a PING after `ping_interval` of silence: no
// answer within endpoint.timeout counts as broken.
class redis_subscriber {
 public:
  redis_subscriber(redis_endpoint endpoint, std::vector<std::string> channels,
                   std::vector<std::string> patterns,
                   std::chrono::milliseconds ping_interval = std::chrono::seconds(10));
  redis_subscriber(const redis_subscriber&) = delete;
  redis_subscriber& operator=(const redis_subscriber&) = delete;

  // Connects, subscribes to every channel and pattern and waits for the server's confirmation
  // of each (within endpoint.timeout). Does nothing when connected. Throws redis_io_error
  // (retriable), redis_auth_error, or api::connect_error when the server refuses a
  // subscription (an ACL without channel permissions, say).
  void connect();
  bool connected() const { return connection_.connected(); }
  void close();

  // Appends up to `max` messages to `out`: returns as soon as at least one arrived and nothing
  // more is waiting, or at `deadline` with none. Throws redis_io_error when the connection
  // broke (it is closed then).
  std::size_t read(std::vector<pubsub_message>& out, std::size_t max,
                   std::chrono::steady_clock::time_point deadline);

  const redis_endpoint& endpoint() const { return connection_.endpoint(); }

 private:
  // Handles one reply; returns true when it was a message (appended to out).
  bool take(const redis_reply& reply, std::vector<pubsub_message>& out);
  void check_alive(std::chrono::steady_clock::time_point now);

  redis_connection connection_;
  std::vector<std::string> channels_;
  std::vector<std::string> patterns_;
  std::chrono::milliseconds ping_interval_;
  std::size_t confirmations_ = 0;  // subscribe/psubscribe confirmations seen since connect
  std::chrono::steady_clock::time_point last_heard_{};
  bool ping_outstanding_ = false;
  std::chrono::steady_clock::time_point ping_sent_{};
  std::deque<pubsub_message> early_;  // messages that came in while connect() waited
};

}  // namespace ferry::clients
