#include "test_connectors.hpp"

#include <chrono>
#include <fstream>
#include <map>
#include <thread>
#include <tuple>

#include "ferry/api/errors.hpp"
#include "ferry/core/log.hpp"
#include "ferry/transforms/transformation.hpp"

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

// A sink that appends "<topic>-<partition>@<offset> <value>" lines to the file `file`, and with
// resume.from=<n> asks, in open(), to consume every partition from offset n (as a sink that
// keeps its offsets in its destination does).
class file_sink_connector final : public api::sink_connector {
 public:
  void start(const config_map& config) override { config_ = config; }
  std::vector<config_map> task_configs(int max_tasks) override {
    return std::vector<config_map>(static_cast<std::size_t>(max_tasks), config_);
  }
  void stop() override {}

 private:
  config_map config_;
};

class file_sink_task final : public api::sink_task {
 public:
  void start(const config_map& config, api::sink_task_context& context) override {
    config_ = config;
    context_ = &context;
    out_.open(config.at("file"), std::ios::app);
    if (!out_) throw api::connect_error("cannot open " + config.at("file"));
  }
  void open(std::span<const api::topic_partition> partitions) override {
    auto from = config_.find("resume.from");
    if (from == config_.end()) return;
    api::offset_map seeks;
    for (const auto& tp : partitions) seeks[tp] = api::parse_long(from->second).value_or(0);
    context_->offset(seeks);
  }
  void put(std::span<const api::sink_record> records) override {
    for (const auto& r : records) {
      out_ << r.topic << "-" << r.partition << "@" << r.offset << " "
           << (r.value.is_string() ? r.value.get<std::string>() : r.value.dump()) << "\n";
    }
    out_.flush();
  }
  void stop() override {}

 private:
  config_map config_;
  api::sink_task_context* context_ = nullptr;
  std::ofstream out_;
};

// ferry.test.FlakyTransform throws api::retriable_error the first `failures` times it sees a
// record whose Kafka offset is a multiple of `every` (per topic, partition and offset; a source
// record counts by its value), then passes it unchanged: errors.retry.* tests.
class flaky_transform final : public transforms::transformation {
 public:
  explicit flaky_transform(const transforms::plugin_config& c)
      : failures_(c.values().get_long("failures")), every_(c.values().get_long("every")) {
    if (every_ < 1) c.fail("every", std::to_string(every_), "must be at least 1");
  }
  bool apply(transforms::connect_record& r) override {
    const auto offset = r.kafka_offset.value_or(0);
    if (offset % every_ != 0) return true;
    auto& seen = seen_[{r.topic, r.partition.value_or(-1),
                        r.kafka_offset ? std::to_string(offset) : r.value.dump()}];
    if (seen < failures_) {
      ++seen;
      throw api::retriable_error("flaky transform: attempt " + std::to_string(seen) + " of " +
                                 std::to_string(failures_) + " failing on purpose at offset " +
                                 std::to_string(offset));
    }
    return true;
  }

 private:
  std::int64_t failures_;
  std::int64_t every_;
  std::map<std::tuple<std::string, std::int32_t, std::string>, std::int64_t> seen_;
};

void register_test_transforms() {
  transforms::plugin_info info;
  info.class_name = "ferry.test.FlakyTransform";
  info.kind = transforms::plugin_kind::transformation;
  info.doc = "Fails each chosen record with a retriable error a number of times (tests only).";
  info.config.define({.name = "failures",
                      .type = api::config_type::long_,
                      .default_value = "2",
                      .doc = "Retriable failures per record before it passes."});
  info.config.define({.name = "every",
                      .type = api::config_type::long_,
                      .default_value = "1",
                      .doc = "Only records whose offset is a multiple of this fail."});
  info.make_transformation = [](const transforms::plugin_config& c) {
    return std::make_unique<flaky_transform>(c);
  };
  transforms::register_plugin(std::move(info));
}

}  // namespace

void register_test_connectors(api::plugin_registry& registry) {
  register_test_transforms();
  registry.add({.class_name = "ferry.test.FileSinkConnector",
                .aliases = {},
                .type = api::connector_type::sink,
                .version = "test",
                .config =
                    [] {
                      api::config_def d;
                      d.define({.name = "file", .default_value = std::nullopt});
                      d.define({.name = "resume.from", .default_value = ""});
                      return d;
                    },
                .make_connector = [] { return std::make_unique<file_sink_connector>(); },
                .make_source_task = nullptr,
                .make_sink_task = [] { return std::make_unique<file_sink_task>(); }});
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
