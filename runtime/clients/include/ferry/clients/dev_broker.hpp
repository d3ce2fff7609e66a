#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace ferry::clients {

struct dev_broker_options {
  int brokers = 1;
  std::vector<std::pair<std::string, int>> topics;  // created at start: name, partitions
};

// The development Kafka broker: librdkafka's mock cluster (real Kafka protocol on loopback
// TCP listeners, memory only). Owns the mock cluster and the librdkafka handle behind it.
// Thread-safe: control calls may come from any thread.
class dev_broker {
 public:
  explicit dev_broker(const dev_broker_options& options);  // throws std::runtime_error
  ~dev_broker();
  dev_broker(const dev_broker&) = delete;
  dev_broker& operator=(const dev_broker&) = delete;

  const std::string& bootstrap_servers() const;

  // Executes one control command line and returns "OK[ detail]" or "ERR <message>".
  // Commands: ping | create-topic NAME PARTITIONS [RF] | broker-down ID | broker-up ID |
  // rtt ID MS | request-errors API_KEY ERR[,ERR...] | clear-errors API_KEY |
  // topic-error TOPIC ERR | leader TOPIC PARTITION BROKER_ID
  std::string execute(const std::string& command_line);

  // Serves execute() as a line protocol on 127.0.0.1:port (0 picks a free port) on a background
  // thread until the broker is destroyed; returns the bound port.
  std::uint16_t serve_control(std::uint16_t port);

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace ferry::clients
