#include "ferry/clients/kafka_client.hpp"

#include <algorithm>
#include <climits>
#include <cstdlib>

#include "ferry/api/errors.hpp"
#include "ferry/clients/client_metrics.hpp"

namespace ferry::clients {

namespace {

// librdkafka's statistics (statistics.interval.ms), served by the thread that polls the client.
int on_statistics(rd_kafka_t* rk, char* json_text, std::size_t len, void*) {
  char value[32];
  std::size_t size = sizeof value;
  long long interval = 0;
  if (rd_kafka_conf_get(rd_kafka_conf(rk), "statistics.interval.ms", value, &size) ==
      RD_KAFKA_CONF_OK) {
    interval = std::atoll(value);
  }
  record_kafka_stats(json_text, len, std::chrono::milliseconds(interval));
  return 0;  // librdkafka frees json_text
}

}  // namespace

kafka_conf make_kafka_conf(const client_config& config, std::vector<std::string>* ignored) {
  kafka_conf conf(rd_kafka_conf_new());
  char err[512];
  for (const auto& [k, v] : config) {
    auto rc = rd_kafka_conf_set(conf.get(), k.c_str(), v.c_str(), err, sizeof err);
    if (rc == RD_KAFKA_CONF_UNKNOWN) {
      if (ignored) ignored->push_back(k);
    } else if (rc != RD_KAFKA_CONF_OK) {
      throw api::config_error("Invalid Kafka client setting " + k + "=" + v + ": " + err);
    }
  }
  // Exported by GET /metrics (client_metrics.hpp); only when asked for, since a client that is
  // not polled would hold its statistics until it is.
  if (auto it = config.find("statistics.interval.ms"); it != config.end() && it->second != "0") {
    rd_kafka_conf_set_stats_cb(conf.get(), &on_statistics);
  }
  return conf;
}

namespace {

kafka_handle make_client(rd_kafka_type_t type, kafka_conf conf) {
  char err[512];
  rd_kafka_t* rk = rd_kafka_new(type, conf.get(), err, sizeof err);
  if (!rk) throw api::connect_error(std::string("Cannot create Kafka client: ") + err);
  conf.release();  // owned by rk now
  return kafka_handle(rk);
}

}  // namespace

kafka_handle make_producer(kafka_conf conf) {
  return make_client(RD_KAFKA_PRODUCER, std::move(conf));
}

kafka_handle make_consumer(kafka_conf conf) {
  return make_client(RD_KAFKA_CONSUMER, std::move(conf));
}

std::string kafka_error_text(rd_kafka_resp_err_t err) {
  return rd_kafka_err2str(err);
}

std::vector<std::int64_t> topic_end_offsets(rd_kafka_t* rk, const std::string& topic,
                                            std::chrono::milliseconds timeout) {
  const rd_kafka_metadata_t* md = nullptr;
  rd_kafka_topic_t* t = rd_kafka_topic_new(rk, topic.c_str(), nullptr);
  auto err = rd_kafka_metadata(rk, 0, t, &md, static_cast<int>(timeout.count()));
  rd_kafka_topic_destroy(t);
  if (err) throw api::connect_error("Metadata for " + topic + ": " + kafka_error_text(err));
  std::vector<std::int64_t> ends;
  if (md->topic_cnt == 1) {
    for (int p = 0; p < md->topics[0].partition_cnt; ++p) {
      std::int64_t lo = 0, hi = 0;
      auto e = rd_kafka_query_watermark_offsets(rk, topic.c_str(), p, &lo, &hi,
                                                static_cast<int>(timeout.count()));
      if (e) {
        rd_kafka_metadata_destroy(md);
        throw api::connect_error("Watermarks for " + topic + ": " + kafka_error_text(e));
      }
      ends.push_back(hi);
    }
  }
  rd_kafka_metadata_destroy(md);
  return ends;
}

int ms_left(std::chrono::steady_clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                  deadline - std::chrono::steady_clock::now())
                  .count();
  return static_cast<int>(std::clamp<long long>(left, 0, INT_MAX));
}

}  // namespace ferry::clients
