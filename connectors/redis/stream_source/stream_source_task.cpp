#include "stream_source/stream_source_task.hpp"

#include <algorithm>
#include <set>
#include <thread>

#include "ferry/api/errors.hpp"
#include "ferry/api/json_text.hpp"
#include "stream_source/stream_ids.hpp"

namespace ferry::redis {

using clients::redis_reply_view;
using std::chrono::steady_clock;

const api::schema_ptr& stream_value_schema() {
  static const api::schema_ptr schema =
      std::make_shared<const json>(json::parse(R"({"type":"struct","fields":[
    {"type":"string","optional":false,"field":"id"},
    {"type":"string","optional":false,"field":"stream"},
    {"type":"map","keys":{"type":"string","optional":false},
     "values":{"type":"string","optional":false},"optional":false,"field":"body"}],
    "optional":false})"));
  return schema;
}

namespace {

const api::schema_ptr& key_schema(bool optional) {
  static const api::schema_ptr required =
      std::make_shared<const json>(json{{"type", "string"}, {"optional", false}});
  static const api::schema_ptr nullable =
      std::make_shared<const json>(json{{"type", "string"}, {"optional", true}});
  return optional ? nullable : required;
}

const api::schema_ptr& body_schema() {
  static const api::schema_ptr schema = std::make_shared<const json>(json::parse(
      R"({"type":"map","keys":{"type":"string","optional":false},
          "values":{"type":"string","optional":false},"optional":false})"));
  return schema;
}

// Server states that pass; every other error reply is a problem retrying cannot fix.
bool retriable_reply(std::string_view error) {
  for (std::string_view p : {"OOM", "LOADING", "BUSY ", "TRYAGAIN", "CLUSTERDOWN", "MASTERDOWN",
                             "READONLY", "MOVED", "ASK", "NOREPLICAS"}) {
    if (error.starts_with(p)) return true;
  }
  return false;
}

void check(redis_reply_view r, const std::string& what) {
  if (!r.is_error()) return;
  auto message = what + " failed: " + std::string(r.str());
  if (retriable_reply(r.str())) throw api::retriable_error(message);
  throw api::connect_error(message);
}

bool is_nogroup(redis_reply_view r) {
  return r.is_error() && r.str().starts_with("NOGROUP");
}

constexpr std::size_t k_max_ack_ids = 2000;  // ids per XACK command
constexpr int k_scan_steps_per_poll = 8;

}  // namespace

void stream_source_task::start(const api::config_map& config, api::source_task_context& context) {
  config_ = stream_source_config::parse(config);
  context_ = &context;
  write_values_ = context.values() == api::value_form::schemaless_json;
  connection_ = make_client_(config_.endpoint);
  consumer_ = config_.consumer_name();
  for (const auto& s : config_.streams) add_stream(s, true);
  rebuild_groups();
  scan_.next = steady_clock::now();
  next_claim_ = steady_clock::now();
  // Reachability problems surface on the first poll() as retriable errors; try early so the
  // log says so at start.
  try {
    connection_->connect();
  } catch (const clients::redis_io_error&) {
  }
}

void stream_source_task::add_stream(const std::string& key, bool listed) {
  if (auto it = index_.find(key); it != index_.end()) {
    auto& st = streams_[it->second];
    if (!st.active) {  // vanished earlier, back now
      st.active = true;
      st.group_ready = false;
      st.pending_from = "0";
    }
    return;
  }
  stream_state st;
  st.key = key;
  st.topic = config_.topic_for(key);
  st.partition = json{{"stream", key}};
  if (std::string k; api::append_json_string(k, key))
    st.value_middle = ",\"stream\":" + k + ",\"body\":";
  st.listed = listed;
  auto stored = context_->offset(st.partition);
  if (stored && stored->is_object() && stored->contains("offset") &&
      (*stored)["offset"].is_string()) {
    st.next_id = (*stored)["offset"].get<std::string>();
    st.acked_id = st.high_id = st.next_id;
  } else if (!listed && scan_.completed_once) {
    // Found by a later scan: the stream appeared after this task started, so "$" (new
    // entries only) would skip what was written before the scan saw it.
    st.next_id = "0-0";
  } else {
    st.next_id = config_.start_id;
  }
  if (config_.mode == stream_read_mode::group) st.pending_from = "0";
  index_.emplace(key, streams_.size());
  streams_.push_back(std::move(st));
}

void stream_source_task::rebuild_groups() {
  std::vector<std::string> keys;
  std::vector<std::size_t> positions;
  for (std::size_t i = 0; i < streams_.size(); ++i) {
    if (!streams_[i].active) continue;
    keys.push_back(streams_[i].key);
    positions.push_back(i);
  }
  read_groups_ = xread_groups(keys, config_.endpoint.cluster);
  for (auto& g : read_groups_) {
    for (auto& p : g) p = positions[p];
  }
}

std::vector<std::string> stream_source_task::cluster_masters() {
  auto reply = connection_->command({"CLUSTER", "SLOTS"});
  auto v = reply.view();
  check(v, "CLUSTER SLOTS");
  std::set<std::string> out;
  for (std::size_t i = 0; i < v.size(); ++i) {
    auto range = v[i];
    if (range.size() < 3 || range[2].size() < 2) continue;
    std::string host(range[2][0].str());
    if (host.empty()) host = config_.endpoint.host;
    out.insert(host + ":" + std::to_string(range[2][1].integer()));
  }
  if (out.empty()) throw api::retriable_error("CLUSTER SLOTS named no master");
  return {out.begin(), out.end()};
}

// One step of a full SCAN (of every master on a cluster); when it completes, the streams that
// fall to this task and are not named in redis.stream.name are added.
void stream_source_task::scan_step() {
  if (!scan_.active) {
    scan_.nodes = config_.endpoint.cluster ? cluster_masters() : std::vector<std::string>{""};
    scan_.cursor = "0";
    scan_.found.clear();
    scan_.active = true;
  }
  for (int step = 0; step < k_scan_steps_per_poll && scan_.active; ++step) {
    const std::string node = scan_.nodes.back();
    clients::redis_client* client = connection_.get();
    if (!node.empty()) {
      auto& c = scan_connections_[node];
      if (!c) {
        auto endpoint = config_.endpoint;
        auto colon = node.rfind(':');
        endpoint.host = node.substr(0, colon);
        endpoint.port = std::stoi(node.substr(colon + 1));
        endpoint.cluster = false;
        c = make_client_(endpoint);
      }
      client = c.get();
    }
    auto reply = client->command(
        {"SCAN", scan_.cursor, "MATCH", config_.pattern, "COUNT", "1000", "TYPE", "stream"});
    auto v = reply.view();
    check(v, "SCAN for redis.stream.pattern " + config_.pattern);
    if (v.size() != 2) throw api::connect_error("SCAN: unexpected reply " + v.describe());
    scan_.cursor = std::string(v[0].str());
    for (std::size_t i = 0; i < v[1].size(); ++i) scan_.found.emplace_back(v[1][i].str());
    if (scan_.cursor == "0") {
      scan_.nodes.pop_back();
      if (scan_.nodes.empty()) scan_.active = false;
    }
  }
  if (scan_.active) return;
  std::set<std::string> listed(config_.listed.begin(), config_.listed.end());
  std::sort(scan_.found.begin(), scan_.found.end());  // a stable order of streams_ over runs
  bool added = false;
  for (const auto& key : scan_.found) {
    if (listed.contains(key)) continue;
    if (!task_owns_stream(key, config_.task_index, config_.task_count)) continue;
    auto it = index_.find(key);
    if (it != index_.end() && streams_[it->second].active) continue;
    add_stream(key, false);
    added = true;
  }
  if (added) rebuild_groups();
  scan_.completed_once = true;
  scan_.found.clear();
  scan_.next = steady_clock::now() + config_.rescan;
}

// "$" means "entries added after the task first looked": pin it to the stream's current last
// id, so a later XREAD (or a restart before anything was read) does not skip entries.
void stream_source_task::pin_new_only_ids() {
  std::vector<std::size_t> todo;
  pipeline_.clear();
  for (std::size_t i = 0; i < streams_.size(); ++i) {
    if (streams_[i].next_id != "$") continue;
    pipeline_.add({"XREVRANGE", streams_[i].key, "+", "-", "COUNT", "1"});
    todo.push_back(i);
  }
  if (todo.empty()) return;
  auto replies = connection_->execute(pipeline_);
  for (std::size_t k = 0; k < todo.size(); ++k) {
    auto v = replies[k].view();
    auto& st = streams_[todo[k]];
    check(v, "XREVRANGE " + st.key);
    st.next_id = v.size() > 0 ? std::string(v[0][0].str()) : "0-0";
  }
}

// Creates the consumer group where it is missing: at the last id Kafka acknowledged (or the
// stored offset), else at redis.stream.offset. A stream found by the pattern that no longer
// exists is dropped (MKSTREAM would bring it back empty); a named one is created, as
// redis-kafka-connect does.
void stream_source_task::ensure_groups() {
  std::vector<std::size_t> todo;
  pipeline_.clear();
  for (std::size_t i = 0; i < streams_.size(); ++i) {
    auto& st = streams_[i];
    if (!st.active || st.group_ready) continue;
    const std::string& at = st.acked_id.empty() ? st.next_id : st.acked_id;
    if (st.listed) {
      pipeline_.add({"XGROUP", "CREATE", st.key, config_.group, at, "MKSTREAM"});
    } else {
      pipeline_.add({"XGROUP", "CREATE", st.key, config_.group, at});
    }
    todo.push_back(i);
  }
  if (todo.empty()) return;
  auto replies = connection_->execute(pipeline_);
  bool dropped = false;
  for (std::size_t k = 0; k < todo.size(); ++k) {
    auto v = replies[k].view();
    auto& st = streams_[todo[k]];
    if (!v.is_error()) {  // created now: nothing can be pending in it
      st.group_ready = true;
      st.pending_from.reset();
    } else if (v.str().starts_with("BUSYGROUP")) {
      st.group_ready = true;
    } else if (!st.listed && v.str().find("key to exist") != std::string_view::npos) {
      st.active = false;
      dropped = true;
    } else {
      check(v, "XGROUP CREATE " + st.key + " " + config_.group);
    }
  }
  if (dropped) rebuild_groups();
}

std::size_t stream_source_task::ack_count() const {
  std::size_t n = 0;
  for (const auto& st : streams_) n += st.to_ack.size();
  return n;
}

void stream_source_task::add_acks(clients::redis_pipeline& p) {
  for (const auto& st : streams_) {
    for (std::size_t from = 0; from < st.to_ack.size(); from += k_max_ack_ids) {
      auto n = std::min(k_max_ack_ids, st.to_ack.size() - from);
      p.begin(3 + n);
      p.arg("XACK");
      p.arg(st.key);
      p.arg(config_.group);
      for (std::size_t i = from; i < from + n; ++i) p.arg(st.to_ack[i]);
    }
  }
}

// After a pipeline with add_acks()'s commands at its front came back: a NOGROUP there means the
// group must be created again; other errors leave the entries pending (claimed or re-read later,
// never lost).
void stream_source_task::acks_sent() {
  for (auto& st : streams_) st.to_ack.clear();
}

void stream_source_task::take_entries(std::size_t s, redis_reply_view entries,
                                      std::vector<api::source_record>& out) {
  auto& st = streams_[s];
  bool ack_now =
      config_.mode == stream_read_mode::group && config_.delivery == stream_delivery::at_most_once;
  out.reserve(out.size() + entries.size());
  for (std::size_t e = 0; e < entries.size(); ++e) {
    auto entry = entries[e];
    if (!entry.is_array() || entry.size() < 2) continue;
    std::string id(entry[0].str());
    auto fields = entry[1];
    if (config_.mode == stream_read_mode::xread) st.next_id = id;
    if (!fields.is_array()) {  // deleted from the stream while pending: nothing to deliver
      st.to_ack.push_back(std::move(id));
      continue;
    }
    if (ack_now) st.to_ack.push_back(id);
    if (write_values_) {
      if (auto r = make_written_record(st, id, fields)) {
        out.push_back(std::move(*r));
        continue;
      }
    }
    json body = json::object();
    reserve_members(body, fields.size() / 2);
    for (std::size_t f = 0; f + 1 < fields.size(); f += 2) {
      body[std::string(fields[f].str())] = std::string(fields[f + 1].str());
    }
    out.push_back(make_record(st, std::move(id), std::move(body)));
  }
}

// An XREAD/XREADGROUP reply: [[stream, entries], ...]. In the pending pass, a stream with no
// entries left (or absent from the reply) has no more of this consumer's pending entries.
void stream_source_task::take_stream_replies(redis_reply_view reply,
                                             std::vector<api::source_record>& out,
                                             bool pending_pass) {
  for (std::size_t i = 0; i < reply.size(); ++i) {
    auto stream_reply = reply[i];
    if (stream_reply.size() < 2) continue;
    auto it = index_.find(std::string(stream_reply[0].str()));
    if (it == index_.end()) continue;
    auto entries = stream_reply[1];
    if (pending_pass) {
      auto& st = streams_[it->second];
      if (entries.size() == 0) {
        st.pending_from.reset();
      } else {
        st.pending_from = std::string(entries[entries.size() - 1][0].str());
      }
    }
    take_entries(it->second, entries, out);
  }
}

api::source_record stream_source_task::record_for(stream_state& st, const std::string& id) {
  api::source_record r;
  r.source_partition = st.partition;
  // The offset never goes back (entries claimed from other consumers are older than what this
  // consumer read already); "entry" then names the entry itself, for its XACK.
  r.source_offset = json::object();
  auto& offset = r.source_offset.get_ref<json::object_t&>();
  if (st.high_id.empty() || id_after(id, st.high_id)) {
    st.high_id = id;
    offset.emplace_back("offset", id);
  } else {
    offset.reserve(2);
    offset.emplace_back("offset", st.high_id);
    offset.emplace_back("entry", id);
  }
  r.topic = st.topic;
  switch (config_.key_layout) {
    case stream_key_layout::id:
      r.key = id;
      r.key_schema = key_schema(false);
      break;
    case stream_key_layout::stream:
      r.key = st.key;
      r.key_schema = key_schema(false);
      break;
    case stream_key_layout::none:
      break;
    case stream_key_layout::body_field:
      r.key_schema = key_schema(true);  // the key itself comes from the body
      break;
  }
  return r;
}

api::source_record stream_source_task::make_record(stream_state& st, std::string id, json body) {
  auto r = record_for(st, id);
  if (config_.key_layout == stream_key_layout::body_field) {
    auto f = body.find(config_.key_field);
    if (f != body.end()) r.key = *f;
  }
  if (config_.value_layout == stream_value_layout::body) {
    r.value = std::move(body);
    r.value_schema = body_schema();
  } else {
    json value = json::object();
    value["id"] = std::move(id);
    value["stream"] = st.key;
    value["body"] = std::move(body);
    r.value = std::move(value);
    r.value_schema = stream_value_schema();
  }
  return r;
}

std::optional<api::source_record> stream_source_task::make_written_record(stream_state& st,
                                                                          const std::string& id,
                                                                          redis_reply_view fields) {
  const bool whole = config_.value_layout != stream_value_layout::body;
  if (whole && st.value_middle.empty()) return std::nullopt;
  const std::size_t n = fields.size() / 2;
  // A field name given twice keeps only its last value in the converter's object.
  constexpr std::size_t k_max_compared = 16;
  if (n > k_max_compared) return std::nullopt;
  std::size_t size = whole ? id.size() + st.value_middle.size() + 12 : 2;
  for (std::size_t f = 0; f < 2 * n; f += 2) {
    auto name = fields[f].str();
    for (std::size_t g = 0; g < f; g += 2) {
      if (fields[g].str() == name) return std::nullopt;
    }
    size += name.size() + fields[f + 1].str().size() + 6;
  }
  std::string text;
  text.reserve(size);
  if (whole) {
    text += "{\"id\":\"";
    text += id;  // digits and a dash: nothing to escape
    text += '"';
    text += st.value_middle;
  }
  text += '{';
  std::optional<std::string_view> key_field;
  for (std::size_t f = 0; f < 2 * n; f += 2) {
    if (f > 0) text += ',';
    auto name = fields[f].str();
    auto value = fields[f + 1].str();
    if (!api::append_json_string(text, name)) return std::nullopt;
    text += ':';
    if (!api::append_json_string(text, value)) return std::nullopt;
    if (config_.key_layout == stream_key_layout::body_field && name == config_.key_field) {
      key_field = value;
    }
  }
  text += '}';
  if (whole) text += '}';
  auto r = record_for(st, id);
  if (key_field) r.key = std::string(*key_field);
  r.value_bytes = std::move(text);
  return r;
}

// Group mode, after a start: this consumer's own pending entries (read by an earlier run, maybe
// never in Kafka) come first.
void stream_source_task::read_own_pending(std::vector<api::source_record>& out) {
  pipeline_.clear();
  add_acks(pipeline_);
  auto acks = pipeline_.size();
  std::vector<std::vector<std::size_t>> commands;
  auto count = std::to_string(config_.batch_size);
  for (const auto& g : read_groups_) {
    std::vector<std::size_t> todo;
    for (auto p : g) {
      if (streams_[p].pending_from && streams_[p].group_ready) todo.push_back(p);
    }
    if (todo.empty()) continue;
    pipeline_.begin(7 + 2 * todo.size());
    for (std::string_view a : {"XREADGROUP", "GROUP"}) pipeline_.arg(a);
    pipeline_.arg(config_.group);
    pipeline_.arg(consumer_);
    pipeline_.arg("COUNT");
    pipeline_.arg(count);
    pipeline_.arg("STREAMS");
    for (auto p : todo) pipeline_.arg(streams_[p].key);
    for (auto p : todo) pipeline_.arg(*streams_[p].pending_from);
    commands.push_back(std::move(todo));
  }
  if (commands.empty() && acks == 0) return;
  auto replies = connection_->execute(pipeline_);
  acks_sent();
  for (std::size_t c = 0; c < commands.size(); ++c) {
    auto v = replies[acks + c].view();
    if (is_nogroup(v)) {
      for (auto p : commands[c]) streams_[p].group_ready = false;
      continue;
    }
    check(v, "XREADGROUP (pending entries of " + consumer_ + ")");
    std::vector<std::string> before;
    for (auto p : commands[c]) before.push_back(streams_[p].pending_from.value_or(""));
    take_stream_replies(v, out, true);
    for (std::size_t k = 0; k < commands[c].size(); ++k) {
      auto& st = streams_[commands[c][k]];
      if (st.pending_from && *st.pending_from == before[k]) st.pending_from.reset();
    }
  }
}

// Entries another consumer of the group left pending longer than redis.stream.claim.idle.ms
// (a task that died, or a consumer of an earlier task layout) are claimed and delivered. XPENDING
// with IDLE lists them by consumer, so this task never claims its own in-flight entries (which
// XAUTOCLAIM would, when Kafka is slow to acknowledge).
void stream_source_task::claim_idle(std::vector<api::source_record>& out) {
  auto now = steady_clock::now();
  auto interval = std::clamp(config_.claim_idle / 2, std::chrono::milliseconds(100),
                             std::chrono::milliseconds(5000));
  next_claim_ = now + interval;
  auto idle = std::to_string(config_.claim_idle.count());
  auto count = std::to_string(config_.batch_size);
  std::vector<std::size_t> todo;
  pipeline_.clear();
  for (std::size_t i = 0; i < streams_.size(); ++i) {
    auto& st = streams_[i];
    if (!st.active || !st.group_ready || st.pending_from) continue;
    pipeline_.add({"XPENDING", st.key, config_.group, "IDLE", idle, st.claim_from, "+", count});
    todo.push_back(i);
  }
  if (todo.empty()) return;
  auto replies = connection_->execute(pipeline_);
  std::vector<std::pair<std::size_t, std::vector<std::string>>> claims;
  for (std::size_t k = 0; k < todo.size(); ++k) {
    auto v = replies[k].view();
    auto& st = streams_[todo[k]];
    if (is_nogroup(v)) {
      st.group_ready = false;
      continue;
    }
    check(v, "XPENDING " + st.key);
    std::vector<std::string> ids;
    for (std::size_t e = 0; e < v.size(); ++e) {
      auto pending = v[e];
      if (pending.size() < 2) continue;
      if (pending[1].str() != consumer_) ids.emplace_back(pending[0].str());
    }
    if (v.size() >= static_cast<std::size_t>(config_.batch_size) && v.size() > 0) {
      st.claim_from = "(" + std::string(v[v.size() - 1][0].str());
      next_claim_ = now;  // more to look at
    } else {
      st.claim_from = "-";
    }
    if (!ids.empty()) claims.emplace_back(todo[k], std::move(ids));
  }
  if (claims.empty()) return;
  pipeline_.clear();
  for (const auto& [s, ids] : claims) {
    pipeline_.begin(5 + ids.size());
    pipeline_.arg("XCLAIM");
    pipeline_.arg(streams_[s].key);
    pipeline_.arg(config_.group);
    pipeline_.arg(consumer_);
    pipeline_.arg(idle);
    for (const auto& id : ids) pipeline_.arg(id);
  }
  replies = connection_->execute(pipeline_);
  for (std::size_t k = 0; k < claims.size(); ++k) {
    auto v = replies[k].view();
    auto& st = streams_[claims[k].first];
    if (is_nogroup(v)) {
      st.group_ready = false;
      continue;
    }
    check(v, "XCLAIM " + st.key);
    take_entries(claims[k].first, v, out);
  }
}

void stream_source_task::read_new(std::vector<api::source_record>& out) {
  const bool group = config_.mode == stream_read_mode::group;
  pipeline_.clear();
  add_acks(pipeline_);
  auto acks = pipeline_.size();
  auto count = std::to_string(config_.batch_size);
  // One command blocks for the whole block time; several (one per slot on a cluster) block
  // only when the previous read found nothing, each for its share, so one idle slot does not
  // hold up the others.
  bool block = read_groups_.size() == 1 || last_read_empty_;
  auto block_ms = read_groups_.size() <= 1
                      ? config_.block.count()
                      : std::max<long long>(
                            1, config_.block.count() / static_cast<long long>(read_groups_.size()));
  auto block_text = std::to_string(block_ms);
  std::vector<const std::vector<std::size_t>*> commands;
  for (const auto& g : read_groups_) {
    std::size_t ready = 0;
    for (auto p : g) ready += group ? streams_[p].group_ready : 1;
    if (ready != g.size()) continue;  // created on the next poll
    std::size_t argc = (group ? 7 : 4) + (block ? 2 : 0) +
                       (group && config_.delivery == stream_delivery::at_most_once ? 1 : 0) +
                       2 * g.size();
    pipeline_.begin(argc);
    if (group) {
      for (std::string_view a : {"XREADGROUP", "GROUP"}) pipeline_.arg(a);
      pipeline_.arg(config_.group);
      pipeline_.arg(consumer_);
    } else {
      pipeline_.arg("XREAD");
    }
    pipeline_.arg("COUNT");
    pipeline_.arg(count);
    if (block) {
      pipeline_.arg("BLOCK");
      pipeline_.arg(block_text);
    }
    if (group && config_.delivery == stream_delivery::at_most_once) pipeline_.arg("NOACK");
    pipeline_.arg("STREAMS");
    for (auto p : g) pipeline_.arg(streams_[p].key);
    for (auto p : g) pipeline_.arg(group ? std::string_view(">") : streams_[p].next_id);
    commands.push_back(&g);
  }
  if (commands.empty() && acks == 0) return;
  auto replies = connection_->execute(pipeline_);
  // XACK replies come first: a NOGROUP there means the group must be created again.
  for (std::size_t a = 0; a < acks; ++a) {
    auto v = replies[a].view();
    if (!is_nogroup(v)) continue;
    for (auto& st : streams_) {
      if (!st.to_ack.empty()) st.group_ready = false;
    }
  }
  acks_sent();
  for (std::size_t c = 0; c < commands.size(); ++c) {
    auto v = replies[acks + c].view();
    if (v.is_nil()) continue;
    if (group && is_nogroup(v)) {
      for (auto p : *commands[c]) streams_[p].group_ready = false;
      continue;
    }
    if (v.is_error()) check_read(v, *commands[c]);
    if (!group && read_groups_.size() == 1) send_read_ahead(v);
    take_stream_replies(v, out, false);
  }
  last_read_empty_ = out.empty();
}

void stream_source_task::check_read(redis_reply_view reply,
                                    const std::vector<std::size_t>& streams) const {
  check(reply, std::string(config_.mode == stream_read_mode::group ? "XREADGROUP" : "XREAD") +
                   " on " + streams_[streams.front()].key +
                   (streams.size() > 1 ? " and other streams" : ""));
}

void stream_source_task::send_read_ahead(redis_reply_view reply) {
  const auto& g = read_groups_.front();
  // Each stream goes on after its last entry in this reply (what take_entries will set).
  std::vector<std::string_view> ids;
  ids.reserve(g.size());
  for (auto p : g) ids.emplace_back(streams_[p].next_id);
  bool any = false;
  for (std::size_t i = 0; i < reply.size(); ++i) {
    auto stream_reply = reply[i];
    if (stream_reply.size() < 2 || stream_reply[1].size() == 0) continue;
    auto it = index_.find(std::string(stream_reply[0].str()));
    if (it == index_.end()) continue;
    auto k = std::find(g.begin(), g.end(), it->second);
    if (k == g.end()) continue;
    auto entries = stream_reply[1];
    ids[static_cast<std::size_t>(k - g.begin())] = entries[entries.size() - 1][0].str();
    any = true;
  }
  if (!any) return;  // nothing new now: the next poll blocks for it
  pipeline_.clear();
  pipeline_.begin(4 + 2 * g.size());
  pipeline_.arg("XREAD");
  pipeline_.arg("COUNT");
  pipeline_.arg(std::to_string(config_.batch_size));
  pipeline_.arg("STREAMS");
  for (auto p : g) pipeline_.arg(streams_[p].key);
  for (auto id : ids) pipeline_.arg(id);
  try {
    read_ahead_ = connection_->send_ahead(pipeline_);
  } catch (const clients::redis_io_error&) {
    read_ahead_ = false;  // the connection closed; the next poll reads (and reconnects) as usual
  }
}

void stream_source_task::take_read_ahead(redis_reply_view reply,
                                         std::vector<api::source_record>& out) {
  if (!reply.is_nil()) {
    if (reply.is_error()) check_read(reply, read_groups_.front());
    if (read_groups_.size() == 1) send_read_ahead(reply);
    take_stream_replies(reply, out, false);
  }
  last_read_empty_ = out.empty();
}

std::vector<api::source_record> stream_source_task::poll() {
  // The reply of an XREAD sent ahead comes first: until it is read the connection carries
  // nothing else.
  std::vector<clients::redis_reply> ahead;
  if (std::exchange(read_ahead_, false)) ahead = connection_->take_ahead();
  if (!config_.pattern.empty() && (scan_.active || steady_clock::now() >= scan_.next)) {
    scan_step();
  }
  std::vector<api::source_record> out;
  bool any = std::any_of(streams_.begin(), streams_.end(), [](auto& s) { return s.active; });
  if (!any) {
    // Nothing to read yet (the pattern matched no stream of this task): wait as a blocking
    // read would, so the task does not spin.
    std::this_thread::sleep_for(config_.block);
    return out;
  }
  if (config_.mode == stream_read_mode::xread) {
    pin_new_only_ids();
    if (ahead.size() == 1 && !read_groups_.empty()) {
      take_read_ahead(ahead.front().view(), out);
    } else {
      read_new(out);
    }
    return out;
  }
  ensure_groups();
  // Streams (at start, or found by the pattern later) whose own pending entries are not
  // re-read yet come first; claims and new entries wait for them.
  auto has_pending = [](const stream_state& s) {
    return s.active && s.group_ready && s.pending_from;
  };
  if (std::any_of(streams_.begin(), streams_.end(), has_pending)) {
    read_own_pending(out);
    if (!out.empty() || std::any_of(streams_.begin(), streams_.end(), has_pending)) return out;
  }
  if (config_.claim_idle.count() > 0 && steady_clock::now() >= next_claim_) {
    claim_idle(out);
    if (!out.empty()) return out;
  }
  read_new(out);
  return out;
}

void stream_source_task::commit_record(const api::source_record& record) {
  // XREAD mode keeps nothing in Redis; the runtime stores the offsets.
  if (config_.mode != stream_read_mode::group) return;
  if (!record.source_partition.is_object() || !record.source_offset.is_object()) return;
  auto stream = record.source_partition.find("stream");
  if (stream == record.source_partition.end() || !stream->is_string()) return;
  auto it = index_.find(stream->get<std::string>());
  if (it == index_.end()) return;
  auto entry = record.source_offset.find("entry");
  if (entry == record.source_offset.end()) entry = record.source_offset.find("offset");
  if (entry == record.source_offset.end() || !entry->is_string()) return;
  auto& st = streams_[it->second];
  const auto& id = entry->get_ref<const std::string&>();
  if (config_.delivery == stream_delivery::at_least_once) st.to_ack.push_back(id);
  if (st.acked_id.empty() || id_after(id, st.acked_id)) st.acked_id = id;
}

// Sends the XACKs of what Kafka acknowledged since the last poll. A Redis that cannot be
// reached now keeps them for later: the entries stay pending, nothing is lost.
void stream_source_task::commit() {
  if (!connection_ || ack_count() == 0) return;
  pipeline_.clear();
  add_acks(pipeline_);
  try {
    auto replies = connection_->execute(pipeline_);
    for (const auto& r : replies) {
      if (!is_nogroup(r.view())) continue;
      for (auto& st : streams_) {
        if (!st.to_ack.empty()) st.group_ready = false;
      }
    }
    acks_sent();
  } catch (const api::retriable_error&) {
  }
}

void stream_source_task::stop() {}

}  // namespace ferry::redis
