#include "sink/redis_sink_task.hpp"

#include <algorithm>
#include <charconv>

#include "ferry/api/errors.hpp"
#include "sink/sink_replies.hpp"

namespace ferry::redis {

namespace {

// Tries of open()'s read of the stored offsets. It runs inside the consumer's rebalance, so it
// does not wait long: without the offsets the partitions start at the group's position and
// put() skips what Redis already has.
constexpr int k_open_tries = 3;

bool consumed_from(const api::sink_record& r, const api::topic_partition& tp) {
  if (r.original) return *r.original == tp;
  return r.partition == tp.partition && r.topic == tp.topic;
}

std::int64_t offset_of(clients::redis_reply_view v, const std::string& key) {
  if (v.is_nil()) return -1;
  auto text = v.str();
  std::int64_t n = -1;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (!v.is_string() || ec != std::errc() || end != text.data() + text.size() || n < 0) {
    throw api::data_error("redis.exactly.once: offset key " + key +
                          " does not hold an offset: " + v.describe());
  }
  return n;
}

}  // namespace

std::string offset_key(const std::string& connector, const api::topic_partition& tp) {
  return "ferry:offsets:{" + connector + "}:" + tp.topic + ":" + std::to_string(tp.partition);
}

void redis_sink_task::start(const api::config_map& config, api::sink_task_context& context) {
  config_ = redis_sink_config::parse(config);
  context_ = &context;
  builder_.emplace(config_);  // parses the templates once
  connection_ = clients::make_redis_client(config_.endpoint);
  // Reachability problems surface on the first put() as retriable errors; try early so the
  // log says so at start.
  try {
    connection_->connect();
  } catch (const clients::redis_io_error&) {
  }
}

void redis_sink_task::open(std::span<const api::topic_partition> partitions) {
  if (!config_.exactly_once || partitions.empty()) return;
  std::vector<std::string> keys;
  for (const auto& tp : partitions) keys.push_back(offset_key(config_.connector_name, tp));
  std::vector<std::int64_t> stored;
  for (int attempt = 1; stored.empty(); ++attempt) {
    try {
      stored = read_offsets(keys, false);
    } catch (const api::retriable_error&) {
      // Redis unreachable: put() still skips what it has; only the resume point is lost.
      if (attempt == k_open_tries) return;
    } catch (const std::exception&) {
      // Not an exception to throw through librdkafka's rebalance callback: put() meets the
      // same problem (a refused login, a bad offset key) and fails the task with it.
      return;
    }
  }
  api::offset_map seeks;
  for (std::size_t i = 0; i < partitions.size(); ++i) {
    if (stored[i] >= 0) seeks[partitions[i]] = stored[i];
  }
  if (!seeks.empty()) context_->offset(seeks);
}

std::vector<std::int64_t> redis_sink_task::read_offsets(const std::vector<std::string>& keys,
                                                        bool watch) {
  pipeline_.clear();
  if (watch) {
    pipeline_.begin(keys.size() + 1);
    pipeline_.arg("WATCH");
    for (const auto& k : keys) pipeline_.arg(k);
  }
  pipeline_.begin(keys.size() + 1);
  pipeline_.arg("MGET");
  for (const auto& k : keys) pipeline_.arg(k);
  auto replies = connection_->execute(pipeline_);
  for (const auto& reply : replies) check_reply(reply.view());
  auto values = replies.back().view();
  if (!values.is_array() || values.size() != keys.size()) {
    throw api::retriable_error("redis.exactly.once: unexpected MGET reply " + values.describe());
  }
  std::vector<std::int64_t> out;
  out.reserve(keys.size());
  for (std::size_t i = 0; i < keys.size(); ++i) out.push_back(offset_of(values[i], keys[i]));
  return out;
}

void redis_sink_task::put(std::span<const api::sink_record> records) {
  if (records.empty()) return;
  if (config_.exactly_once) {
    put_exactly_once(records);
    return;
  }
  pipeline_.clear();
  builder_->build(records, pipeline_);
  if (pipeline_.empty()) return;
  auto replies = connection_->execute(pipeline_);
  check_replies(replies, config_.multiexec, config_.wait_replicas, config_.wait_timeout_ms);
}

void redis_sink_task::put_exactly_once(std::span<const api::sink_record> records) {
  // The batch's partitions (a handful), in first-seen order.
  partitions_.clear();
  for (const auto& r : records) {
    auto known = std::find_if(partitions_.begin(), partitions_.end(),
                              [&](const api::topic_partition& tp) { return consumed_from(r, tp); });
    if (known == partitions_.end()) partitions_.push_back(r.consumed_from());
  }
  keys_.clear();
  for (const auto& tp : partitions_) keys_.push_back(offset_key(config_.connector_name, tp));
  auto index_of = [&](const api::sink_record& r) {
    return static_cast<std::size_t>(
        std::find_if(partitions_.begin(), partitions_.end(),
                     [&](const api::topic_partition& tp) { return consumed_from(r, tp); }) -
        partitions_.begin());
  };

  // WATCH: if anyone else moves these offsets before our EXEC, the EXEC does nothing.
  stored_ = read_offsets(keys_, true);
  next_ = stored_;

  // The transaction: the writes of the records Redis does not have yet, in runs of
  // consecutive such records, then the partitions' next offsets.
  pipeline_.clear();
  pipeline_.add({"MULTI"});
  bool any = false;
  std::size_t run = 0;  // start of the current run of records to write
  for (std::size_t i = 0; i <= records.size(); ++i) {
    bool write = false;
    if (i < records.size()) {
      auto p = index_of(records[i]);
      write = records[i].offset >= stored_[p];
      if (write) next_[p] = std::max(next_[p], records[i].offset + 1);
    }
    if (write) continue;
    if (i > run) {
      builder_->build(records.subspan(run, i - run), pipeline_);
      any = true;
    }
    run = i + 1;
  }
  if (!any) {  // all in Redis already: a batch handed again after its EXEC succeeded
    pipeline_.clear();
    pipeline_.add({"UNWATCH"});
    for (const auto& reply : connection_->execute(pipeline_)) check_reply(reply.view());
    return;
  }
  next_text_.resize(partitions_.size());
  for (std::size_t p = 0; p < partitions_.size(); ++p) {
    if (next_[p] == stored_[p]) continue;
    next_text_[p] = std::to_string(next_[p]);
    pipeline_.add({"SET", keys_[p], next_text_[p]});
  }
  pipeline_.add({"EXEC"});
  std::string wait_args[2];
  if (config_.wait_replicas > 0) {
    wait_args[0] = std::to_string(config_.wait_replicas);
    wait_args[1] = std::to_string(config_.wait_timeout_ms);
    pipeline_.add({"WAIT", wait_args[0], wait_args[1]});
  }
  auto replies = connection_->execute(pipeline_);
  const auto exec = replies.size() - (config_.wait_replicas > 0 ? 2 : 1);
  if (replies[exec].view().is_nil()) {
    throw api::retriable_error(
        "redis.exactly.once: the stored offsets of the batch's partitions changed while it was "
        "being written (another task writing the same partitions?); nothing was applied, the "
        "batch is retried against the new offsets");
  }
  check_replies(replies, false, config_.wait_replicas, config_.wait_timeout_ms);
}

void redis_sink_task::stop() {
  connection_.reset();
}

}  // namespace ferry::redis
