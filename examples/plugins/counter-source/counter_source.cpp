// An example source connector plug-in: CounterSourceConnector writes `count` records
// {"n": <i>, "message": "<message> <i>"} to `topic` (key: the number), then idles. It keeps its
// position in Kafka Connect's offsets, so a restarted task continues after the last record.
#include <chrono>
#include <cstdint>
#include <memory>
#include <thread>

#include "ferry/api/connector.hpp"
#include "ferry/api/errors.hpp"
#include "ferry/api/plugin_abi.hpp"

namespace {

using namespace ferry;

api::config_def counter_config() {
  api::config_def d;
  d.define({.name = "topic",
            .type = api::config_type::string,
            .importance = api::importance_level::high,
            .doc = "Topic the records are written to."});
  d.define({.name = "count",
            .type = api::config_type::long_,
            .default_value = "10",
            .importance = api::importance_level::medium,
            .doc = "How many records to write.",
            .validate = api::in_range(0, 1000000)});
  d.define({.name = "message",
            .type = api::config_type::string,
            .default_value = "hello",
            .importance = api::importance_level::low,
            .doc = "Text in front of each record's number."});
  return d;
}

class counter_connector final : public api::source_connector {
 public:
  void start(const api::config_map& config) override {
    api::parsed_config parsed(counter_config(), config);  // throws api::config_error
    config_ = config;
  }
  std::vector<api::config_map> task_configs(int) override { return {config_}; }
  void stop() override {}

 private:
  api::config_map config_;
};

class counter_task final : public api::source_task {
 public:
  void start(const api::config_map& config, api::source_task_context& context) override {
    api::parsed_config parsed(counter_config(), config);
    topic_ = parsed.get_string("topic");
    count_ = parsed.get_long("count");
    message_ = parsed.get_string("message");
    if (auto offset = context.offset(partition()); offset && offset->contains("next")) {
      next_ = (*offset)["next"].get<std::int64_t>();
    }
  }

  std::vector<api::source_record> poll() override {
    std::vector<api::source_record> out;
    for (int i = 0; i < 100 && next_ < count_; ++i, ++next_) {
      api::source_record r;
      r.source_partition = partition();
      r.source_offset = json{{"next", next_ + 1}};
      r.topic = topic_;
      r.key = std::to_string(next_);
      r.value = json{{"n", next_}, {"message", message_ + " " + std::to_string(next_)}};
      out.push_back(std::move(r));
    }
    // Done: poll() must come back within a second, and should not spin.
    if (out.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(200));
    return out;
  }

  void stop() override {}

 private:
  json partition() const { return json{{"counter", topic_}}; }

  std::string topic_;
  std::int64_t count_ = 0;
  std::int64_t next_ = 0;
  std::string message_;
};

void register_counter(api::plugin_host& host) {
  host.add_connector({.class_name = "com.example.ferry.CounterSourceConnector",
                      .type = api::connector_type::source,
                      .version = "1.0.0",
                      .config = counter_config,
                      .make_connector = [] { return std::make_unique<counter_connector>(); },
                      .make_source_task = [] { return std::make_unique<counter_task>(); }});
}

}  // namespace

FERRY_PLUGIN(register_counter)
