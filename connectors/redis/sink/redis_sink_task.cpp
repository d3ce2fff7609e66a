#include "sink/redis_sink_task.hpp"

#include "ferry/api/errors.hpp"

namespace ferry::redis {

namespace {

// Bytes Redis stores for a value: text as is, bytes as is, everything else as compact JSON.
std::string to_text(const json& v) {
  if (v.is_string()) return v.get_ref<const std::string&>();
  if (v.is_binary()) {
    const auto& b = v.get_binary();
    return std::string(reinterpret_cast<const char*>(b.data()), b.size());
  }
  if (v.is_null()) return {};
  return v.dump();
}

// HASH and STREAM need field/value pairs: an object, or text holding a JSON object.
const json& as_object(const json& v, json& holder, const api::sink_record& r, const char* what) {
  if (v.is_object()) return v;
  if (v.is_string()) {
    holder = json::parse(v.get_ref<const std::string&>(), nullptr, false);
    if (holder.is_object()) return holder;
  }
  throw api::data_error(std::string(what) + " needs a map or struct value; record " + r.topic +
                        "-" + std::to_string(r.partition) + "@" + std::to_string(r.offset) +
                        " has " + std::string(v.type_name()));
}

bool is_retriable(std::string_view error) {
  for (std::string_view p : {"LOADING", "BUSY", "TRYAGAIN", "CLUSTERDOWN", "MASTERDOWN", "READONLY",
                             "OOM", "NOREPLICAS", "MOVED", "ASK"}) {
    if (error.starts_with(p)) return true;
  }
  return false;
}

void check_reply(clients::redis_reply_view reply) {
  if (reply.is_error()) {
    auto msg = std::string(reply.str());
    if (msg.starts_with("EXECABORT")) return;  // the command's own error is reported too
    if (is_retriable(msg)) throw api::retriable_error("Redis is not accepting writes: " + msg);
    throw api::data_error("Redis refused a write: " + msg);
  }
  if (reply.is_array()) {
    for (std::size_t i = 0; i < reply.size(); ++i) check_reply(reply[i]);
  }
}

}  // namespace

void redis_sink_task::start(const api::config_map& config, api::sink_task_context&) {
  config_ = redis_sink_config::parse(config);
  connection_ = clients::make_redis_client(config_.endpoint);
  // Reachability problems surface on the first put() as retriable errors; try early so the
  // log says so at start.
  try {
    connection_->connect();
  } catch (const clients::redis_io_error&) {
  }
}

std::string redis_sink_task::key_for(const api::sink_record& r, bool with_record_key) const {
  std::string key;
  const auto& ks = config_.keyspace;
  auto pos = ks.find("${topic}");
  if (pos == std::string::npos) {
    key = ks;
  } else {
    key.reserve(ks.size() + r.topic.size());
    key.append(ks, 0, pos).append(r.topic).append(ks, pos + 8, std::string::npos);
  }
  if (!with_record_key) return key;
  if (r.key.is_null()) {
    throw api::data_error("Record " + r.topic + "-" + std::to_string(r.partition) + "@" +
                          std::to_string(r.offset) + " has no key, which redis.type needs");
  }
  if (key.empty()) return to_text(r.key);
  key += config_.separator;
  key += to_text(r.key);
  return key;
}

void redis_sink_task::append(const api::sink_record& r) {
  const bool tombstone = r.value.is_null();
  const bool ttl = config_.ttl_seconds > 0 && !tombstone;
  auto& p = pipeline_;
  switch (config_.type) {
    case sink_type::string: {
      auto key = key_for(r, true);
      if (tombstone) {
        p.add({"DEL", key});
      } else if (ttl) {
        auto secs = std::to_string(config_.ttl_seconds);
        p.add({"SET", key, to_text(r.value), "EX", secs});
      } else {
        p.add({"SET", key, to_text(r.value)});
      }
      return;
    }
    case sink_type::hash: {
      auto key = key_for(r, true);
      if (tombstone) {
        p.add({"DEL", key});
        return;
      }
      json holder;
      const auto& obj = as_object(r.value, holder, r, "redis.type HASH");
      scratch_.clear();
      for (const auto& [f, v] : obj.items()) {
        if (v.is_null()) continue;
        scratch_.push_back(f);
        scratch_.push_back(to_text(v));
      }
      if (scratch_.empty()) return;
      if (ttl && !config_.multiexec) p.add({"MULTI"});
      p.begin(2 + scratch_.size());
      p.arg("HSET");
      p.arg(key);
      for (const auto& s : scratch_) p.arg(s);
      if (ttl) {
        p.add({"EXPIRE", key, std::to_string(config_.ttl_seconds)});
        if (!config_.multiexec) p.add({"EXEC"});
      }
      return;
    }
    case sink_type::stream: {
      if (tombstone) return;  // a stream entry cannot be "deleted" by key
      auto key = key_for(r, false);
      json holder;
      const auto& obj = as_object(r.value, holder, r, "redis.type STREAM");
      scratch_.clear();
      for (const auto& [f, v] : obj.items()) {
        scratch_.push_back(f);
        scratch_.push_back(to_text(v));
      }
      if (scratch_.empty()) return;
      if (ttl && !config_.multiexec) p.add({"MULTI"});
      p.begin(3 + scratch_.size());
      p.arg("XADD");
      p.arg(key);
      p.arg("*");
      for (const auto& s : scratch_) p.arg(s);
      if (ttl) {
        p.add({"EXPIRE", key, std::to_string(config_.ttl_seconds)});
        if (!config_.multiexec) p.add({"EXEC"});
      }
      return;
    }
    case sink_type::list:
    case sink_type::set:
    case sink_type::zset: {
      auto key = key_for(r, false);
      if (r.key.is_null()) {
        throw api::data_error("Record " + r.topic + "-" + std::to_string(r.partition) + "@" +
                              std::to_string(r.offset) + " has no key; collections store the key");
      }
      auto member = to_text(r.key);
      if (tombstone) {
        if (config_.type == sink_type::list) p.add({"LREM", key, "0", member});
        if (config_.type == sink_type::set) p.add({"SREM", key, member});
        if (config_.type == sink_type::zset) p.add({"ZREM", key, member});
        return;
      }
      if (ttl && !config_.multiexec) p.add({"MULTI"});
      if (config_.type == sink_type::list) p.add({"RPUSH", key, member});
      if (config_.type == sink_type::set) p.add({"SADD", key, member});
      if (config_.type == sink_type::zset) {
        std::string score = to_text(r.value);
        if (!api::parse_double(score)) {
          throw api::data_error("redis.type ZSET needs a numeric value as score; record " +
                                r.topic + "-" + std::to_string(r.partition) + "@" +
                                std::to_string(r.offset) + " has " + score);
        }
        p.add({"ZADD", key, score, member});
      }
      if (ttl) {
        p.add({"EXPIRE", key, std::to_string(config_.ttl_seconds)});
        if (!config_.multiexec) p.add({"EXEC"});
      }
      return;
    }
  }
}

void redis_sink_task::put(std::span<const api::sink_record> records) {
  if (records.empty()) return;
  pipeline_.clear();
  if (config_.multiexec) pipeline_.add({"MULTI"});
  for (const auto& r : records) append(r);
  if (config_.multiexec) pipeline_.add({"EXEC"});
  if (pipeline_.empty()) return;
  auto replies = connection_->execute(pipeline_);
  for (const auto& reply : replies) {
    if (reply.view().is_nil() && config_.multiexec) {
      throw api::retriable_error("Redis aborted the MULTI/EXEC batch");
    }
    check_reply(reply.view());
  }
}

void redis_sink_task::stop() {
  connection_.reset();
}

}  // namespace ferry::redis
