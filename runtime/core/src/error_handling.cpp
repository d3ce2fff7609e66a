#include "ferry/core/error_handling.hpp"

#include <algorithm>
#include <cstdint>
#include <thread>

#include "ferry/api/errors.hpp"
#include "ferry/clients/topic_admin.hpp"
#include "ferry/core/connector_config.hpp"
#include "ferry/core/log.hpp"

namespace ferry::core {

namespace {

constexpr const char* k_log = "errors";

// Kafka's exception classes, for the dead letter headers a Java consumer may match on.
const char* exception_class(const std::exception& e) {
  if (dynamic_cast<const api::data_error*>(&e)) {
    return "org.apache.kafka.connect.errors.DataException";
  }
  if (dynamic_cast<const api::config_error*>(&e)) {
    return "org.apache.kafka.common.config.ConfigException";
  }
  if (dynamic_cast<const api::retriable_error*>(&e)) {
    return "org.apache.kafka.connect.errors.RetriableException";
  }
  return "org.apache.kafka.connect.errors.ConnectException";
}

std::string describe(const errant_record& r, bool with_messages) {
  std::string out = "{topic='" + std::string(r.topic) + "'";
  if (r.partition >= 0) out += ", partition=" + std::to_string(r.partition);
  if (r.offset >= 0) out += ", offset=" + std::to_string(r.offset);
  if (r.timestamp_ms >= 0) out += ", timestamp=" + std::to_string(r.timestamp_ms);
  if (with_messages) {
    out += ", key=" + (r.key ? std::string(*r.key) : std::string("null"));
    out += ", value=" + (r.value ? std::string(*r.value) : std::string("null"));
  }
  return out + "}";
}

void add_header(rd_kafka_headers_t* h, const char* name, const std::string& value) {
  rd_kafka_header_add(h, name, -1, value.data(), static_cast<ssize_t>(value.size()));
}

// splitmix64: enough to spread the retry waits of several tasks apart.
std::uint64_t next_random(std::uint64_t& state) {
  std::uint64_t z = (state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

}  // namespace

std::chrono::milliseconds retry_delay(int retry, std::chrono::milliseconds delay_max,
                                      std::chrono::milliseconds until_deadline,
                                      std::uint64_t random) {
  using std::chrono::milliseconds;
  // 300 ms << (retry - 1), without overflowing: past 2^20 times the minimum it is over any cap.
  const int shift = std::clamp(retry - 1, 0, 20);
  auto delay = milliseconds(k_retry_delay_min.count() << shift);
  if (delay > delay_max) {
    delay = delay_max.count() > 0 ? milliseconds(static_cast<std::int64_t>(
                                        random % static_cast<std::uint64_t>(delay_max.count())))
                                  : milliseconds(0);
  }
  return std::clamp(delay, milliseconds(0), std::max(until_deadline, milliseconds(0)));
}

bool wait_between_retries(std::chrono::milliseconds d, const retry_wait_hooks& hooks) {
  using std::chrono::milliseconds;
  constexpr milliseconds slice(100);
  bool held = false;
  auto left = d;
  for (;;) {
    if (hooks.stopping()) return false;
    const bool paused = hooks.paused();
    if (paused != held) {
      held = paused;
      hooks.report_pause(paused);
    }
    if (!paused && left.count() <= 0) return true;
    const auto step = paused ? slice : std::min(left, slice);
    const auto began = std::chrono::steady_clock::now();
    hooks.sleep(step);
    if (!paused) {
      left -= std::chrono::duration_cast<milliseconds>(std::chrono::steady_clock::now() - began);
    }
  }
}

const char* stage_name(error_stage s) {
  switch (s) {
    case error_stage::key_converter:
      return "KEY_CONVERTER";
    case error_stage::value_converter:
      return "VALUE_CONVERTER";
    case error_stage::header_converter:
      return "HEADER_CONVERTER";
    case error_stage::transformation:
      return "TRANSFORMATION";
    case error_stage::kafka_produce:
      return "KAFKA_PRODUCE";
  }
  return "UNKNOWN";
}

void error_policy::define_keys(api::config_def& def, bool sink) {
  const std::string errors = "Error Handling";
  def.define({.name = "errors.retry.timeout",
              .type = api::config_type::long_,
              .default_value = "0",
              .importance = api::importance_level::medium,
              .doc = "How long (ms) an operation of a conversion or transformation stage that "
                     "failed with a retriable error is retried, with exponential backoff from "
                     "300 ms; 0 is no retry, -1 is forever. Then the error goes to "
                     "errors.tolerance. Other errors are never retried.",
              .group = errors,
              .validate = api::at_least(-1)});
  def.define({.name = "errors.retry.delay.max.ms",
              .type = api::config_type::long_,
              .default_value = "60000",
              .importance = api::importance_level::medium,
              .doc = "Longest wait between retries: a longer backoff becomes a random wait below "
                     "this.",
              .group = errors,
              .validate = api::at_least(1)});
  def.define({.name = "errors.tolerance",
              .type = api::config_type::string,
              .default_value = "none",
              .importance = api::importance_level::medium,
              .doc = "none: a record that fails conversion fails the task. all: it is skipped "
                     "(logged and sent to the dead letter queue when configured).",
              .group = errors,
              .validate = api::one_of({"none", "all"})});
  def.define({.name = "errors.log.enable",
              .type = api::config_type::boolean,
              .default_value = "false",
              .importance = api::importance_level::medium,
              .doc = "Log every tolerated error with its stage and record coordinates.",
              .group = errors});
  def.define({.name = "errors.log.include.messages",
              .type = api::config_type::boolean,
              .default_value = "false",
              .importance = api::importance_level::medium,
              .doc = "Include the record's key and value in those log lines.",
              .group = errors});
  if (sink) {
    def.define({.name = "errors.deadletterqueue.topic.name",
                .type = api::config_type::string,
                .default_value = "",
                .importance = api::importance_level::medium,
                .doc = "Topic that receives the records skipped under errors.tolerance=all, as "
                       "they were consumed.",
                .group = errors});
    def.define({.name = "errors.deadletterqueue.topic.replication.factor",
                .type = api::config_type::int_,
                .default_value = "3",
                .importance = api::importance_level::medium,
                .doc = "Replication factor of the dead letter queue topic when it is created.",
                .group = errors,
                .validate = api::at_least(-1)});
    def.define({.name = "errors.deadletterqueue.context.headers.enable",
                .type = api::config_type::boolean,
                .default_value = "false",
                .importance = api::importance_level::medium,
                .doc = "Add __connect.errors.* headers saying where and why the record failed.",
                .group = errors});
  }
}

error_policy error_policy::from(const api::config_map& config) {
  static const api::config_def def = [] {
    api::config_def d;
    define_keys(d, true);
    return d;
  }();
  auto c = parse_checked(def, config);
  error_policy p;
  auto tolerance = c.get_string("errors.tolerance");  // none or all, in any case (validated)
  p.tolerate_all = tolerance[0] == 'a' || tolerance[0] == 'A';
  p.retry_timeout = std::chrono::milliseconds(c.get_long("errors.retry.timeout"));
  p.retry_delay_max = std::chrono::milliseconds(c.get_long("errors.retry.delay.max.ms"));
  p.log = c.get_bool("errors.log.enable");
  p.log_include_messages = c.get_bool("errors.log.include.messages");
  p.dlq_topic = api::trim(c.get_string("errors.deadletterqueue.topic.name"));
  p.dlq_replication_factor = c.get_int("errors.deadletterqueue.topic.replication.factor");
  p.dlq_context_headers = c.get_bool("errors.deadletterqueue.context.headers.enable");
  return p;
}

error_handler::error_handler(error_policy policy, std::string connector, int task,
                             clients::client_config producer_config, clients::client_config admin,
                             task_metrics& counters)
    : policy_(std::move(policy)),
      connector_(std::move(connector)),
      task_(task),
      producer_config_(std::move(producer_config)),
      admin_(std::move(admin)),
      counters_(counters),
      wait_([](std::chrono::milliseconds d) {
        std::this_thread::sleep_for(d);
        return true;
      }),
      random_state_(
          static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count()) ^
          reinterpret_cast<std::uintptr_t>(this)) {}

error_handler::~error_handler() {
  if (dlq_) rd_kafka_flush(dlq_.get(), 5000);
}

void error_handler::handle(error_stage stage, std::string_view cls, const errant_record& record,
                           const std::exception& error) {
  counters_.record_errors.fetch_add(1, std::memory_order_relaxed);
  const char* what = record.offset >= 0 ? "consumed record" : "source record";
  if (!policy_.tolerate_all) {
    throw api::connect_error("Tolerance exceeded in error handler: stage " +
                             std::string(stage_name(stage)) + " with class '" + std::string(cls) +
                             "' failed on the " + what + " " + describe(record, false) + ": " +
                             exception_class(error) + ": " + error.what());
  }
  if (policy_.log) {
    log::error(k_log, "Error encountered in task ", connector_, "-", task_, ". Executing stage '",
               stage_name(stage), "' with class '", cls, "', where ", what, " is ",
               describe(record, policy_.log_include_messages), ": ", exception_class(error), ": ",
               error.what());
  }
  if (!policy_.dlq_topic.empty()) send_to_dead_letter_queue(stage, cls, record, error);
  counters_.records_skipped.fetch_add(1, std::memory_order_relaxed);
}

void error_handler::backoff(error_stage stage, std::chrono::steady_clock::time_point start,
                            int retry, const api::retriable_error& error) {
  using std::chrono::milliseconds;
  const bool forever = policy_.retry_timeout.count() < 0;
  const auto until_deadline =
      forever ? milliseconds::max()
              : std::chrono::duration_cast<milliseconds>(start + policy_.retry_timeout -
                                                         std::chrono::steady_clock::now());
  if (until_deadline.count() <= 0) {
    log::debug(k_log, "Task ", connector_, "-", task_, ": stage ", stage_name(stage),
               " still fails after ", retry - 1,
               " retries within errors.retry.timeout=", policy_.retry_timeout.count(),
               " ms: ", error.what());
    throw;  // the retriable error being handled, for errors.tolerance
  }
  auto delay =
      retry_delay(retry, policy_.retry_delay_max, until_deadline, next_random(random_state_));
  log::debug(k_log, "Task ", connector_, "-", task_, ": stage ", stage_name(stage),
             " failed with a retriable error, retry ", retry, " in ", delay.count(),
             " ms: ", error.what());
  if (!wait_(delay)) {
    throw retry_interrupted("The task stopped while stage " + std::string(stage_name(stage)) +
                            " was being retried: " + error.what());
  }
  counters_.retries.fetch_add(1, std::memory_order_relaxed);
}

void error_handler::send_to_dead_letter_queue(error_stage stage, std::string_view cls,
                                              const errant_record& record,
                                              const std::exception& error) {
  if (!dlq_) {
    auto admin = admin_;
    clients::ensure_topic(admin,
                          {.name = policy_.dlq_topic,
                           .partitions = 1,
                           .replication_factor = policy_.dlq_replication_factor,
                           .configs = {}},
                          std::chrono::seconds(30), [](const std::string& warning) {
                            log::warn(k_log, "Dead letter queue topic: ", warning);
                          });
    auto config = producer_config_;
    config["acks"] = "all";
    config.try_emplace("enable.idempotence", "true");
    config["client.id"] = "connector-dlq-producer-" + connector_ + "-" + std::to_string(task_);
    std::vector<std::string> ignored;
    auto conf = clients::make_kafka_conf(config, &ignored);
    rd_kafka_conf_set_dr_msg_cb(conf.get(), &error_handler::on_delivery);
    rd_kafka_conf_set_opaque(conf.get(), this);
    dlq_ = clients::make_producer(std::move(conf));
  }
  rd_kafka_headers_t* headers =
      record.headers ? rd_kafka_headers_copy(record.headers) : rd_kafka_headers_new(10);
  if (policy_.dlq_context_headers) {
    add_header(headers, "__connect.errors.topic", std::string(record.topic));
    add_header(headers, "__connect.errors.partition", std::to_string(record.partition));
    add_header(headers, "__connect.errors.offset", std::to_string(record.offset));
    add_header(headers, "__connect.errors.connector.name", connector_);
    add_header(headers, "__connect.errors.task.id", std::to_string(task_));
    add_header(headers, "__connect.errors.stage", stage_name(stage));
    add_header(headers, "__connect.errors.class.name", std::string(cls));
    add_header(headers, "__connect.errors.exception.class.name", exception_class(error));
    add_header(headers, "__connect.errors.exception.message", error.what());
    add_header(headers, "__connect.errors.exception.stacktrace",
               std::string(exception_class(error)) + ": " + error.what());
  }
  const char* key = record.key ? record.key->data() : nullptr;
  std::size_t key_len = record.key ? record.key->size() : 0;
  char* value = record.value ? const_cast<char*>(record.value->data()) : nullptr;
  std::size_t value_len = record.value ? record.value->size() : 0;
  for (;;) {
    auto err = rd_kafka_producev(dlq_.get(), RD_KAFKA_V_TOPIC(policy_.dlq_topic.c_str()),
                                 RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                 RD_KAFKA_V_KEY(key, key_len), RD_KAFKA_V_VALUE(value, value_len),
                                 RD_KAFKA_V_HEADERS(headers), RD_KAFKA_V_END);
    if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
      rd_kafka_poll(dlq_.get(), 50);
      continue;
    }
    if (err) {
      rd_kafka_headers_destroy(headers);
      throw api::connect_error("Cannot send a record to the dead letter queue " +
                               policy_.dlq_topic + ": " + rd_kafka_err2str(err));
    }
    break;
  }
  rd_kafka_poll(dlq_.get(), 0);
}

void error_handler::on_delivery(rd_kafka_t*, const rd_kafka_message_t* msg, void* opaque) {
  auto* self = static_cast<error_handler*>(opaque);
  if (msg->err) {
    self->counters_.dlq_produce_failures.fetch_add(1, std::memory_order_relaxed);
    if (self->dlq_error_.empty()) {
      self->dlq_error_ = "Kafka refused a record for the dead letter queue " +
                         self->policy_.dlq_topic + ": " + rd_kafka_err2str(msg->err);
    }
    return;
  }
  self->counters_.dlq_produce_requests.fetch_add(1, std::memory_order_relaxed);
}

void error_handler::flush(std::chrono::milliseconds timeout) {
  if (!dlq_) return;
  auto err = rd_kafka_flush(dlq_.get(), static_cast<int>(timeout.count()));
  if (!dlq_error_.empty()) throw api::connect_error(dlq_error_);
  if (err) {
    throw api::connect_error("The dead letter queue " + policy_.dlq_topic +
                             " did not acknowledge its records within " +
                             std::to_string(timeout.count()) + " ms");
  }
}

}  // namespace ferry::core
