#include "ferry/clients/kafka_log.hpp"

#include <syslog.h>

#include <algorithm>
#include <atomic>
#include <climits>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <shared_mutex>
#include <thread>
#include <utility>
#include <vector>

#include "ferry/api/errors.hpp"

namespace ferry::clients {

namespace {

using steady = std::chrono::steady_clock;
using done_fn = std::function<void(const std::string&)>;

// The reader hands positions to read_to_end() once per batch, not once per record.
constexpr int max_batch = 500;
// Only bounds how late a missed wake-up could be noticed; stop() wakes the threads itself.
constexpr int idle_poll_ms = 1000;
// After purging, delivery reports for the purged records are served for at most this long.
constexpr std::chrono::milliseconds purge_serve_time{1000};

std::string quoted(const std::string& s) {
  return "'" + s + "'";
}

struct topic_deleter {
  void operator()(rd_kafka_topic_t* t) const { rd_kafka_topic_destroy(t); }
};
using topic_handle = std::unique_ptr<rd_kafka_topic_t, topic_deleter>;

}  // namespace

// Threads: the caller's (start, stop, send, read_to_end), the reader (consumer, on_record), the
// poller (producer delivery reports and errors) and librdkafka's own (log lines).
struct kafka_log::impl {
  explicit impl(kafka_log_options options) : options_(std::move(options)) {}

  void start(std::chrono::milliseconds timeout);
  void stop();
  void send_async(const std::string& key, const std::optional<std::string>& value, done_fn done);
  void send(const std::string& key, const std::optional<std::string>& value,
            std::chrono::milliseconds timeout);
  void read_to_end(steady::time_point deadline, std::chrono::milliseconds timeout);

  kafka_conf make_conf(const client_config& config, const char* role);
  struct topic_layout {
    int partitions = 0;
    bool mock_cluster = false;  // see find_topic()
  };
  topic_layout find_topic(steady::time_point deadline);
  topic_handle known_topic(rd_kafka_t* rk, steady::time_point deadline);
  void read_loop();
  void poll_loop();
  void warn(const std::string& message) const;
  std::string last_error_hint(rd_kafka_type_t role) const;

  static void log_cb(const rd_kafka_t* rk, int level, const char* facility, const char* message);
  static void error_cb(rd_kafka_t* rk, int err, const char* reason, void* opaque);
  static void dr_msg_cb(rd_kafka_t* rk, const rd_kafka_message_t* m, void* opaque);

  const kafka_log_options options_;

  std::mutex lifecycle_mutex_;  // start() and stop()
  bool started_ = false;
  bool stopped_ = false;
  std::atomic<int> partitions_{0};

  // Shared: queuing a record, taking a reference to the producer. Exclusive: stop() turning
  // sends off. A read_to_end() in flight keeps the producer alive through its own reference.
  std::shared_mutex producer_mutex_;
  std::shared_ptr<rd_kafka_t> producer_;
  bool accepting_ = false;
  queue_handle producer_queue_;  // the main queue, to wake the poller
  topic_handle producer_topic_;
  std::thread poller_;
  std::atomic<bool> stop_poller_{false};

  kafka_handle consumer_;  // the reader thread's once started
  queue_handle consumer_queue_;
  topic_handle consumer_topic_;
  std::thread reader_;
  std::thread::id reader_id_;
  std::atomic<bool> stop_reader_{false};

  // Next offset to read per partition, as far as on_record has seen; -1 before anything.
  std::mutex position_mutex_;
  std::condition_variable position_cv_;
  std::vector<std::int64_t> positions_;
  bool reading_ = false;

  mutable std::mutex error_mutex_;
  std::string last_producer_error_;
  std::string last_consumer_error_;
};

void kafka_log::impl::warn(const std::string& message) const {
  if (!options_.warn) {
    std::fprintf(stderr, "kafka_log %s: %s\n", options_.topic.c_str(), message.c_str());
    return;
  }
  try {
    options_.warn(message);
  } catch (...) {
    // A failing warning sink must not take a client thread down.
  }
}

std::string kafka_log::impl::last_error_hint(rd_kafka_type_t role) const {
  std::lock_guard lock(error_mutex_);
  const auto& last = role == RD_KAFKA_PRODUCER ? last_producer_error_ : last_consumer_error_;
  return last.empty() ? "" : " (last client error: " + last + ")";
}

void kafka_log::impl::log_cb(const rd_kafka_t* rk, int level, const char* facility,
                             const char* message) {
  if (level > LOG_WARNING) return;
  // "allow.auto.create.topics=false not supported by broker" (the mock cluster, Metadata v0-v2):
  // harmless here, the log names its topic only after seeing that it exists.
  if (std::strcmp(facility, "AUTOCREATE") == 0) return;
  auto* self = static_cast<impl*>(rd_kafka_opaque(rk));
  self->warn(std::string("librdkafka ") + rd_kafka_name(rk) + " " + facility + ": " + message);
}

void kafka_log::impl::error_cb(rd_kafka_t* rk, int err, const char* reason, void* opaque) {
  auto* self = static_cast<impl*>(opaque);
  {
    std::lock_guard lock(self->error_mutex_);
    (rd_kafka_type(rk) == RD_KAFKA_PRODUCER ? self->last_producer_error_
                                            : self->last_consumer_error_) = reason;
  }
  // The rest already reached the log callback as log lines; a fatal error needs saying louder.
  if (err == RD_KAFKA_RESP_ERR__FATAL) {
    char text[512];
    rd_kafka_fatal_error(rk, text, sizeof text);
    self->warn("Fatal Kafka client error, the log cannot write any more: " + std::string(text));
  }
}

void kafka_log::impl::dr_msg_cb(rd_kafka_t*, const rd_kafka_message_t* m, void* opaque) {
  std::unique_ptr<done_fn> done(static_cast<done_fn*>(m->_private));
  if (!done) return;
  std::string error;
  if (m->err) {
    auto* self = static_cast<impl*>(opaque);
    error =
        "Cannot write to topic " + quoted(self->options_.topic) + ": " + rd_kafka_err2str(m->err);
    if (m->err == RD_KAFKA_RESP_ERR__PURGE_QUEUE || m->err == RD_KAFKA_RESP_ERR__PURGE_INFLIGHT)
      error += " (the log was stopped before Kafka acknowledged the record)";
  }
  try {
    (*done)(error);
  } catch (...) {
    // Nobody to report to on this thread; the callback owns its failures.
  }
}

kafka_conf kafka_log::impl::make_conf(const client_config& config, const char* role) {
  std::vector<std::string> ignored;
  auto conf = make_kafka_conf(config, &ignored);
  for (const auto& key : ignored)
    warn(std::string(role) + " setting " + quoted(key) + " is unknown to librdkafka; ignored");
  rd_kafka_conf_set_opaque(conf.get(), this);
  rd_kafka_conf_set_error_cb(conf.get(), error_cb);
  rd_kafka_conf_set_log_cb(conf.get(), log_cb);
  return conf;
}

// All-topics metadata: on a broker that does not honour allow.auto.create.topics (librdkafka's
// mock cluster serves only Metadata v0-v2, which auto-create), asking for the topic by name
// would create it with the broker's defaults.
kafka_log::impl::topic_layout kafka_log::impl::find_topic(steady::time_point deadline) {
  const std::string& topic = options_.topic;
  rd_kafka_t* rk = producer_.get();
  std::string problem;
  auto backoff = std::chrono::milliseconds(20);
  for (;;) {
    const rd_kafka_metadata_t* md = nullptr;
    auto err = rd_kafka_metadata(rk, 1, nullptr, &md, std::max(ms_left(deadline), 1));
    if (err) {
      auto servers = options_.producer.find("bootstrap.servers");
      problem = "cannot read the metadata of the Kafka cluster at " +
                (servers == options_.producer.end() ? std::string("(no bootstrap.servers)")
                                                    : servers->second) +
                ": " + kafka_error_text(err) + last_error_hint(RD_KAFKA_PRODUCER);
    } else {
      problem = "the topic does not exist (kafka_log never creates it)";
      topic_layout layout;
      rd_kafka_resp_err_t topic_err = RD_KAFKA_RESP_ERR_NO_ERROR;
      for (int i = 0; i < md->topic_cnt; ++i) {
        if (topic == md->topics[i].topic) {
          layout.partitions = md->topics[i].partition_cnt;
          topic_err = md->topics[i].err;
        }
      }
      // librdkafka's mock cluster names controller 0, none of its brokers (they count from 1);
      // a real cluster always names one of its brokers.
      std::int32_t controller = rd_kafka_controllerid(rk, 0);
      layout.mock_cluster = controller >= 0;
      for (int i = 0; i < md->broker_cnt; ++i) {
        if (md->brokers[i].id == controller) layout.mock_cluster = false;
      }
      rd_kafka_metadata_destroy(md);
      if (topic_err == RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED)
        throw api::connect_error("Cannot read topic " + quoted(topic) + ": " +
                                 kafka_error_text(topic_err));
      if (topic_err == RD_KAFKA_RESP_ERR_NO_ERROR && layout.partitions > 0) return layout;
      if (topic_err) problem = "the topic is not available: " + kafka_error_text(topic_err);
    }
    // A topic just created may take a moment to show up on every broker, as in Kafka Connect.
    if (ms_left(deadline) <= backoff.count()) break;
    std::this_thread::sleep_for(backoff);
    backoff = std::min(backoff * 2, std::chrono::milliseconds(500));
  }
  throw api::connect_error("Cannot start the log of topic " + quoted(topic) + ": " + problem);
}

// The topic's leaders, known to the client before its first use. librdkafka 2.0.2 otherwise
// learns them late: a producer's first record to a topic it has not seen waits for the 1 s
// topic scan, and a partition assigned before its leader is known retries its offset lookup
// only after 500 ms. Naming the topic is safe now: find_topic() saw that it exists.
topic_handle kafka_log::impl::known_topic(rd_kafka_t* rk, steady::time_point deadline) {
  topic_handle t(rd_kafka_topic_new(rk, options_.topic.c_str(), nullptr));
  if (!t) {
    throw api::connect_error("Cannot use topic " + quoted(options_.topic) + ": " +
                             kafka_error_text(rd_kafka_last_error()));
  }
  const rd_kafka_metadata_t* md = nullptr;
  auto err = rd_kafka_metadata(rk, 0, t.get(), &md, std::max(ms_left(deadline), 1));
  if (err) {
    throw api::connect_error("Cannot read the metadata of topic " + quoted(options_.topic) + ": " +
                             kafka_error_text(err) + last_error_hint(rd_kafka_type(rk)));
  }
  rd_kafka_metadata_destroy(md);
  return t;
}

void kafka_log::impl::start(std::chrono::milliseconds timeout) {
  std::unique_lock lifecycle(lifecycle_mutex_);
  if (started_)
    throw api::connect_error("The log of topic " + quoted(options_.topic) +
                             " was already started; a log starts once");
  started_ = true;
  auto deadline = steady::now() + timeout;
  const std::string& topic = options_.topic;
  try {
    auto producer_config = options_.producer;
    producer_config.try_emplace("linger.ms", "0");
    producer_config.try_emplace("socket.nagle.disable", "true");
    producer_config.try_emplace("client.id", "ferry-log-writer-" + topic);
    producer_config["enable.idempotence"] = "true";
    producer_config["acks"] = "all";
    producer_config["partitioner"] = "murmur2_random";  // Java's: same key, same partition
    producer_config["allow.auto.create.topics"] = "false";
    auto producer_conf = make_conf(producer_config, "Producer");
    rd_kafka_conf_set_dr_msg_cb(producer_conf.get(), dr_msg_cb);
    producer_ = std::shared_ptr<rd_kafka_t>(make_producer(std::move(producer_conf)).release(),
                                            kafka_handle_deleter{});
    producer_queue_.reset(rd_kafka_queue_get_main(producer_.get()));

    auto layout = find_topic(deadline);
    partitions_ = layout.partitions;
    producer_topic_ = known_topic(producer_.get(), deadline);

    auto consumer_config = options_.consumer;
    // A Kafka broker answers a waiting fetch as soon as a record arrives, so librdkafka's default
    // (500 ms) costs no latency there. The mock cluster always waits the full time on an empty
    // fetch, which would delay every read_to_end() after a write by up to that much.
    if (layout.mock_cluster) consumer_config.try_emplace("fetch.wait.max.ms", "10");
    consumer_config.try_emplace("fetch.error.backoff.ms", "100");
    consumer_config.try_emplace("socket.nagle.disable", "true");
    consumer_config.try_emplace("client.id", "ferry-log-reader-" + topic);
    // librdkafka's assign() needs a group; this one is never joined and never committed to.
    consumer_config["group.id"] = "ferry-log-" + topic;
    consumer_config["enable.auto.commit"] = "false";
    consumer_config["enable.auto.offset.store"] = "false";
    consumer_config["auto.offset.reset"] = "earliest";
    // The end-of-partition events carry positions past transaction markers, which no record does.
    consumer_config["enable.partition.eof"] = "true";
    consumer_config["allow.auto.create.topics"] = "false";
    consumer_ = make_consumer(make_conf(consumer_config, "Consumer"));
    rd_kafka_poll_set_consumer(consumer_.get());
    consumer_queue_.reset(rd_kafka_queue_get_consumer(consumer_.get()));
    consumer_topic_ = known_topic(consumer_.get(), deadline);

    topic_partition_list assignment(rd_kafka_topic_partition_list_new(partitions_));
    for (int p = 0; p < partitions_; ++p) {
      rd_kafka_topic_partition_list_add(assignment.get(), topic.c_str(), p)->offset =
          RD_KAFKA_OFFSET_BEGINNING;
    }
    if (auto err = rd_kafka_assign(consumer_.get(), assignment.get())) {
      throw api::connect_error("Cannot assign the partitions of topic " + quoted(topic) + ": " +
                               kafka_error_text(err));
    }
    {
      std::lock_guard lock(position_mutex_);
      positions_.assign(static_cast<std::size_t>(partitions_), -1);
      reading_ = true;
    }
    reader_ = std::thread([this] { read_loop(); });
    reader_id_ = reader_.get_id();
    poller_ = std::thread([this] { poll_loop(); });
    std::unique_lock lock(producer_mutex_);
    accepting_ = true;
  } catch (...) {
    lifecycle.unlock();
    stop();
    throw;
  }
  lifecycle.unlock();
  try {
    read_to_end(deadline, timeout);
  } catch (const api::connect_error& e) {
    stop();
    throw api::connect_error("Cannot start the log of topic " + quoted(topic) + ": " + e.what());
  }
}

void kafka_log::impl::read_loop() {
  log_record record;  // reused, so steady reading allocates nothing per record
  std::vector<std::int64_t> local(static_cast<std::size_t>(partitions_), -1);
  while (!stop_reader_.load(std::memory_order_relaxed)) {
    rd_kafka_message_t* m = rd_kafka_consumer_poll(consumer_.get(), idle_poll_ms);
    bool moved = false;
    for (int n = 0; m != nullptr;) {
      kafka_message owned(m);
      auto p = static_cast<std::size_t>(m->partition);
      if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
        if (p < local.size() && m->offset > local[p]) {
          local[p] = m->offset;
          moved = true;
        }
      } else if (m->err) {
        warn("Reading topic " + quoted(options_.topic) + ": " + rd_kafka_message_errstr(m));
      } else {
        record.key.assign(m->key ? static_cast<const char*>(m->key) : "", m->key_len);
        if (m->payload != nullptr) {
          if (!record.value) record.value.emplace();
          record.value->assign(static_cast<const char*>(m->payload), m->len);
        } else {
          record.value.reset();
        }
        record.partition = m->partition;
        record.offset = m->offset;
        record.timestamp_ms = rd_kafka_message_timestamp(m, nullptr);
        if (options_.on_record) {
          try {
            options_.on_record(record);
          } catch (const std::exception& e) {
            warn("Record at " + options_.topic + "-" + std::to_string(m->partition) + " offset " +
                 std::to_string(m->offset) + " was not applied: " + e.what());
          } catch (...) {
            warn("Record at " + options_.topic + "-" + std::to_string(m->partition) + " offset " +
                 std::to_string(m->offset) + " was not applied: unknown exception");
          }
        }
        if (p < local.size()) {
          local[p] = std::max(local[p], m->offset + 1);
          moved = true;
        }
      }
      if (++n == max_batch) break;
      m = rd_kafka_consumer_poll(consumer_.get(), 0);
    }
    if (moved) {
      {
        std::lock_guard lock(position_mutex_);
        positions_ = local;
      }
      position_cv_.notify_all();
    }
  }
}

void kafka_log::impl::poll_loop() {
  while (!stop_poller_.load(std::memory_order_relaxed))
    rd_kafka_poll(producer_.get(), idle_poll_ms);
}

void kafka_log::impl::send_async(const std::string& key, const std::optional<std::string>& value,
                                 done_fn done) {
  auto owned = std::make_unique<done_fn>(std::move(done));
  std::shared_lock lock(producer_mutex_);
  if (!accepting_)
    throw api::connect_error("The log of topic " + quoted(options_.topic) + " is not running");
  // A null pointer is Kafka's null value; an empty string stays an empty value.
  void* payload = value ? const_cast<char*>(value->data()) : nullptr;
  std::size_t payload_size = value ? value->size() : 0;
  auto err = rd_kafka_producev(
      producer_.get(), RD_KAFKA_V_RKT(producer_topic_.get()),
      RD_KAFKA_V_KEY(key.data(), key.size()), RD_KAFKA_V_VALUE(payload, payload_size),
      RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_OPAQUE(owned.get()), RD_KAFKA_V_END);
  if (err) {
    throw api::connect_error("Cannot queue a record for topic " + quoted(options_.topic) + ": " +
                             kafka_error_text(err));
  }
  owned.release();  // the delivery report owns it now
}

void kafka_log::impl::send(const std::string& key, const std::optional<std::string>& value,
                           std::chrono::milliseconds timeout) {
  struct ack {
    std::mutex mutex;
    std::condition_variable cv;
    bool done = false;
    std::string error;
  };
  auto state = std::make_shared<ack>();
  send_async(key, value, [state](const std::string& error) {
    std::lock_guard lock(state->mutex);
    state->done = true;
    state->error = error;
    state->cv.notify_all();
  });
  std::unique_lock lock(state->mutex);
  if (!state->cv.wait_for(lock, timeout, [&] { return state->done; })) {
    throw api::connect_error("Timed out after " + std::to_string(timeout.count()) +
                             " ms waiting for Kafka to acknowledge a record written to topic " +
                             quoted(options_.topic) + last_error_hint(RD_KAFKA_PRODUCER));
  }
  if (!state->error.empty()) throw api::connect_error(state->error);
}

void kafka_log::impl::read_to_end(steady::time_point deadline, std::chrono::milliseconds timeout) {
  const std::string& topic = options_.topic;
  std::shared_ptr<rd_kafka_t> producer;
  {
    std::shared_lock lock(producer_mutex_);
    if (!accepting_)
      throw api::connect_error("The log of topic " + quoted(topic) + " is not running");
    producer = producer_;
  }
  if (std::this_thread::get_id() == reader_id_) {
    throw api::connect_error("read_to_end() called from on_record on topic " + quoted(topic) +
                             " would wait for itself");
  }
  // End offsets through the producer's connections: the consumer's may be held by a fetch
  // waiting on the broker, and a broker answers one request per connection at a time.
  // offsets_for_times(END) is ListOffsets(LATEST) for all partitions, one request per leader;
  // unlike query_watermark_offsets (one round trip per partition) librdkafka 2.0.2 bounds it by
  // its timeout even when the broker is down. Under read_committed the broker answers the last
  // stable offset, as Java's endOffsets() does.
  topic_partition_list query(rd_kafka_topic_partition_list_new(partitions_));
  for (int p = 0; p < partitions_; ++p) {
    rd_kafka_topic_partition_list_add(query.get(), topic.c_str(), p)->offset = RD_KAFKA_OFFSET_END;
  }
  auto err =
      rd_kafka_offsets_for_times(producer.get(), query.get(), std::max(ms_left(deadline), 1));
  for (int i = 0; !err && i < query->cnt; ++i) err = query->elems[i].err;
  if (err) {
    throw api::connect_error("Cannot read the end offsets of topic " + quoted(topic) + " within " +
                             std::to_string(timeout.count()) + " ms: " + kafka_error_text(err) +
                             last_error_hint(RD_KAFKA_PRODUCER));
  }
  std::vector<std::int64_t> ends(static_cast<std::size_t>(partitions_), 0);
  for (int i = 0; i < query->cnt; ++i) {
    auto p = static_cast<std::size_t>(query->elems[i].partition);
    // 0: nothing was ever written there. Otherwise wait even when retention emptied the partition:
    // its end-of-partition event moves the position there.
    if (p < ends.size()) ends[p] = query->elems[i].offset;
  }
  auto behind = [&]() -> int {
    for (std::size_t p = 0; p < ends.size(); ++p)
      if (ends[p] > 0 && positions_[p] < ends[p]) return static_cast<int>(p);
    return -1;
  };
  std::unique_lock lock(position_mutex_);
  position_cv_.wait_until(lock, deadline, [&] { return !reading_ || behind() < 0; });
  if (!reading_) throw api::connect_error("The log of topic " + quoted(topic) + " was stopped");
  if (int p = behind(); p >= 0) {
    auto at = positions_[static_cast<std::size_t>(p)];
    throw api::connect_error(
        "Timed out after " + std::to_string(timeout.count()) + " ms reading topic " +
        quoted(topic) + " to its end: partition " + std::to_string(p) + " is at offset " +
        (at < 0 ? std::string("(nothing read yet)") : std::to_string(at)) + " of " +
        std::to_string(ends[static_cast<std::size_t>(p)]) + last_error_hint(RD_KAFKA_CONSUMER));
  }
}

void kafka_log::impl::stop() {
  std::lock_guard lifecycle(lifecycle_mutex_);
  if (stopped_) return;
  stopped_ = true;
  {
    std::unique_lock lock(producer_mutex_);
    accepting_ = false;
  }

  stop_reader_ = true;
  if (consumer_queue_) rd_kafka_queue_yield(consumer_queue_.get());
  if (reader_.joinable()) reader_.join();
  {
    std::lock_guard lock(position_mutex_);
    reading_ = false;
  }
  position_cv_.notify_all();
  consumer_queue_.reset();
  consumer_topic_.reset();
  // Nothing to commit and no group joined: closing would only wait on the coordinator.
  if (consumer_) rd_kafka_destroy_flags(consumer_.release(), RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);

  stop_poller_ = true;
  if (producer_queue_) rd_kafka_queue_yield(producer_queue_.get());
  if (poller_.joinable()) poller_.join();
  producer_queue_.reset();
  if (producer_) {
    rd_kafka_t* rk = producer_.get();
    rd_kafka_flush(rk, static_cast<int>(options_.stop_timeout.count()));
    if (rd_kafka_outq_len(rk) > 0) {
      rd_kafka_purge(rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
      // Every purged record still gets its delivery report, so every `done` is called.
      auto until = steady::now() + purge_serve_time;
      while (rd_kafka_outq_len(rk) > 0 && steady::now() < until) rd_kafka_poll(rk, 10);
    }
    std::unique_lock lock(producer_mutex_);
    producer_topic_.reset();
    producer_.reset();
  }
}

kafka_log::kafka_log(kafka_log_options options)
    : impl_(std::make_unique<impl>(std::move(options))) {}

kafka_log::~kafka_log() {
  impl_->stop();
}

void kafka_log::start(std::chrono::milliseconds timeout) {
  impl_->start(timeout);
}

void kafka_log::stop() {
  impl_->stop();
}

void kafka_log::send(const std::string& key, const std::optional<std::string>& value,
                     std::chrono::milliseconds timeout) {
  impl_->send(key, value, timeout);
}

void kafka_log::send_async(const std::string& key, const std::optional<std::string>& value,
                           std::function<void(const std::string& error)> done) {
  impl_->send_async(key, value, std::move(done));
}

void kafka_log::read_to_end(std::chrono::milliseconds timeout) {
  impl_->read_to_end(steady::now() + timeout, timeout);
}

int kafka_log::partitions() const {
  return impl_->partitions_;
}

const std::string& kafka_log::topic() const {
  return impl_->options_.topic;
}

}  // namespace ferry::clients
