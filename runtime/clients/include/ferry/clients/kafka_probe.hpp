#pragma once

#include <chrono>
#include <mutex>
#include <optional>
#include <string>

#include "ferry/clients/kafka_client.hpp"

namespace ferry::clients {

// Answers "can this worker reach Kafka?" for GET /health: a metadata request through one idle
// client, made on demand with a deadline and remembered for a second so that a burst of health
// checks costs one request. Thread-safe; the client is created on the first check.
class kafka_probe {
 public:
  // `config`: bootstrap.servers and the worker's security settings.
  explicit kafka_probe(client_config config, std::chrono::milliseconds timeout);
  kafka_probe(const kafka_probe&) = delete;
  kafka_probe& operator=(const kafka_probe&) = delete;

  // nullopt when a broker answered; else what went wrong, for a person to act on.
  std::optional<std::string> problem();

 private:
  client_config config_;
  std::chrono::milliseconds timeout_;
  std::mutex mutex_;
  kafka_handle client_;
  std::chrono::steady_clock::time_point checked_{};
  std::optional<std::string> last_;
};

}  // namespace ferry::clients
