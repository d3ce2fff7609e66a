#include "sink/command_builder.hpp"

#include <algorithm>
#include <charconv>

#include "ferry/api/errors.hpp"

namespace ferry::redis {

namespace {

std::vector<std::string> path_of(const std::string& dotted) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (!dotted.empty()) {
    auto dot = dotted.find('.', start);
    out.push_back(dotted.substr(start, dot == std::string::npos ? std::string::npos : dot - start));
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  return out;
}

const char* type_name(sink_type t) {
  switch (t) {
    case sink_type::string:
      return "STRING";
    case sink_type::hash:
      return "HASH";
    case sink_type::json:
      return "JSON";
    case sink_type::stream:
      return "STREAM";
    case sink_type::list:
      return "LIST";
    case sink_type::set:
      return "SET";
    case sink_type::zset:
      return "ZSET";
    case sink_type::publish:
      return "PUBLISH";
    case sink_type::command:
      return "redis.command";
  }
  return "?";
}

// A positive whole number of seconds from a header or field value, if it is one.
std::optional<std::int64_t> positive_seconds(std::string_view text) {
  std::int64_t n = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc() || end != text.data() + text.size() || n <= 0) return std::nullopt;
  return n;
}

}  // namespace

command_builder::command_builder(const redis_sink_config& config)
    : config_(config),
      keyspace_(command_template::parse(config.keyspace, false, "redis.keyspace")),
      cluster_tx_(config.multiexec && config.endpoint.cluster && !config.exactly_once),
      ttl_path_(path_of(config.ttl_field)),
      score_path_(path_of(config.zset_score_field)),
      id_path_(path_of(config.stream_id_field)) {
  if (config.type == sink_type::command) {
    command_ = command_template::parse(config.command, true, "redis.command");
    if (!config.delete_command.empty()) {
      delete_command_ =
          command_template::parse(config.delete_command, true, "redis.command.delete");
    }
  }
  maxlen_arg_ = std::to_string(config.stream_maxlen);
  wait_args_[0] = std::to_string(config.wait_replicas);
  wait_args_[1] = std::to_string(config.wait_timeout_ms);
}

const json& command_builder::object_of(const api::sink_record& r, const char* what) {
  if (const json* obj = renderer_.object_value()) return *obj;
  throw api::data_error(std::string(what) + " needs a map or struct value (or text holding a " +
                        "JSON object); record " + describe(r) + " has " + r.value.type_name());
}

std::string_view command_builder::member_of(const api::sink_record& r) {
  if (r.key.is_null()) {
    throw api::data_error("Record " + describe(r) + " has no key; redis.type " +
                          type_name(config_.type) + " stores the record key as the member");
  }
  return text_of(r.key, member_buf_);
}

void command_builder::render_key(const api::sink_record& r) {
  key_.clear();
  switch (config_.type) {
    case sink_type::string:
    case sink_type::hash:
    case sink_type::json: {
      if (r.key.is_null()) {
        throw api::data_error("Record " + describe(r) + " has no key, which redis.type " +
                              type_name(config_.type) + " needs");
      }
      key_ = renderer_.render(keyspace_.arguments().front());
      if (!key_.empty()) key_ += config_.separator;
      key_ += text_of(r.key, member_buf_);
      return;
    }
    case sink_type::stream:
    case sink_type::list:
    case sink_type::set:
    case sink_type::zset:
    case sink_type::publish:
      key_ = renderer_.render(keyspace_.arguments().front());
      return;
    case sink_type::command: {
      const auto& t = r.value.is_null() ? *delete_command_ : *command_;
      if (t.arguments().size() > 1) key_ = renderer_.render(t.arguments()[1]);
      return;
    }
  }
}

std::int64_t command_builder::ttl_of(const api::sink_record& r) {
  for (auto it = r.headers.rbegin(); it != r.headers.rend(); ++it) {
    if (it->key != ttl_header_name || !it->value) continue;
    if (auto secs = positive_seconds(*it->value)) return *secs;
    break;  // invalid: ignored, as redis-kafka-connect does
  }
  if (!ttl_path_.empty()) {
    if (const json* f = renderer_.field(ttl_path_)) {
      if (f->is_number_integer() && f->get<std::int64_t>() > 0) return f->get<std::int64_t>();
      if (f->is_string()) {
        if (auto secs = positive_seconds(f->get_ref<const std::string&>())) return *secs;
      }
    }
  }
  return config_.ttl_seconds;
}

bool command_builder::write_sets_ttl_itself() const {
  return config_.type == sink_type::string;
}

command_builder::plan_t command_builder::plan(const api::sink_record& r) {
  plan_t p;
  p.tombstone = r.value.is_null();
  if (p.tombstone) {
    if (config_.type == sink_type::stream || config_.type == sink_type::publish ||
        (config_.type == sink_type::command && !delete_command_)) {
      p.skip = true;  // nothing to delete by record key
      return p;
    }
  } else if (config_.type == sink_type::hash) {
    const auto& obj = object_of(r, "redis.type HASH");
    p.skip = std::none_of(obj.begin(), obj.end(), [](const json& v) { return !v.is_null(); });
  } else if (config_.type == sink_type::stream) {
    p.skip = object_of(r, "redis.type STREAM").empty();
  }
  if (p.skip) return p;
  render_key(r);
  if (!p.tombstone && config_.type != sink_type::publish) p.ttl = ttl_of(r);
  return p;
}

void command_builder::emit_fields(const json& obj, clients::redis_pipeline& out) {
  const bool skip_nulls = config_.type == sink_type::hash;
  for (const auto& [name, v] : obj.get_ref<const json::object_t&>()) {
    if (skip_nulls && v.is_null()) continue;
    out.arg(name);
    out.arg(text_of(v, value_buf_));
  }
}

void command_builder::emit_template(const command_template& t, clients::redis_pipeline& out) {
  out.begin(t.arguments().size());
  for (const auto& arg : t.arguments()) out.arg(renderer_.render(arg));
}

void command_builder::emit_write(const api::sink_record& r, clients::redis_pipeline& out) {
  switch (config_.type) {
    case sink_type::string: {
      auto value = text_of(r.value, value_buf_);
      if (ttl_buf_.empty()) {
        out.add({"SET", key_, value});
      } else {
        out.add({"SET", key_, value, "EX", ttl_buf_});
      }
      return;
    }
    case sink_type::hash: {
      const auto& obj = object_of(r, "redis.type HASH");
      std::size_t n = 0;
      for (const auto& v : obj) n += v.is_null() ? 0 : 1;
      out.begin(2 + 2 * n);
      out.arg("HSET");
      out.arg(key_);
      emit_fields(obj, out);
      return;
    }
    case sink_type::json:
      out.add({"JSON.SET", key_, "$", text_of(r.value, value_buf_)});
      return;
    case sink_type::stream: {
      const auto& obj = object_of(r, "redis.type STREAM");
      std::string_view id = "*";
      if (!id_path_.empty()) {
        const json* f = renderer_.field(id_path_);
        if (f == nullptr || f->is_null()) {
          throw api::data_error("Record " + describe(r) + " has no stream id field '" +
                                config_.stream_id_field + "' (redis.stream.id.field)");
        }
        id = text_of(*f, extra_buf_);
      }
      const bool trim = config_.stream_maxlen > 0;
      out.begin(3 + (trim ? 3 : 0) + 2 * obj.size());
      out.arg("XADD");
      out.arg(key_);
      if (trim) {
        out.arg("MAXLEN");
        out.arg("~");
        out.arg(maxlen_arg_);
      }
      out.arg(id);
      emit_fields(obj, out);
      return;
    }
    case sink_type::list:
      out.add({config_.push == push_side::left ? "LPUSH" : "RPUSH", key_, member_of(r)});
      return;
    case sink_type::set:
      out.add({"SADD", key_, member_of(r)});
      return;
    case sink_type::zset: {
      const json* score = &r.value;
      if (!score_path_.empty()) {
        score = renderer_.field(score_path_);
        if (score == nullptr) {
          throw api::data_error("Record " + describe(r) + " has no score field '" +
                                config_.zset_score_field + "' (redis.zset.score.field)");
        }
      }
      std::string_view text;
      if (score->is_number()) {
        text = text_of(*score, extra_buf_);
      } else if (score->is_string() && api::parse_double(score->get_ref<const std::string&>())) {
        text = score->get_ref<const std::string&>();
      } else {
        throw api::data_error("redis.type ZSET needs a number as score; record " + describe(r) +
                              " has " + score->dump());
      }
      out.add({"ZADD", key_, text, member_of(r)});
      return;
    }
    case sink_type::publish:
      out.add({"PUBLISH", key_, text_of(r.value, value_buf_)});
      return;
    case sink_type::command:
      emit_template(*command_, out);
      return;
  }
}

void command_builder::emit(const api::sink_record& r, const plan_t& p,
                           clients::redis_pipeline& out) {
  if (p.tombstone) {
    switch (config_.type) {
      case sink_type::string:
      case sink_type::hash:
      case sink_type::json:
        out.add({"DEL", key_});
        return;
      case sink_type::list:
        out.add({"LREM", key_, "0", member_of(r)});
        return;
      case sink_type::set:
        out.add({"SREM", key_, member_of(r)});
        return;
      case sink_type::zset:
        out.add({"ZREM", key_, member_of(r)});
        return;
      case sink_type::command:
        emit_template(*delete_command_, out);
        return;
      case sink_type::stream:
      case sink_type::publish:
        return;
    }
  }
  ttl_buf_.clear();
  if (p.ttl > 0) text_of(json(p.ttl), ttl_buf_);
  // The write and its EXPIRE apply together: inside the batch's (or key's) MULTI, or their own.
  const bool own_tx =
      p.ttl > 0 && !write_sets_ttl_itself() && !config_.multiexec && !config_.exactly_once;
  if (own_tx) out.add({"MULTI"});
  emit_write(r, out);
  if (p.ttl > 0 && !write_sets_ttl_itself()) out.add({"EXPIRE", key_, ttl_buf_});
  if (own_tx) out.add({"EXEC"});
}

void command_builder::build(std::span<const api::sink_record> records,
                            clients::redis_pipeline& out) {
  bool any = false;
  open_ = false;
  // Exactly-once: the task wraps the batch (and its offsets) in MULTI/EXEC and adds the WAIT.
  const bool batch_tx = config_.multiexec && !cluster_tx_ && !config_.exactly_once;
  for (const auto& r : records) {
    renderer_.reset(r);
    auto p = plan(r);
    if (p.skip) continue;
    if (!any && batch_tx) out.add({"MULTI"});
    any = true;
    if (cluster_tx_) {
      if (open_ && key_ != open_key_) {
        out.add({"EXEC"});
        open_ = false;
      }
      if (!open_) {
        out.add({"MULTI"});
        open_ = true;
        open_key_ = key_;
      }
    }
    emit(r, p, out);
  }
  if (!any) return;
  if (open_) out.add({"EXEC"});
  if (batch_tx) out.add({"EXEC"});
  if (config_.wait_replicas > 0 && !config_.exactly_once)
    out.add({"WAIT", wait_args_[0], wait_args_[1]});
}

}  // namespace ferry::redis
