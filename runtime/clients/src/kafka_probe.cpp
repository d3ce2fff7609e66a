#include "ferry/clients/kafka_probe.hpp"

#include "ferry/api/errors.hpp"

namespace ferry::clients {

namespace {

// The answer of /health says what is wrong; librdkafka's own connection errors would repeat it
// on stderr every few seconds while Kafka is down.
void quiet(const rd_kafka_t*, int, const char*, const char*) {}

}  // namespace

kafka_probe::kafka_probe(client_config config, std::chrono::milliseconds timeout)
    : config_(std::move(config)), timeout_(timeout) {}

std::optional<std::string> kafka_probe::problem() {
  std::lock_guard lock(mutex_);
  auto now = std::chrono::steady_clock::now();
  if (client_ && now - checked_ < std::chrono::seconds(1)) return last_;
  const auto servers = config_.count("bootstrap.servers") ? config_.at("bootstrap.servers") : "";
  try {
    if (!client_) {
      auto conf = make_kafka_conf(config_, nullptr);
      rd_kafka_conf_set_log_cb(conf.get(), &quiet);
      client_ = make_producer(std::move(conf));
    }
    const rd_kafka_metadata_t* md = nullptr;
    auto err =
        rd_kafka_metadata(client_.get(), 0, nullptr, &md, static_cast<int>(timeout_.count()));
    if (err) {
      last_ = "Cannot reach Kafka at " + servers + " (bootstrap.servers): " + kafka_error_text(err);
    } else {
      last_ =
          md->broker_cnt > 0
              ? std::nullopt
              : std::optional<std::string>("Kafka at " + servers + " answered without any broker");
      rd_kafka_metadata_destroy(md);
    }
  } catch (const std::exception& e) {
    last_ = "Cannot create a Kafka client for " + servers + ": " + e.what();
  }
  checked_ = std::chrono::steady_clock::now();
  return last_;
}

}  // namespace ferry::clients
