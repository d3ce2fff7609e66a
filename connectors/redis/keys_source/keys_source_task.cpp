#include "keys_source/keys_source_task.hpp"

#include <algorithm>
#include <set>
#include <utility>

#include "ferry/api/errors.hpp"

namespace ferry::redis {

using clock = std::chrono::steady_clock;

namespace {

const api::schema_ptr& key_schema() {
  static const api::schema_ptr schema =
      std::make_shared<const json>(json{{"type", "string"}, {"optional", false}});
  return schema;
}

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// How often a cluster's masters are listed again (failovers, resharding).
constexpr auto discovery_interval = std::chrono::seconds(30);

}  // namespace

keys_source_task::node keys_source_task::make_node(std::string host, int port) const {
  node n;
  n.endpoint = config_.endpoint;
  n.endpoint.cluster = false;
  n.endpoint.host = std::move(host);
  n.endpoint.port = port;
  n.control = std::make_unique<clients::redis_connection>(n.endpoint);
  n.subscriber = std::make_unique<clients::redis_subscriber>(
      n.endpoint, std::vector<std::string>{}, std::vector<std::string>{prefix_ + config_.pattern});
  return n;
}

void keys_source_task::start(const api::config_map& config, api::source_task_context& context) {
  config_ = keys_source_config::parse(config);
  context_ = &context;
  prefix_ = keys::keyspace_prefix(config_.endpoint.database);
  reader_ = clients::make_redis_client(config_.endpoint);
  scan_due_ = config_.snapshot;
  // Subscribe now, so changes made from here on are seen; a refused login or a server without
  // keyspace notifications fails the start. An unreachable server is retried by poll().
  try {
    ensure_connected();
  } catch (const clients::redis_io_error&) {
  }
}

// The servers to subscribe to: the endpoint, or every master of the cluster (CLUSTER SLOTS,
// asked of the known nodes and then the seed until one answers).
void keys_source_task::discover_nodes() {
  next_discovery_ = clock::now() + discovery_interval;
  rediscover_ = false;
  if (!config_.endpoint.cluster) {
    if (nodes_.empty()) nodes_.push_back(make_node(config_.endpoint.host, config_.endpoint.port));
    return;
  }
  std::vector<clients::redis_endpoint> ask;
  for (const auto& n : nodes_) ask.push_back(n.endpoint);
  ask.push_back(config_.endpoint);
  ask.back().cluster = false;
  std::string last_error = "no node to ask";
  for (const auto& ep : ask) {
    std::set<std::pair<std::string, int>> masters;
    try {
      clients::redis_connection c(ep);
      auto reply = c.command({"CLUSTER", "SLOTS"});
      auto r = reply.view();
      if (r.is_error() || !r.is_array()) {
        last_error = "CLUSTER SLOTS: " + r.describe();
        continue;
      }
      for (std::size_t i = 0; i < r.size(); ++i) {
        auto range = r[i];
        if (range.size() < 3 || range[2].size() < 2) continue;
        auto host = std::string(range[2][0].str());
        if (host.empty() || host == "?") host = ep.host;
        masters.emplace(host, static_cast<int>(range[2][1].integer()));
      }
    } catch (const clients::redis_io_error& e) {
      last_error = e.what();
      continue;
    }
    if (masters.empty()) {
      last_error = "CLUSTER SLOTS at " + ep.address() + " lists no master";
      continue;
    }
    std::set<std::pair<std::string, int>> current;
    for (const auto& n : nodes_) current.emplace(n.endpoint.host, n.endpoint.port);
    if (current == masters) return;
    std::vector<node> next;
    for (const auto& [host, port] : masters) {
      auto it = std::find_if(nodes_.begin(), nodes_.end(), [&](const node& n) {
        return n.endpoint.host == host && n.endpoint.port == port;
      });
      next.push_back(it != nodes_.end() ? std::move(*it) : make_node(host, port));
    }
    nodes_ = std::move(next);
    // Keys may have moved to masters that were not listened to: look at everything again.
    if (subscribed_once_) scan_due_ = true;
    return;
  }
  throw clients::redis_io_error("Redis Cluster at " + config_.endpoint.address() +
                                ": cannot list its masters: " + last_error);
}

void keys_source_task::check_notifications(node& n) {
  const auto at = "Redis at " + n.endpoint.address();
  if (!config_.notify_events.empty()) {
    auto reply =
        n.control->command({"CONFIG", "SET", "notify-keyspace-events", config_.notify_events});
    if (reply.view().is_error()) {
      throw api::connect_error(at + " refused CONFIG SET notify-keyspace-events " +
                               config_.notify_events + ": " + std::string(reply.view().str()) +
                               ". Set notify-keyspace-events in the server's configuration and "
                               "leave redis.keys.notify.events empty.");
    }
  }
  auto reply = n.control->command({"CONFIG", "GET", "notify-keyspace-events"});
  auto r = reply.view();
  // A server that does not let us read its configuration (managed services rename CONFIG) is
  // trusted to have notifications on.
  if (r.is_error() || !r.is_array() || r.size() < 2) return;
  auto flags = std::string(r[1].str());
  auto missing = keys::missing_notify_flags(flags);
  if (!missing.empty()) {
    throw api::connect_error(
        at +
        " does not publish the keyspace notifications key capture needs: "
        "notify-keyspace-events is '" +
        flags + "', missing '" + missing +
        "'. Set it to KA (CONFIG SET notify-keyspace-events KA, or in redis.conf), or set "
        "redis.keys.notify.events=KA to let the connector set it.");
  }
}

void keys_source_task::ensure_connected() {
  if (nodes_.empty() || rediscover_ || clock::now() >= next_discovery_) discover_nodes();
  for (auto& n : nodes_) {
    if (n.subscriber->connected()) continue;
    // Whatever changed while nobody listened is found by a reconciling scan.
    if (subscribed_once_) scan_due_ = true;
    try {
      check_notifications(n);
      n.subscriber->connect();
    } catch (const clients::redis_io_error&) {
      n.control->close();
      rediscover_ = config_.endpoint.cluster;
      throw;
    }
  }
  subscribed_once_ = true;
  if (scan_due_) start_scan();
}

void keys_source_task::start_scan() {
  scan_due_ = false;
  ++generation_;
  reconciling_ = true;
  for (auto& n : nodes_) {
    n.cursor = "0";
    n.scanning = true;
  }
}

void keys_source_task::enqueue(std::string key, const std::string& event) {
  auto [it, inserted] = pending_.try_emplace(key, event);
  if (inserted) {
    queue_.push_back(std::move(key));
  } else if (event != "scan") {
    it->second = event;  // the latest notification names the event
  }
}

void keys_source_task::scan_step() {
  bool any = false;
  auto count = std::to_string(config_.batch_size);
  for (auto& n : nodes_) {
    if (!n.scanning) continue;
    any = true;
    if (queue_.size() >= static_cast<std::size_t>(config_.batch_size)) return;
    auto reply = n.control->command({"SCAN", n.cursor, "MATCH", config_.pattern, "COUNT", count});
    auto r = reply.view();
    if (r.is_error() || r.size() < 2) {
      throw api::connect_error("SCAN on Redis at " + n.endpoint.address() +
                               " failed: " + r.describe());
    }
    n.cursor = std::string(r[0].str());
    for (std::size_t i = 0; i < r[1].size(); ++i) enqueue(std::string(r[1][i].str()), "scan");
    if (n.cursor == "0") n.scanning = false;
  }
  if (any && reconciling_ &&
      std::none_of(nodes_.begin(), nodes_.end(), [](const node& n) { return n.scanning; })) {
    reconciling_ = false;
    // Known keys the scan did not see (nor a read since it began): gone, or moved. Read them.
    for (const auto& [key, k] : known_) {
      if (k.generation != generation_) enqueue(key, "scan");
    }
  }
}

void keys_source_task::read_notifications(clock::time_point deadline) {
  for (auto& n : nodes_) {
    messages_.clear();
    try {
      n.subscriber->read(messages_, static_cast<std::size_t>(config_.batch_size) * 4, deadline);
    } catch (const clients::redis_io_error&) {
      for (auto& m : messages_) {
        if (auto key = keys::key_of_channel(m.channel, prefix_))
          enqueue(std::string(*key), m.payload);
      }
      rediscover_ = config_.endpoint.cluster;
      throw;
    }
    for (auto& m : messages_) {
      if (auto key = keys::key_of_channel(m.channel, prefix_)) {
        enqueue(std::string(*key), m.payload);
      }
    }
    deadline = clock::now();  // only the first node may wait
  }
}

std::optional<std::uint64_t> keys_source_task::last_written(const std::string& key) {
  if (auto it = known_.find(key); it != known_.end()) return it->second.digest;
  if (auto it = in_flight_.find(key); it != in_flight_.end()) return it->second.digest;
  auto stored = context_->offset(json{{"key", key}});
  if (!stored) return std::nullopt;
  return keys::parse_digest(*stored);
}

void keys_source_task::read_keys(std::vector<api::source_record>& out) {
  std::vector<std::pair<std::string, std::string>> batch;  // key, event
  while (!queue_.empty() && batch.size() < static_cast<std::size_t>(config_.batch_size)) {
    auto key = std::move(queue_.front());
    queue_.pop_front();
    auto it = pending_.find(key);
    batch.emplace_back(std::move(key), std::move(it->second));
    pending_.erase(it);
  }
  if (batch.empty()) return;
  pipeline_.clear();
  const auto script = keys::read_script();
  for (const auto& [key, event] : batch) pipeline_.add({"EVAL", script, "1", key});
  std::vector<clients::redis_reply> replies;
  try {
    replies = reader_->execute(pipeline_);
  } catch (const clients::redis_io_error&) {
    // Nothing was written: read the same keys again next time, first.
    for (auto it = batch.rbegin(); it != batch.rend(); ++it) {
      if (pending_.try_emplace(it->first, it->second).second) queue_.push_front(it->first);
    }
    throw;
  }
  const auto ts = now_ms();
  for (std::size_t i = 0; i < batch.size(); ++i) {
    auto& [raw_key, event] = batch[i];
    auto reply = replies[i].view();
    if (keys::is_retry_reply(reply)) {  // the type changed under the script
      enqueue(raw_key, event);
      continue;
    }
    auto state = keys::decode_state(raw_key, reply);
    auto key = state.value["key"].get<std::string>();
    auto last = last_written(key);
    if (state.exists) {
      known_[key] = {state.digest, generation_};
    } else {
      known_.erase(key);
    }
    // Unchanged since the last record; an absent key never written needs no deletion record.
    if (last ? *last == state.digest : !state.exists) continue;
    if (!state.exists && !keys::is_removal_event(event)) event = "del";
    auto& flight = in_flight_[key];
    flight.digest = state.digest;
    ++flight.count;
    api::source_record r;
    r.source_partition = json{{"key", key}};
    r.source_offset = json{{"digest", keys::digest_hex(state.digest)}};
    r.topic = config_.topic;
    r.key = key;
    r.key_schema = key_schema();
    state.value["event"] = keys::to_utf8(event);
    r.value = std::move(state.value);
    r.value_schema = keys::key_value_schema();
    r.timestamp_ms = ts;
    out.push_back(std::move(r));
  }
}

std::vector<api::source_record> keys_source_task::poll() {
  ensure_connected();
  std::vector<api::source_record> out;
  const bool busy = !queue_.empty() || reconciling_;
  read_notifications(clock::now() +
                     (busy ? std::chrono::milliseconds(0) : std::chrono::milliseconds(500)));
  if (reconciling_) scan_step();
  read_keys(out);
  return out;
}

void keys_source_task::commit_record(const api::source_record& record) {
  if (record.source_partition.is_object() && record.source_partition.contains("key")) {
    acked_.push_back(record.source_partition["key"].get<std::string>());
  }
}

// The offsets of every record acknowledged before this call are in the offset store now.
void keys_source_task::commit() {
  for (const auto& key : acked_) {
    auto it = in_flight_.find(key);
    if (it != in_flight_.end() && --it->second.count == 0) in_flight_.erase(it);
  }
  acked_.clear();
}

void keys_source_task::stop() {
  nodes_.clear();
  reader_.reset();
}

}  // namespace ferry::redis
