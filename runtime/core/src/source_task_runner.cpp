#include "ferry/core/source_task_runner.hpp"

#include <librdkafka/rdkafka.h>

#include <algorithm>
#include <optional>
#include <unordered_set>
#include <utility>

#include "dev_broker_topics.hpp"
#include "ferry/api/errors.hpp"
#include "ferry/clients/kafka_client.hpp"
#include "ferry/clients/topic_admin.hpp"
#include "ferry/core/error_handling.hpp"
#include "ferry/core/log.hpp"
#include "ferry/core/source_connector_config.hpp"
#include "ferry/core/submitted_records.hpp"
#include "ferry/storage/kafka_stores.hpp"
#include "source_transaction.hpp"

namespace ferry::core {

namespace {

constexpr const char* k_log = "source";

using clock = std::chrono::steady_clock;

// State shared with librdkafka's delivery-report callback, which runs on this task's thread
// inside rd_kafka_poll()/rd_kafka_flush().
struct delivery_state {
  submitted_records* submitted = nullptr;
  error_handler* errors = nullptr;
  api::source_task* task = nullptr;
  task_metrics* metrics = nullptr;
  // Exactly-once: acknowledged records wait here for their transaction to commit before the
  // task's commit_record() sees them; a refused record is never tolerated (its transaction must
  // abort).
  source_transaction* txn = nullptr;
  std::vector<api::source_record> uncommitted;
  // Set once a transaction was aborted at a stop: what is still in flight belongs to it, so
  // nothing more is acknowledged or committed (its offsets must not reach a later transaction).
  bool discarding = false;
  std::string first_error;
  std::size_t delivered = 0;
};

void on_delivery(rd_kafka_t*, const rd_kafka_message_t* msg, void* opaque) {
  auto* state = static_cast<delivery_state*>(opaque);
  auto* entry = static_cast<submitted_records::entry*>(msg->_private);
  if (state->discarding) return;
  if (!entry) {  // a source offset written inside the transaction
    if (msg->err && state->first_error.empty()) {
      state->first_error =
          state->txn->describe("Kafka refused a source offset record", rd_kafka_err2str(msg->err));
    }
    return;
  }
  if (msg->err && state->txn) {
    if (state->first_error.empty()) {
      state->first_error = state->txn->describe(
          "Kafka refused a record for topic " + std::string(rd_kafka_topic_name(msg->rkt)) +
              " (in exactly-once mode errors.tolerance does not cover it)",
          rd_kafka_err2str(msg->err));
    }
    return;
  }
  if (msg->err && state->errors->policy().tolerate_all) {
    // errors.tolerance=all covers what Kafka refused, as in Kafka Connect: log it, count it,
    // and let its offset pass.
    try {
      auto* payload = static_cast<const char*>(msg->payload);
      auto* key = static_cast<const char*>(msg->key);
      state->errors->handle(
          error_stage::kafka_produce, "producer",
          {.topic = rd_kafka_topic_name(msg->rkt),
           .partition = msg->partition,
           .key = key ? std::optional<std::string_view>(std::string_view(key, msg->key_len))
                      : std::nullopt,
           .value = payload ? std::optional<std::string_view>(std::string_view(payload, msg->len))
                            : std::nullopt},
          api::connect_error(rd_kafka_err2str(msg->err)));
    } catch (const std::exception& e) {
      if (state->first_error.empty()) state->first_error = e.what();
      return;
    }
  } else if (msg->err) {
    if (state->first_error.empty()) {
      state->first_error = "Kafka refused a record for topic " +
                           std::string(rd_kafka_topic_name(msg->rkt)) + ": " +
                           rd_kafka_err2str(msg->err);
    }
    return;
  }
  ++state->delivered;
  state->metrics->records_written.fetch_add(1, std::memory_order_relaxed);
  if (state->txn) {
    state->submitted->ack(entry, [state](api::source_record& record) {
      auto offset = record.source_offset;
      state->uncommitted.push_back(std::move(record));
      record.source_offset = std::move(offset);
    });
    return;
  }
  state->submitted->ack(entry, [state](api::source_record& record) {
    try {
      state->task->commit_record(record);
    } catch (const std::exception& e) {
      if (state->first_error.empty()) {
        state->first_error = std::string("commit_record: ") + e.what();
      }
    }
  });
}

// Offsets for the task: from the connector's own offsets topic first when it has one
// (offsets.storage.topic), then from the worker's store, as Kafka Connect reads them.
// Also offers the task to write values itself in the value converter's form, when that
// converter has such a form and no transformation needs the values as data.
class task_context final : public api::source_task_context {
 public:
  task_context(storage::offset_store& store, std::string connector, storage::offset_store* own,
               api::value_form values)
      : store_(store), own_(own), connector_(std::move(connector)), values_(values) {}
  std::optional<json> offset(const json& partition) override {
    if (own_) {
      if (auto o = own_->get(connector_, partition)) return o;
    }
    return store_.get(connector_, partition);
  }
  api::value_form values() const override { return values_; }

 private:
  storage::offset_store& store_;
  storage::offset_store* own_;
  std::string connector_;
  api::value_form values_;
};

// Aborts a transaction still open when run() leaves through an exception. Delivery reports
// that librdkafka serves while aborting are ignored: the objects they would update may be gone.
struct abort_on_exit {
  source_transaction* txn;
  delivery_state* delivery;
  ~abort_on_exit() {
    if (!txn) return;
    delivery->discarding = true;
    txn->abort(std::chrono::milliseconds(5000));
  }
};

// librdkafka's topic handles, one per topic this task produced to: naming the topic in every
// produce call makes librdkafka look it up under a lock each time. Destroyed before the producer.
class topic_handles {
 public:
  explicit topic_handles(rd_kafka_t* producer) : producer_(producer) {}
  topic_handles(const topic_handles&) = delete;
  topic_handles& operator=(const topic_handles&) = delete;
  ~topic_handles() {
    for (auto& [name, handle] : handles_) rd_kafka_topic_destroy(handle);
  }
  rd_kafka_topic_t* get(const std::string& topic) {
    if (last_ && topic == last_name_) return last_;
    auto it = handles_.find(topic);
    if (it == handles_.end()) {
      auto* handle = rd_kafka_topic_new(producer_, topic.c_str(), nullptr);
      if (!handle) {
        throw api::connect_error("Cannot produce to topic " + topic + ": " +
                                 rd_kafka_err2str(rd_kafka_last_error()));
      }
      it = handles_.emplace(topic, handle).first;
    }
    last_name_ = topic;
    return last_ = it->second;
  }

 private:
  rd_kafka_t* producer_;
  std::unordered_map<std::string, rd_kafka_topic_t*> handles_;
  std::string last_name_;
  rd_kafka_topic_t* last_ = nullptr;
};

}  // namespace

std::unique_ptr<storage::kafka_offset_store> source_task_runner::open_connector_offsets(
    const std::string& topic) {
  const auto& d = env_.worker->distributed;
  if (topic == d.offset_topic) return nullptr;
  clients::topic_spec spec{.name = topic,
                           .partitions = d.offset_partitions,
                           .replication_factor = d.offset_replication,
                           .configs = {{"cleanup.policy", "compact"}}};
  auto warn = [](const std::string& m) { log::warn(k_log, m); };
  auto described =
      clients::ensure_topic(env_.worker->client_config(connector_config_, client_kind::admin), spec,
                            std::chrono::milliseconds(30000), warn);
  if (!described.exists) {
    throw api::config_error("offsets.storage.topic: the topic " + topic +
                            " does not exist and could not be created; create it (compacted) "
                            "and restart the task");
  }
  storage::kafka_store_options o;
  o.topic = topic;
  o.producer = env_.worker->internal_config();
  o.consumer = env_.worker->internal_config();
  o.warn = warn;
  auto store = std::make_unique<storage::kafka_offset_store>(std::move(o));
  store->start(std::chrono::milliseconds(60000));
  return store;
}

void source_task_runner::run() {
  auto key_converter = make_task_converter(true);
  auto value_converter = make_task_converter(false);

  delivery_state delivery;
  const auto eos = exactly_once_settings::from(connector_config_, *env_.worker, connector_, task_);
  const auto creation = topic_creation_rules::from(connector_config_, env_.worker->topic_creation);
  auto config = env_.worker->client_config(connector_config_, client_kind::producer);
  // Kafka Connect's producer defaults, made safe for ordering by idempotence instead of one
  // request in flight; the worker's producer.* and the connector's producer.override.* win.
  config.try_emplace("acks", "all");
  config.try_emplace("enable.idempotence", "true");
  config.try_emplace("linger.ms", "5");
  // Records wait in librdkafka's queue and in submitted_records until acknowledged; librdkafka's
  // default bound (100,000 records) let a fast source hold ~180 MB. 20,000 is ~0.1 s of
  // records at full speed and keeps the worker under 100 MB.
  config.try_emplace("queue.buffering.max.messages", "20000");
  if (eos.enabled) {
    // A transaction must end within transaction.timeout.ms, so records cannot wait forever;
    // librdkafka then bounds message.timeout.ms by it. A record that times out fails the task
    // and its transaction aborts: nothing is lost, the task resumes from committed offsets.
    config["transactional.id"] = eos.transactional_id;
    config["enable.idempotence"] = "true";
    config["acks"] = "all";
  } else {
    config.try_emplace("message.timeout.ms", "0");  // never give up on a record: no silent loss
  }
  config["client.id"] = "connector-producer-" + connector_ + "-" + std::to_string(task_);
  auto conf = make_client_conf(config, "Producer");
  rd_kafka_conf_set_dr_msg_cb(conf.get(), on_delivery);
  rd_kafka_conf_set_opaque(conf.get(), &delivery);
  auto producer = clients::make_producer(std::move(conf));
  topic_handles topics(producer.get());

  // Exactly-once: fence older instances of this task first, then read the offsets topic to its
  // end (committed records only: the offset store reads with isolation.level=read_committed),
  // so the task starts from what the last instance committed.
  std::unique_ptr<source_transaction> txn;
  std::unique_ptr<storage::kafka_offset_store> own_offsets;
  if (eos.enabled) {
    txn = std::make_unique<source_transaction>(producer.get(), eos);
    txn->init([this] { return stop_requested(); }, std::chrono::milliseconds(60000));
    delivery.txn = txn.get();
    own_offsets = open_connector_offsets(eos.offsets_topic);
    if (auto* k = dynamic_cast<storage::kafka_offset_store*>(env_.offsets.get())) {
      k->read_to_end(std::chrono::milliseconds(60000));
    }
  }
  abort_on_exit abort_guard{txn.get(), &delivery};

  auto task = plugin_.make_source_task();
  // A task that fails is stopped too, so it can release what it holds (connections).
  struct stop_on_failure {
    api::source_task* task;
    ~stop_on_failure() {
      if (!task) return;
      try {
        task->stop();
      } catch (const std::exception& e) {
        log::warn(k_log, "Task stop after failure failed: ", e.what());
      }
    }
  } guard{task.get()};
  auto chain = transforms::transform_chain::from_config(connector_config_);
  const auto value_form = chain.empty() ? value_converter->writes() : api::value_form::data;
  task_context context(*env_.offsets, connector_, own_offsets.get(), value_form);
  task->start(task_config_, context);
  report(target_state() == storage::target_state::paused ? storage::connector_state::paused
                                                         : storage::connector_state::running);
  log::info(k_log, "Source task started");

  submitted_records submitted;
  auto policy = error_policy::from(connector_config_);
  policy.dlq_topic.clear();  // a sink-only setting, as in Kafka Connect
  error_handler errors(std::move(policy), connector_, task_, {}, {}, metrics());
  // Deliveries go on while a record waits for its retry; a stop request ends the wait, a pause
  // holds the retries.
  errors.set_wait(retry_wait([&producer](std::chrono::milliseconds d) {
    rd_kafka_poll(producer.get(), static_cast<int>(d.count()));
  }));
  delivery.submitted = &submitted;
  delivery.errors = &errors;
  delivery.metrics = &metrics();
  delivery.task = task.get();
  auto commit_offsets = [&] {
    auto offsets = submitted.take_committable();
    if (!offsets.empty()) {
      scoped_timer timed(metrics().offset_commit_time_us);
      try {
        env_.offsets->put(connector_, offsets);
        metrics().offset_commits.fetch_add(1, std::memory_order_relaxed);
      } catch (...) {
        metrics().offset_commit_failures.fetch_add(1, std::memory_order_relaxed);
        throw;
      }
    }
    task->commit();
  };
  auto check_delivery = [&] {
    if (!delivery.first_error.empty()) throw api::connect_error(delivery.first_error);
  };
  // Exactly-once: every record of the transaction acknowledged, then their offsets written in
  // it, then the commit; commit_record() and commit() only after it. At a stop (`stopping`, or
  // a stop request while waiting) the wait for acknowledgements is bounded by
  // offset.flush.timeout.ms and the transaction aborted past it.
  auto commit_transaction = [&](bool stopping) {
    if (delivery.discarding) return;
    auto deadline = clock::now() + env_.worker->offset_flush_timeout;
    while (rd_kafka_flush(producer.get(), 1000) == RD_KAFKA_RESP_ERR__TIMED_OUT) {
      check_delivery();
      if ((stopping || stop_requested()) && clock::now() >= deadline) {
        log::warn(k_log, "Not every record was acknowledged before shutdown (",
                  submitted.outstanding(),
                  " outstanding); the transaction is aborted and they "
                  "will be read again on restart");
        delivery.discarding = true;
        txn->abort(env_.worker->offset_flush_timeout);
        delivery.uncommitted.clear();
        return;
      }
    }
    check_delivery();
    auto offsets = submitted.take_committable();
    if (!txn->open() && offsets.empty()) return;
    txn->begin_if_needed();  // offsets of filtered records alone still need a transaction
    {
      scoped_timer timed(metrics().offset_commit_time_us);
      try {
        txn->commit(connector_, offsets,
                    std::max(env_.worker->offset_flush_timeout, std::chrono::milliseconds(30000)));
      } catch (...) {
        metrics().offset_commit_failures.fetch_add(1, std::memory_order_relaxed);
        throw;
      }
      metrics().offset_commits.fetch_add(1, std::memory_order_relaxed);
    }
    for (const auto& r : delivery.uncommitted) task->commit_record(r);
    delivery.uncommitted.clear();
    task->commit();
  };
  // Creates a topic before its first record when the connector's topic.creation.* says so;
  // once per topic and task, as Kafka Connect's TopicCreation caches what it saw.
  std::unordered_set<std::string> seen_topics;
  auto create_topic = [&](const std::string& topic) {
    if (!creation.enabled() || !seen_topics.insert(topic).second) return;
    const auto* group = creation.group_for(topic);
    auto spec = *creation.spec_for(topic);
    const std::string prefix = "Topic creation (group '" + group->name + "'): ";
    std::vector<std::string> warnings;  // said unless the dev broker's channel creates it
    auto d = clients::ensure_topic(
        env_.worker->client_config(connector_config_, client_kind::admin), spec,
        std::chrono::milliseconds(30000), [&](const std::string& m) { warnings.push_back(m); });
    const auto& control = env_.worker->dev_broker_control;
    if (!d.exists && !control.empty() && spec.partitions > 0) {
      if (auto problem = create_topic_on_dev_broker(control, spec); problem.empty()) {
        log::info(k_log, prefix, "created topic '", topic, "' with ", spec.partitions,
                  " partition(s) through the development broker's control channel ",
                  "(dev.broker.control)",
                  spec.configs.empty() ? "" : "; its topic configs cannot be applied there");
        return;
      } else {
        warnings.push_back("the development broker's control channel could not create it: " +
                           problem);
      }
    }
    if (d.exists) {  // left as it is (what ensure_topic could not check does not matter here)
      log::info(k_log, prefix, "topic '", topic, "' has ", d.partitions, " partition(s)");
      return;
    }
    for (const auto& w : warnings) log::warn(k_log, prefix, w);
  };

  auto next_commit = clock::now() + env_.worker->offset_flush_interval;
  bool paused = target_state() == storage::target_state::paused;
  auto poll_backoff = std::chrono::milliseconds(0);
  bool holding = false;
  while (!stop_requested()) {
    bool want_pause = target_state() == storage::target_state::paused;
    if (want_pause != paused) {
      paused = want_pause;
      report(paused ? storage::connector_state::paused : storage::connector_state::running);
    }
    if (held() != holding) {
      holding = !holding;
      log::info(k_log, holding ? "Source task held for a rebalance"
                               : "Source task resumed after a rebalance");
    }
    if (paused || holding) {
      if (txn && txn->open()) commit_transaction(false);
      rd_kafka_poll(producer.get(), 100);
    } else {
      std::vector<api::source_record> records;
      try {
        auto began = std::chrono::steady_clock::now();
        records = task->poll();
        if (!records.empty()) {
          auto& m = metrics();
          m.records_read.fetch_add(records.size(), std::memory_order_relaxed);
          m.batches.fetch_add(1, std::memory_order_relaxed);
          m.batch_time_us.fetch_add(
              static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                                             std::chrono::steady_clock::now() - began)
                                             .count()),
              std::memory_order_relaxed);
        }
        if (poll_backoff.count() > 0) {
          log::info(k_log, "Reading from the source works again");
          report(storage::connector_state::running);  // the trace goes
          poll_backoff = std::chrono::milliseconds(0);
        }
      } catch (const api::retriable_error& e) {
        // The source is unreachable or busy: keep delivering and committing what is in flight,
        // retry the read with backoff, never fail the task for it.
        poll_backoff = std::clamp(poll_backoff * 2, std::chrono::milliseconds(100),
                                  std::chrono::milliseconds(5000));
        log::warn(k_log, "Reading from the source failed, retrying in ", poll_backoff.count(),
                  " ms: ", e.what());
        if (poll_backoff.count() == 100) {  // the first failure in a row: say why in the status
          report(storage::connector_state::running,
                 std::string("Reading from the source is failing and is retried with backoff "
                             "(up to 5 s). Last error: ") +
                     e.what());
        }
        rd_kafka_poll(producer.get(), 0);
        pause_for(poll_backoff);
      }
      if (!records.empty()) refresh_topic_tracking();
      for (auto& r : records) {
        if (!chain.empty()) {
          auto c = transforms::take_record(r);
          bool keep = false;
          try {
            keep = run_chain(chain, c, errors, [&](std::string_view cls, const auto& e) {
              errors.handle(error_stage::transformation, cls,
                            {.topic = c.topic, .partition = c.partition.value_or(-1)}, e);
            });
          } catch (const retry_interrupted& e) {
            log::info(k_log, e.what(), "; the record is polled again when the task runs again");
            break;  // stopping: never produced nor acked, so its offset is not committed
          }
          if (!keep) {  // filtered out (or tolerated): its offset counts as delivered
            submitted.ack(submitted.submit(std::move(r)));
            continue;
          }
          transforms::put_record(std::move(c), r);
        }
        if (r.value_bytes && value_form == api::value_form::data) {
          throw api::connect_error(
              "The task handed over a value already written (value_bytes) though its context "
              "did not offer that: a bug in the connector");
        }
        std::optional<std::string> key, value;
        auto stage = error_stage::key_converter;
        try {
          key = errors.run_with_retry(stage, [&] {
            return key_converter->from_connect(r.topic, r.key, r.key_schema.get());
          });
          stage = error_stage::value_converter;
          if (r.value_bytes) {  // written by the task in the form its context offered
            value = std::move(r.value_bytes);
            r.value_bytes.reset();
          } else {
            value = errors.run_with_retry(stage, [&] {
              return value_converter->from_connect(r.topic, r.value, r.value_schema.get());
            });
          }
        } catch (const retry_interrupted& e) {
          log::info(k_log, e.what(), "; the record is polled again when the task runs again");
          break;
        } catch (const std::exception& e) {
          errors.handle(stage, converter_class(stage == error_stage::key_converter),
                        {.topic = r.topic, .partition = r.partition.value_or(-1)}, e);
          // Skipped: its offset counts as delivered, in order with the records around it.
          submitted.ack(submitted.submit(std::move(r)));
          continue;
        }
        rd_kafka_headers_t* headers = nullptr;
        if (!r.headers.empty()) {
          headers = rd_kafka_headers_new(r.headers.size());
          for (const auto& h : r.headers) {
            rd_kafka_header_add(headers, h.key.data(), static_cast<ssize_t>(h.key.size()),
                                h.value ? h.value->data() : nullptr,
                                h.value ? static_cast<ssize_t>(h.value->size()) : 0);
          }
        }
        std::string topic = r.topic;
        std::int32_t partition = r.partition.value_or(RD_KAFKA_PARTITION_UA);
        std::int64_t ts = r.timestamp_ms.value_or(0);
        rd_kafka_topic_t* topic_handle = nullptr;
        try {
          create_topic(topic);
          topic_handle = topics.get(topic);
          if (txn) txn->begin_if_needed();
        } catch (...) {
          if (headers) rd_kafka_headers_destroy(headers);
          throw;
        }
        auto* entry = submitted.submit(std::move(r));
        for (;;) {
          auto err = rd_kafka_producev(
              producer.get(), RD_KAFKA_V_RKT(topic_handle), RD_KAFKA_V_PARTITION(partition),
              RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
              RD_KAFKA_V_KEY((key ? key->data() : nullptr), (key ? key->size() : 0)),
              RD_KAFKA_V_VALUE((value ? const_cast<char*>(value->data()) : nullptr),
                               (value ? value->size() : 0)),
              RD_KAFKA_V_TIMESTAMP(ts), RD_KAFKA_V_HEADERS(headers), RD_KAFKA_V_OPAQUE(entry),
              RD_KAFKA_V_END);
          if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
            rd_kafka_poll(producer.get(), 50);  // back-pressure: wait for deliveries
            check_delivery();
            if (stop_requested()) {
              if (headers) rd_kafka_headers_destroy(headers);
              break;  // never produced, never acked: its offset is not committed
            }
            continue;
          }
          if (err) {
            if (headers) rd_kafka_headers_destroy(headers);
            throw api::connect_error("Cannot produce to topic " + topic + ": " +
                                     rd_kafka_err2str(err));
          }
          record_active_topic(topic);
          break;
        }
      }
      rd_kafka_poll(producer.get(), 0);
      if (txn && txn->open() &&
          (eos.boundary == transaction_boundary::poll ||
           clock::now() - txn->began() >= eos.interval)) {
        commit_transaction(false);
      }
    }
    check_delivery();
    if (!txn && clock::now() >= next_commit) {
      commit_offsets();
      next_commit = clock::now() + env_.worker->offset_flush_interval;
    }
  }

  // Graceful stop: deliver what was produced (bounded), commit what was acknowledged.
  guard.task = nullptr;
  task->stop();
  if (txn) {
    commit_transaction(true);
    check_delivery();
    log::info(k_log, "Source task stopped after delivering ", delivery.delivered,
              " records (exactly-once)");
    return;
  }
  auto err =
      rd_kafka_flush(producer.get(), static_cast<int>(env_.worker->offset_flush_timeout.count()));
  if (err) {
    log::warn(k_log, "Not every record was acknowledged before shutdown (", submitted.outstanding(),
              " outstanding); they will be re-read on restart");
  }
  commit_offsets();
  check_delivery();
  log::info(k_log, "Source task stopped after delivering ", delivery.delivered, " records");
}

}  // namespace ferry::core
