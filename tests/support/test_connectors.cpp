#include "test_connectors.hpp"

#include <chrono>
#include <thread>

#include "ferry/api/errors.hpp"
#include "ferry/core/log.hpp"

namespace ferry::test {

namespace {

using api::config_map;

void hang_if(const config_map& config, const std::string& step) {
  auto in = config.find("hang.in");
  if (in == config.end() || in->second != step) return;
  auto ms =
      config.count("hang.ms") ? api::parse_long(config.at("hang.ms")).value_or(3600000) : 3600000;
  std::this_thread::sleep_for(std::chrono::milliseconds(ms));
}

// fail.in=<step> makes that step log fail.message and then throw it (as a connector whose
// error quotes its config would).
void fail_if(const config_map& config, const std::string& step) {
  auto in = config.find("fail.in");
  if (in == config.end() || in->second != step) return;
  auto message = config.count("fail.message") ? config.at("fail.message") : "failing on purpose";
  log::warn("test", "About to fail in ", step, ": ", message);
  throw api::connect_error(message);
}

class hanging_connector final : public api::source_connector {
 public:
  void start(const config_map& config) override {
    config_ = config;
    hang_if(config_, "connector.start");
    fail_if(config_, "connector.start");
  }
  std::vector<config_map> task_configs(int max_tasks) override {
    return std::vector<config_map>(static_cast<std::size_t>(max_tasks), config_);
  }
  void stop() override { hang_if(config_, "connector.stop"); }

 private:
  config_map config_;
};

class hanging_task final : public api::source_task {
 public:
  void start(const config_map& config, api::source_task_context&) override {
    config_ = config;
    hang_if(config_, "task.start");
    fail_if(config_, "task.start");
  }
  std::vector<api::source_record> poll() override {
    hang_if(config_, "task.poll");
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    return {};
  }
  void stop() override { hang_if(config_, "task.stop"); }

 private:
  config_map config_;
};

}  // namespace

void register_test_connectors(api::plugin_registry& registry) {
  registry.add({.class_name = "ferry.test.HangingSourceConnector",
                .aliases = {},
                .type = api::connector_type::source,
                .version = "test",
                .config =
                    [] {
                      api::config_def d;
                      d.define({.name = "hang.in", .default_value = ""});
                      d.define({.name = "hang.ms",
                                .type = api::config_type::long_,
                                .default_value = "3600000"});
                      d.define({.name = "fail.in", .default_value = ""});
                      d.define({.name = "fail.message", .default_value = ""});
                      return d;
                    },
                .make_connector = [] { return std::make_unique<hanging_connector>(); },
                .make_source_task = [] { return std::make_unique<hanging_task>(); },
                .make_sink_task = nullptr});
}

}  // namespace ferry::test
