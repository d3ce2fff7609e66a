#include "list_source/list_source_task.hpp"

#include <algorithm>
#include <cstdio>
#include <random>

#include "ferry/api/errors.hpp"
#include "sink/sink_replies.hpp"

namespace ferry::redis {

namespace {

// Moves up to ARGV[1] elements from the ARGV[2] end of KEYS[1] to the tail of KEYS[2], in the
// order they leave the list, and returns them: one atomic step, one reply. RPUSH takes them in
// slices because Lua's unpack() has a stack limit.
constexpr std::string_view k_move_script = R"lua(
local n = tonumber(ARGV[1])
local v
if ARGV[2] == 'LEFT' then
  v = redis.call('LRANGE', KEYS[1], 0, n - 1)
  if #v == 0 then return v end
  redis.call('LTRIM', KEYS[1], #v, -1)
else
  local t = redis.call('LRANGE', KEYS[1], -n, -1)
  if #t == 0 then return t end
  redis.call('LTRIM', KEYS[1], 0, -#t - 1)
  v = {}
  for i = #t, 1, -1 do v[#v + 1] = t[i] end
end
for i = 1, #v, 1000 do
  redis.call('RPUSH', KEYS[2], unpack(v, i, math.min(i + 999, #v)))
end
return v
)lua";

const api::schema_ptr& string_schema() {
  static const api::schema_ptr schema =
      std::make_shared<const json>(json{{"type", "string"}, {"optional", false}});
  return schema;
}

// An error reply as the task's error: retriable for server states that pass (LOADING, BUSY,
// OOM, ...), fatal for the rest (WRONGTYPE: a key that is not a list), naming what failed.
void check(clients::redis_reply_view reply, const std::string& what) {
  if (!reply.is_error()) return;
  try {
    check_reply(reply);
  } catch (const api::retriable_error& e) {
    throw api::retriable_error(what + " failed: " + e.what());
  } catch (const std::exception& e) {
    throw api::connect_error(what + " failed: " + e.what());
  }
}

std::string random_hex() {
  std::random_device rd;
  std::uint64_t v = (static_cast<std::uint64_t>(rd()) << 32) ^ rd();
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

}  // namespace

void list_source_task::start(const api::config_map& config, api::source_task_context& context) {
  config_ = list_source_config::parse(config);
  context_ = &context;
  connection_ = clients::make_redis_client(config_.endpoint);
  lists_.clear();
  by_list_.clear();
  for (const auto& l : config_.lists) {
    by_list_[l] = lists_.size();
    lists_.push_back({.list = l,
                      .processing = config_.processing_key_for(l),
                      .topic = config_.topic_for(l),
                      .partition = json{{"list", l}},
                      .window = {}});
  }
  epoch_base_ = random_hex();
  need_resync_ = true;
}

std::vector<api::source_record> list_source_task::poll() {
  try {
    if (need_resync_) resync();
    return move_batch();
  } catch (...) {
    // What the server did with the commands in flight is unknown (a reply lost with the
    // connection): read the processing lists again before going on.
    need_resync_ = true;
    throw;
  }
}

// A new epoch: every processing list's elements are delivered again, first.
void list_source_task::resync() {
  pipeline_.clear();
  for (const auto& l : lists_) pipeline_.add({"LLEN", l.processing});
  auto replies = connection_->execute(pipeline_);
  epoch_ = epoch_base_ + "." + std::to_string(++epochs_);
  for (std::size_t i = 0; i < lists_.size(); ++i) {
    auto v = replies[i].view();
    check(v, "LLEN of processing list " + lists_[i].processing);
    lists_[i].window.reset(v.integer());
  }
  need_resync_ = false;
}

void list_source_task::add_trims(std::vector<std::size_t>& trimmed) {
  trimmed.assign(lists_.size(), 0);
  for (std::size_t i = 0; i < lists_.size(); ++i) {
    auto k = lists_[i].window.trimmable();
    if (k == 0) continue;
    pipeline_.add({"LTRIM", lists_[i].processing, std::to_string(k), "-1"});
    trimmed[i] = static_cast<std::size_t>(k);
  }
}

void list_source_task::check_trims(const std::vector<clients::redis_reply>& replies,
                                   std::size_t& at, const std::vector<std::size_t>& trimmed) {
  for (std::size_t i = 0; i < lists_.size(); ++i) {
    if (trimmed[i] == 0) continue;
    check(replies[at++].view(), "LTRIM of processing list " + lists_[i].processing);
    lists_[i].window.trimmed(static_cast<std::int64_t>(trimmed[i]));
  }
}

void list_source_task::append_record(std::vector<api::source_record>& out, list_state& l,
                                     std::int64_t position, std::string_view element) {
  api::source_record r;
  r.source_partition = l.partition;
  r.source_offset = json{{"epoch", epoch_}, {"position", position}};
  r.topic = l.topic;
  r.key = l.list;
  r.key_schema = string_schema();
  r.value = std::string(element);
  r.value_schema = string_schema();
  out.push_back(std::move(r));
}

std::vector<api::source_record> list_source_task::move_batch() {
  const std::int64_t batch = config_.batch_size;
  const std::string_view from = config_.end == list_end::head ? "LEFT" : "RIGHT";
  pipeline_.clear();
  std::vector<std::size_t> trimmed;
  add_trims(trimmed);
  // The trims are applied before the reads in the same pipeline: read positions after them.
  auto head_after = [&](std::size_t i) {
    return lists_[i].window.head() + static_cast<std::int64_t>(trimmed[i]);
  };
  bool redelivering = std::any_of(lists_.begin(), lists_.end(),
                                  [](const list_state& l) { return l.window.redelivering(); });
  const auto count = std::to_string(batch);
  for (std::size_t i = 0; i < lists_.size(); ++i) {
    auto& l = lists_[i];
    if (redelivering) {
      if (!l.window.redelivering()) continue;
      auto first = l.window.redeliver_next() - head_after(i);
      auto n = std::min(batch, l.window.redeliver_end() - l.window.redeliver_next());
      pipeline_.add({"LRANGE", l.processing, std::to_string(first), std::to_string(first + n - 1)});
    } else if (config_.move == list_move_mode::script) {
      pipeline_.add({"EVAL", k_move_script, "2", l.list, l.processing, count, from});
    } else {
      for (std::int64_t k = 0; k < batch; ++k)
        pipeline_.add({"LMOVE", l.list, l.processing, from, "RIGHT"});
    }
  }
  auto replies = connection_->execute(pipeline_);
  std::size_t at = 0;
  check_trims(replies, at, trimmed);

  std::vector<api::source_record> out;
  for (std::size_t i = 0; i < lists_.size(); ++i) {
    auto& l = lists_[i];
    if (redelivering) {
      if (!l.window.redelivering()) continue;
      auto v = replies[at++].view();
      check(v, "LRANGE of processing list " + l.processing);
      auto want = std::min(batch, l.window.redeliver_end() - l.window.redeliver_next());
      if (static_cast<std::int64_t>(v.size()) != want) {
        throw api::connect_error("Processing list " + l.processing + " holds fewer elements than " +
                                 "this task left there; something else removed some. Only the " +
                                 "task that reads list " + l.list + " may change it.");
      }
      for (std::size_t k = 0; k < v.size(); ++k) {
        append_record(out, l, l.window.redeliver_next() + static_cast<std::int64_t>(k), v[k].str());
      }
      l.window.redelivered(want);
    } else if (config_.move == list_move_mode::script) {
      auto v = replies[at++].view();
      check(v, "Moving elements of list " + l.list + " to " + l.processing);
      auto first = l.window.appended(static_cast<std::int64_t>(v.size()));
      for (std::size_t k = 0; k < v.size(); ++k) {
        append_record(out, l, first + static_cast<std::int64_t>(k), v[k].str());
      }
    } else {
      std::int64_t moved = 0;
      auto first = l.window.tail();
      for (std::int64_t k = 0; k < batch; ++k) {
        auto v = replies[at++].view();
        check(v, "LMOVE of list " + l.list + " to " + l.processing);
        if (v.is_nil()) continue;
        append_record(out, l, first + moved++, v.str());
      }
      l.window.appended(moved);
    }
  }
  if (!out.empty() || redelivering) return out;

  // Every list is empty: wait on one of them (in turn) for its next element.
  auto& l = lists_[block_next_++ % lists_.size()];
  char timeout[32];
  std::snprintf(timeout, sizeof timeout, "%.3f", static_cast<double>(config_.block.count()) / 1000);
  pipeline_.clear();
  pipeline_.add({"BLMOVE", l.list, l.processing, from, "RIGHT", timeout});
  auto reply = connection_->execute(pipeline_);
  auto v = reply.front().view();
  check(v, "BLMOVE of list " + l.list + " to " + l.processing);
  if (!v.is_nil()) append_record(out, l, l.window.appended(1), v.str());
  return out;
}

void list_source_task::commit_record(const api::source_record& record) {
  auto list = record.source_partition.find("list");
  if (list == record.source_partition.end() || !list->is_string()) return;
  auto it = by_list_.find(list->get_ref<const std::string&>());
  if (it == by_list_.end()) return;
  auto epoch = record.source_offset.find("epoch");
  auto position = record.source_offset.find("position");
  if (epoch == record.source_offset.end() || position == record.source_offset.end() ||
      *epoch != epoch_ || !position->is_number_integer()) {
    return;  // an earlier epoch's record: its element is delivered again anyway
  }
  lists_[it->second].window.acknowledge(position->get<std::int64_t>());
}

void list_source_task::commit() {
  if (need_resync_ || !connection_) return;  // the next poll() reads the processing lists again
  for (auto& l : lists_) {
    auto stored = context_->offset(l.partition);
    if (!stored || !stored->is_object()) continue;
    auto epoch = stored->find("epoch");
    auto position = stored->find("position");
    if (epoch != stored->end() && *epoch == epoch_ && position != stored->end() &&
        position->is_number_integer()) {
      l.window.delivered_through(position->get<std::int64_t>());
    }
  }
  pipeline_.clear();
  std::vector<std::size_t> trimmed;
  add_trims(trimmed);
  if (pipeline_.empty()) return;
  try {
    auto replies = connection_->execute(pipeline_);
    std::size_t at = 0;
    check_trims(replies, at, trimmed);
  } catch (const std::exception&) {
    // commit() must not fail the task: poll() reports Redis problems (with retries) after it
    // read the processing lists again.
    need_resync_ = true;
  }
}

}  // namespace ferry::redis
