#include "ferry/storage/kafka_stores.hpp"

#include <algorithm>
#include <condition_variable>
#include <type_traits>

#include "ferry/api/errors.hpp"
#include "ferry/storage/connect_records.hpp"

namespace ferry::storage {

namespace {

clients::kafka_log_options log_options(const kafka_store_options& o,
                                       std::function<void(const clients::log_record&)> cb) {
  clients::kafka_log_options out;
  out.topic = o.topic;
  out.producer = o.producer;
  out.consumer = o.consumer;
  out.on_record = std::move(cb);
  out.warn = o.warn;
  return out;
}

std::int64_t now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

}  // namespace

// ---- offsets ----

kafka_offset_store::kafka_offset_store(kafka_store_options options)
    : options_(std::move(options)),
      log_(std::make_unique<clients::kafka_log>(
          log_options(options_, [this](const clients::log_record& r) { on_record(r); }))) {}

kafka_offset_store::~kafka_offset_store() {
  stop();
}

void kafka_offset_store::start(std::chrono::milliseconds timeout) {
  log_->start(timeout);
}

void kafka_offset_store::stop() {
  log_->stop();
}

void kafka_offset_store::read_to_end(std::chrono::milliseconds timeout) {
  log_->read_to_end(timeout);
}

void kafka_offset_store::on_record(const clients::log_record& r) {
  auto parsed = records::parse_offset_record(r.key, r.value);
  if (!parsed) return;  // not an offset record Kafka Connect would read either
  std::lock_guard lock(mutex_);
  remember_locked(parsed->connector, r.key, parsed->partition, parsed->offset);
}

void kafka_offset_store::remember_locked(const std::string& connector, const std::string& key,
                                         const json& partition, const json& offset) {
  auto& entries = offsets_[connector];
  if (offset.is_null()) {
    entries.erase(key);
  } else {
    entries[key] = {partition, offset};
  }
}

std::optional<json> kafka_offset_store::get(const std::string& connector, const json& partition) {
  std::lock_guard lock(mutex_);
  auto c = offsets_.find(connector);
  if (c == offsets_.end()) return std::nullopt;
  auto it = c->second.find(offset_key(connector, partition));
  if (it == c->second.end()) return std::nullopt;
  return it->second.second;
}

void kafka_offset_store::put(const std::string& connector,
                             const std::vector<source_offset>& offsets) {
  // Send them all, then wait for every acknowledgement: one round trip for the batch.
  struct pending {
    std::mutex mutex;
    std::condition_variable cv;
    std::size_t left;
    std::string error;
  };
  auto state = std::make_shared<pending>();
  state->left = offsets.size();
  for (const auto& o : offsets) {
    std::optional<std::string> value;
    if (!o.offset.is_null()) value = records::offset_value(o.offset);
    log_->send_async(offset_key(connector, o.partition), value, [state](const std::string& error) {
      std::lock_guard lock(state->mutex);
      if (!error.empty() && state->error.empty()) state->error = error;
      if (--state->left == 0) state->cv.notify_all();
    });
  }
  std::unique_lock lock(state->mutex);
  if (!state->cv.wait_for(lock, options_.write_timeout, [&] { return state->left == 0; })) {
    throw api::connect_error("Timed out writing source offsets of " + connector + " to " +
                             options_.topic);
  }
  if (!state->error.empty()) {
    throw api::connect_error("Could not write source offsets of " + connector + " to " +
                             options_.topic + ": " + state->error);
  }
  lock.unlock();
  // Visible to get() at once, before the log reads them back.
  std::lock_guard guard(mutex_);
  for (const auto& o : offsets) {
    remember_locked(connector, offset_key(connector, o.partition), o.partition, o.offset);
  }
}

std::vector<source_offset> kafka_offset_store::list(const std::string& connector) {
  std::lock_guard lock(mutex_);
  std::vector<source_offset> out;
  auto c = offsets_.find(connector);
  if (c == offsets_.end()) return out;
  for (const auto& [key, entry] : c->second) out.push_back({entry.first, entry.second});
  std::sort(out.begin(), out.end(), [](const source_offset& a, const source_offset& b) {
    return a.partition.dump() < b.partition.dump();
  });
  return out;
}

// ---- statuses ----

kafka_status_store::kafka_status_store(kafka_store_options options)
    : options_(std::move(options)),
      log_(std::make_unique<clients::kafka_log>(
          log_options(options_, [this](const clients::log_record& r) { on_record(r); }))) {}

kafka_status_store::~kafka_status_store() {
  stop();
}

void kafka_status_store::start(std::chrono::milliseconds timeout) {
  log_->start(timeout);
}

void kafka_status_store::stop() {
  log_->stop();
}

void kafka_status_store::read_to_end(std::chrono::milliseconds timeout) {
  log_->read_to_end(timeout);
}

void kafka_status_store::send(const std::string& key, const std::optional<std::string>& value) {
  // A lost status write is repaired by the next one; nothing waits for it.
  log_->send_async(key, value, [](const std::string&) {});
}

void kafka_status_store::on_record(const clients::log_record& r) {
  auto record = records::parse_status_record(r.key, r.value);
  std::lock_guard lock(mutex_);
  std::visit(
      [this](const auto& rec) {
        using T = std::decay_t<decltype(rec)>;
        if constexpr (std::is_same_v<T, records::connector_status_record>) {
          if (rec.value) {
            connectors_[rec.connector] = *rec.value;
          } else {
            connectors_.erase(rec.connector);
          }
        } else if constexpr (std::is_same_v<T, records::task_status_record>) {
          if (rec.value) {
            tasks_[rec.connector][rec.task] = *rec.value;
          } else if (auto it = tasks_.find(rec.connector); it != tasks_.end()) {
            it->second.erase(rec.task);
          }
        } else if constexpr (std::is_same_v<T, records::topic_status_record>) {
          if (rec.active) {
            topics_[rec.connector].insert(rec.topic);
          } else if (topics_[rec.connector].erase(rec.topic) > 0) {
            ++topics_generation_[rec.connector];  // reset by some worker: report again
          }
        }
      },
      record);
}

void kafka_status_store::put_connector(const std::string& name, const status& s) {
  {
    std::lock_guard lock(mutex_);
    connectors_[name] = s;
  }
  send(records::connector_status_key(name), records::status_value(s));
}

void kafka_status_store::put_task(const std::string& name, int task, const status& s) {
  {
    std::lock_guard lock(mutex_);
    tasks_[name][task] = s;
  }
  send(records::task_status_key(name, task), records::status_value(s));
}

std::optional<status> kafka_status_store::connector(const std::string& name) {
  std::lock_guard lock(mutex_);
  auto it = connectors_.find(name);
  if (it == connectors_.end()) return std::nullopt;
  return it->second;
}

std::map<int, status> kafka_status_store::tasks(const std::string& name) {
  std::lock_guard lock(mutex_);
  auto it = tasks_.find(name);
  return it == tasks_.end() ? std::map<int, status>{} : it->second;
}

void kafka_status_store::remove(const std::string& name) {
  std::vector<std::string> keys{records::connector_status_key(name)};
  {
    std::lock_guard lock(mutex_);
    for (const auto& [task, s] : tasks_[name]) keys.push_back(records::task_status_key(name, task));
    for (const auto& t : topics_[name]) keys.push_back(records::topic_status_key(t, name));
    connectors_.erase(name);
    tasks_.erase(name);
    topics_.erase(name);
    ++topics_generation_[name];
  }
  for (const auto& k : keys) send(k, std::nullopt);
}

void kafka_status_store::remove_tasks_from(const std::string& name, int first_task) {
  std::vector<std::string> keys;
  {
    std::lock_guard lock(mutex_);
    auto it = tasks_.find(name);
    if (it == tasks_.end()) return;
    for (auto t = it->second.lower_bound(first_task); t != it->second.end();) {
      keys.push_back(records::task_status_key(name, t->first));
      t = it->second.erase(t);
    }
  }
  for (const auto& k : keys) send(k, std::nullopt);
}

void kafka_status_store::put_topic(const std::string& name, const std::string& topic) {
  {
    std::lock_guard lock(mutex_);
    topics_[name].insert(topic);
  }
  send(records::topic_status_key(topic, name),
       records::topic_status_value(topic, name, 0, now_ms()));
}

std::set<std::string> kafka_status_store::topics(const std::string& name) {
  std::lock_guard lock(mutex_);
  auto it = topics_.find(name);
  return it == topics_.end() ? std::set<std::string>{} : it->second;
}

void kafka_status_store::reset_topics(const std::string& name) {
  std::vector<std::string> keys;
  {
    std::lock_guard lock(mutex_);
    for (const auto& t : topics_[name]) keys.push_back(records::topic_status_key(t, name));
    topics_.erase(name);
    ++topics_generation_[name];
  }
  for (const auto& k : keys) send(k, std::nullopt);
}

std::uint64_t kafka_status_store::topics_generation(const std::string& name) {
  std::lock_guard lock(mutex_);
  return topics_generation_[name];
}

}  // namespace ferry::storage
