#include "ferry/core/sink_task_runner.hpp"

#include <algorithm>
#include <limits>
#include <optional>
#include <utility>

#include "ferry/api/errors.hpp"
#include "ferry/clients/kafka_client.hpp"
#include "ferry/core/log.hpp"
#include "ferry/transforms/chain.hpp"

namespace ferry::core {

namespace {

constexpr const char* k_log = "sink";
// Records per put() unless consumer.max.poll.records says otherwise: Kafka's default, enough
// to amortise a Redis round trip, few enough that four tasks' batches stay small (5000 cost a
// 4-task HSET sink ~15 MB of RSS and no CPU: bench/README.md).
constexpr int k_default_max_batch = 500;

using clock = std::chrono::steady_clock;

// librdkafka's list of these partitions (offsets unset) ...
clients::topic_partition_list partition_list(const std::vector<api::topic_partition>& tps) {
  clients::topic_partition_list list(
      rd_kafka_topic_partition_list_new(static_cast<int>(tps.size())));
  for (const auto& tp : tps)
    rd_kafka_topic_partition_list_add(list.get(), tp.topic.c_str(), tp.partition);
  return list;
}

// ... or of these partitions at these offsets.
clients::topic_partition_list partition_list(const api::offset_map& offsets) {
  clients::topic_partition_list list(
      rd_kafka_topic_partition_list_new(static_cast<int>(offsets.size())));
  for (const auto& [tp, off] : offsets) {
    rd_kafka_topic_partition_list_add(list.get(), tp.topic.c_str(), tp.partition)->offset = off;
  }
  return list;
}

}  // namespace

void sink_task_runner::on_rebalance(rd_kafka_t*, rd_kafka_resp_err_t err,
                                    rd_kafka_topic_partition_list_t* partitions, void* opaque) {
  static_cast<sink_task_runner*>(opaque)->handle_rebalance(err, partitions);
}

void sink_task_runner::handle_rebalance(rd_kafka_resp_err_t err,
                                        rd_kafka_topic_partition_list_t* partitions) {
  std::vector<api::topic_partition> tps;
  for (int i = 0; i < partitions->cnt; ++i) {
    tps.push_back({partitions->elems[i].topic, partitions->elems[i].partition});
  }
  if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
    // open() first: a sink that keeps its own offsets says where to start (offset()), and the
    // partitions are assigned at those offsets, before any record of them is fetched.
    assignment_ = tps;
    if (sink_) {
      opening_ = true;
      open_seeks_.clear();
      try {
        sink_->open(tps);
      } catch (...) {
        opening_ = false;
        throw;
      }
      opening_ = false;
      for (int i = 0; i < partitions->cnt; ++i) {
        auto& p = partitions->elems[i];
        auto seek = open_seeks_.find({p.topic, p.partition});
        if (seek == open_seeks_.end()) continue;
        p.offset = seek->second;
        current_[seek->first] = seek->second;
        log::info(k_log, "Resuming ", seek->first.topic, "-", seek->first.partition, " at offset ",
                  seek->second, " as the sink task asked");
      }
    }
    rd_kafka_assign(consumer_, partitions);
    // librdkafka keeps a partition's pause flag across revoke and assign: set it either way.
    if (paused_) {
      rd_kafka_pause_partitions(consumer_, partitions);
    } else {
      rd_kafka_resume_partitions(consumer_, partitions);
    }
    log::info(k_log, "Assigned ", tps.size(), " partition(s)");
  } else {
    // Revocation: make what was put durable and commit it before another member takes over.
    try {
      commit(true);
    } catch (const std::exception& e) {
      log::warn(k_log, "Commit on revocation failed: ", e.what());
    }
    if (sink_) sink_->close(tps);
    for (const auto& tp : tps) {
      current_.erase(tp);
      skipped_.erase(tp);
    }
    assignment_.clear();
    rd_kafka_assign(consumer_, nullptr);
    log::info(k_log, "Revoked ", tps.size(), " partition(s)");
  }
}

void sink_task_runner::offset(const api::offset_map& offsets) {
  if (opening_) {
    for (const auto& [tp, off] : offsets) open_seeks_[tp] = off;
    return;
  }
  auto list = partition_list(offsets);
  for (const auto& [tp, off] : offsets) current_[tp] = off;
  if (auto* error = rd_kafka_seek_partitions(consumer_, list.get(), 10000)) {
    auto text = std::string(rd_kafka_error_string(error));
    rd_kafka_error_destroy(error);
    throw api::connect_error("Cannot seek as the sink task asked: " + text);
  }
}

void sink_task_runner::refresh_lag() {
  std::map<api::topic_partition, std::int64_t> lag;
  if (!assignment_.empty()) {
    auto list = partition_list(assignment_);
    rd_kafka_position(consumer_, list.get());
    for (int i = 0; i < list->cnt; ++i) {
      const auto& p = list->elems[i];
      std::int64_t low = 0, high = 0;
      // Consuming: the high watermark librdkafka learnt from its last fetch (no request).
      // Paused: nothing is fetched, so ask the broker, briefly.
      auto err =
          paused_
              ? rd_kafka_query_watermark_offsets(consumer_, p.topic, p.partition, &low, &high, 200)
              : rd_kafka_get_watermark_offsets(consumer_, p.topic, p.partition, &low, &high);
      if (err || high < 0) continue;  // not known yet
      auto position = p.offset >= 0 ? p.offset : low;
      if (position < 0) continue;
      lag[{p.topic, p.partition}] = std::max<std::int64_t>(0, high - position);
    }
  }
  metrics().set_lag(std::move(lag));
}

void sink_task_runner::commit(bool sync) {
  commit_requested_ = false;
  if (current_.empty() || !sink_) return;
  // Offsets may pass skipped records only once the dead letter queue has them.
  if (errors_) errors_->flush(env_.worker->offset_flush_timeout);
  auto offsets = sink_->pre_commit(current_);
  if (offsets.empty()) return;
  auto list = partition_list(offsets);
  scoped_timer timed(metrics().offset_commit_time_us);
  auto err = rd_kafka_commit(consumer_, list.get(), sync ? 0 : 1);
  if (err && err != RD_KAFKA_RESP_ERR__NO_OFFSET) {
    metrics().offset_commit_failures.fetch_add(1, std::memory_order_relaxed);
    log::warn(k_log, "Offset commit failed: ", rd_kafka_err2str(err));
  } else {
    metrics().offset_commits.fetch_add(1, std::memory_order_relaxed);
  }
}

void sink_task_runner::set_paused(bool paused) {
  if (paused == paused_) return;
  paused_ = paused;
  auto list = partition_list(assignment_);
  if (paused) {
    rd_kafka_pause_partitions(consumer_, list.get());
  } else {
    rd_kafka_resume_partitions(consumer_, list.get());
  }
}

void sink_task_runner::run() {
  // The worker's consumer.* settings, then the connector's consumer.override.* (which may name
  // another group than connect-<name>, as in Kafka Connect).
  auto config = env_.worker->client_config(connector_config_, client_kind::consumer);
  config.try_emplace("group.id", "connect-" + connector_);
  config["enable.auto.commit"] = "false";
  config.try_emplace("auto.offset.reset", "earliest");
  config.try_emplace("enable.auto.offset.store", "false");
  config["client.id"] = "connector-consumer-" + connector_ + "-" + std::to_string(task_);
  max_batch_ = k_default_max_batch;
  if (auto it = config.find("max.poll.records"); it != config.end()) {
    auto n = api::parse_long(it->second);
    if (!n || *n < 1 || *n > std::numeric_limits<int>::max()) {
      throw api::config_error("Invalid value " + it->second +
                              " for consumer setting max.poll.records: expected an integer >= 1");
    }
    max_batch_ = static_cast<int>(*n);
    config.erase(it);
  }
  auto conf = make_client_conf(config, "Consumer");
  rd_kafka_conf_set_rebalance_cb(conf.get(), &sink_task_runner::on_rebalance);
  rd_kafka_conf_set_opaque(conf.get(), this);
  // Declared before the consumer so it outlives it: the consumer's rebalance callback calls it.
  std::unique_ptr<api::sink_task> task;
  auto consumer = clients::make_consumer(std::move(conf));
  consumer_ = consumer.get();
  assignment_.clear();  // a restarted run begins afresh
  current_.clear();
  skipped_.clear();
  commit_requested_ = false;
  rd_kafka_poll_set_consumer(consumer_);

  task = plugin_.make_sink_task();
  sink_ = task.get();
  try {
    task->start(task_config_, *this);
    consume(*task);
  } catch (...) {
    // Failing: leave the group (the revocation commits what Redis acknowledged) and stop the
    // task, then let task_runner report the failure.
    rd_kafka_consumer_close(consumer_);
    try {
      task->stop();
    } catch (const std::exception& e) {
      log::warn(k_log, "Task stop after failure failed: ", e.what());
    }
    sink_ = nullptr;
    throw;
  }

  // Graceful stop: commit what was written (a batch still being retried is not committed and
  // will be redelivered), then leave the group.
  try {
    commit(true);
  } catch (const std::exception& e) {
    log::warn(k_log, "Final commit failed: ", e.what());
  }
  // The task stops before the consumer leaves its group: from here on it writes nothing, so
  // the task's next owner can start at once (work_done()), while leaving the group may still
  // wait for the group's rebalance. The revocation that close() triggers finds nothing left.
  if (!assignment_.empty()) task->close(assignment_);
  sink_ = nullptr;
  current_.clear();
  task->stop();
  log::info(k_log, "Sink task stopped");
  work_done();
  rd_kafka_consumer_close(consumer_);
  consumer_ = nullptr;
}

void sink_task_runner::skip_errant(error_stage stage, std::string_view cls,
                                   const rd_kafka_message_t* msg, const rd_kafka_headers_t* headers,
                                   std::int64_t timestamp_ms, const std::exception& error) {
  auto bytes = [](const void* p, std::size_t n) -> std::optional<std::string_view> {
    if (!p) return std::nullopt;
    return std::string_view(static_cast<const char*>(p), n);
  };
  errant_record record{.topic = rd_kafka_topic_name(msg->rkt),
                       .partition = msg->partition,
                       .offset = msg->offset,
                       .timestamp_ms = timestamp_ms,
                       .key = bytes(msg->key, msg->key_len),
                       .value = bytes(msg->payload, msg->len),
                       .headers = headers};
  errors_->handle(stage, cls, record, error);
  mark_not_written(msg);
}

void sink_task_runner::mark_not_written(const rd_kafka_message_t* msg) {
  skipped_[{rd_kafka_topic_name(msg->rkt), msg->partition}] = msg->offset + 1;
}

void sink_task_runner::consume(api::sink_task& task) {
  auto key_converter = make_task_converter(true);
  auto value_converter = make_task_converter(false);
  auto policy = error_policy::from(connector_config_);
  // The dead letter queue's clients take the connector's producer and admin overrides; without
  // a queue they are never made, and those overrides are not looked at (as in Kafka Connect).
  const bool dlq = !policy.dlq_topic.empty();
  auto dlq_producer = dlq ? env_.worker->client_config(connector_config_, client_kind::producer)
                          : env_.worker->producer_config();
  auto dlq_admin = dlq ? env_.worker->client_config(connector_config_, client_kind::admin)
                       : env_.worker->admin_config();
  errors_ =
      std::make_unique<error_handler>(std::move(policy), connector_, task_, std::move(dlq_producer),
                                      std::move(dlq_admin), metrics());
  // A retry wait ends at a stop request; a pause holds the retries (partitions are not polled
  // meanwhile: the record being retried is mid-batch).
  errors_->set_wait(retry_wait([this](std::chrono::milliseconds d) { pause_for(d); }));
  auto chain = transforms::transform_chain::from_config(connector_config_);

  auto topics = api::split_list(task_config_.count("topics") ? task_config_.at("topics") : "");
  std::string regex = task_config_.count("topics.regex") ? task_config_.at("topics.regex") : "";
  clients::topic_partition_list subscription(rd_kafka_topic_partition_list_new(1));
  if (!regex.empty()) {
    rd_kafka_topic_partition_list_add(subscription.get(), ("^" + regex).c_str(),
                                      RD_KAFKA_PARTITION_UA);
  }
  for (const auto& t : topics) {
    rd_kafka_topic_partition_list_add(subscription.get(), t.c_str(), RD_KAFKA_PARTITION_UA);
  }
  if (auto err = rd_kafka_subscribe(consumer_, subscription.get())) {
    throw api::connect_error(std::string("Cannot subscribe: ") + rd_kafka_err2str(err));
  }
  paused_ = false;
  report(storage::connector_state::running);
  log::info(k_log, "Sink task started");

  std::vector<api::sink_record> batch;
  batch.reserve(static_cast<std::size_t>(max_batch_));
  auto next_commit = clock::now() + env_.worker->offset_flush_interval;
  auto next_lag = clock::now();
  auto backoff = std::chrono::milliseconds(100);
  bool retrying = false;  // `batch` holds records put() refused with a retriable error

  bool reported_pause = false;
  bool holding = false;
  while (!stop_requested()) {
    bool want_pause = target_state() == storage::target_state::paused;
    if (held() != holding) {
      holding = !holding;
      log::info(k_log,
                holding ? "Sink task held for a rebalance" : "Sink task resumed after a rebalance");
    }
    if (!retrying) {
      set_paused(want_pause || holding);
      if (want_pause != reported_pause) {
        reported_pause = want_pause;
        report(want_pause ? storage::connector_state::paused : storage::connector_state::running);
      }
    }
    if (!retrying) {
      refresh_topic_tracking();
      batch.clear();
      std::uint64_t read = 0;  // published once per batch: no atomic add per record
      for (int timeout = 100; static_cast<int>(batch.size()) < max_batch_; timeout = 0) {
        clients::kafka_message msg(rd_kafka_consumer_poll(consumer_, timeout));
        if (!msg) break;
        if (msg->err) {
          if (msg->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            log::warn(k_log, "Consumer error: ", rd_kafka_message_errstr(msg.get()));
          }
          continue;
        }
        ++read;
        api::sink_record r;
        r.topic = rd_kafka_topic_name(msg->rkt);
        record_active_topic(r.topic);
        r.partition = msg->partition;
        r.offset = msg->offset;
        rd_kafka_timestamp_type_t tstype;
        r.timestamp_ms = rd_kafka_message_timestamp(msg.get(), &tstype);
        rd_kafka_headers_t* hdrs = nullptr;
        bool has_headers = rd_kafka_message_headers(msg.get(), &hdrs) == RD_KAFKA_RESP_ERR_NO_ERROR;
        auto stage = error_stage::key_converter;
        try {
          auto k = errors_->run_with_retry(stage, [&] {
            return key_converter->to_connect(r.topic, static_cast<const char*>(msg->key),
                                             msg->key_len);
          });
          r.key = std::move(k.value);
          r.key_schema = std::move(k.schema);
          stage = error_stage::value_converter;
          auto v = errors_->run_with_retry(stage, [&] {
            return value_converter->to_connect(r.topic, static_cast<const char*>(msg->payload),
                                               msg->len);
          });
          r.value = std::move(v.value);
          r.value_schema = std::move(v.schema);
        } catch (const retry_interrupted& e) {
          log::info(k_log, e.what(), "; the record is read again when the task runs again");
          break;  // stopping: neither written nor skipped, its offset is not committed
        } catch (const std::exception& e) {
          skip_errant(stage, converter_class(stage == error_stage::key_converter), msg.get(),
                      has_headers ? hdrs : nullptr, r.timestamp_ms, e);
          continue;
        }
        if (has_headers) {
          const char* name;
          const void* val;
          size_t size;
          for (size_t i = 0; rd_kafka_header_get_all(hdrs, i, &name, &val, &size) == 0; ++i) {
            r.headers.push_back({name, val ? std::optional<std::string>(
                                                 std::string(static_cast<const char*>(val), size))
                                           : std::nullopt});
          }
        }
        if (!chain.empty()) {
          auto c = transforms::take_record(r);
          bool keep = false, failed = false;
          try {
            keep = run_chain(chain, c, *errors_, [&](std::string_view cls, const auto& e) {
              failed = true;
              skip_errant(error_stage::transformation, cls, msg.get(), has_headers ? hdrs : nullptr,
                          r.timestamp_ms, e);
            });
          } catch (const retry_interrupted& e) {
            log::info(k_log, e.what(), "; the record is read again when the task runs again");
            break;
          }
          if (failed) continue;  // skipped (tolerated) and marked by skip_errant
          if (!keep) {           // filtered out: done with, as if written
            mark_not_written(msg.get());
            continue;
          }
          transforms::put_record(std::move(c), r);
          if (r.topic != rd_kafka_topic_name(msg->rkt) || r.partition != msg->partition) {
            r.original = api::topic_partition{rd_kafka_topic_name(msg->rkt), msg->partition};
          }
        }
        batch.push_back(std::move(r));
      }
      metrics().records_read.fetch_add(read, std::memory_order_relaxed);
    } else {
      rd_kafka_consumer_poll(consumer_, 0);  // keep group membership; partitions are paused
      // Drop records of partitions revoked meanwhile: their new owner re-reads them.
      std::erase_if(batch, [&](const api::sink_record& r) {
        return std::find(assignment_.begin(), assignment_.end(), r.consumed_from()) ==
               assignment_.end();
      });
    }
    if (!batch.empty()) {
      try {
        {
          scoped_timer timed(metrics().batch_time_us);
          task.put(batch);
        }
        metrics().batches.fetch_add(1, std::memory_order_relaxed);
        metrics().records_written.fetch_add(batch.size(), std::memory_order_relaxed);
        log::debug(k_log, "Wrote ", batch.size(), " records");
        for (const auto& r : batch) current_[r.consumed_from()] = r.offset + 1;
        if (retrying) {
          log::info(k_log, "Retried batch written");
          report(want_pause ? storage::connector_state::paused
                            : storage::connector_state::running);  // the trace goes
          retrying = false;
          set_paused(want_pause || holding);
          backoff = std::chrono::milliseconds(100);
        }
        batch.clear();
      } catch (const api::retriable_error& e) {
        if (!retrying) {
          log::warn(k_log, "Write failed, will retry the same ", batch.size(),
                    " records: ", e.what());
          // Still RUNNING (nothing is lost, it retries by itself), but the status says why
          // nothing moves, in words a person can act on.
          report(storage::connector_state::running,
                 std::string("Writing is failing and is retried with backoff (up to 5 s); no "
                             "record is skipped. Last error: ") +
                     e.what());
          retrying = true;
          set_paused(true);
        }
        pause_for(backoff);
        backoff = std::min(backoff * 2, std::chrono::milliseconds(5000));
        continue;
      }
    }
    if (!retrying && !skipped_.empty()) {  // everything before them is in Redis now
      for (const auto& [tp, next] : skipped_) {
        auto& c = current_[tp];
        c = std::max(c, next);
      }
      skipped_.clear();
    }
    if (commit_requested_ || clock::now() >= next_commit) {
      commit(false);
      next_commit = clock::now() + env_.worker->offset_flush_interval;
    }
    if (clock::now() >= next_lag) {
      refresh_lag();
      next_lag = clock::now() + std::chrono::seconds(1);
    }
  }
}

}  // namespace ferry::core
