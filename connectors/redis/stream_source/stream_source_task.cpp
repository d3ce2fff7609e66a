#include "stream_source/stream_source_task.hpp"

#include "ferry/api/errors.hpp"

namespace ferry::redis {

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
const api::schema_ptr& key_schema() {
  static const api::schema_ptr schema =
      std::make_shared<const json>(json{{"type", "string"}, {"optional", false}});
  return schema;
}
}  // namespace

void stream_source_task::start(const api::config_map& config, api::source_task_context& context) {
  config_ = stream_source_config::parse(config);
  connection_ = clients::make_redis_client(config_.endpoint);
  for (const auto& s : config_.streams) {
    auto stored = context.offset(json{{"stream", s}});
    if (stored && stored->contains("offset") && (*stored)["offset"].is_string()) {
      last_ids_.push_back((*stored)["offset"].get<std::string>());
      resolved_.push_back(true);
    } else {
      last_ids_.push_back(config_.start_id);
      resolved_.push_back(config_.start_id != "$");
    }
    topics_.push_back(config_.topic_for(s));
  }
}

// "$" means "entries added after the task first looked": pin it to the stream's current last
// id, so a later XREAD (or a restart before anything was read) does not skip entries.
void stream_source_task::resolve_start_ids() {
  for (std::size_t i = 0; i < last_ids_.size(); ++i) {
    if (resolved_[i]) continue;
    auto reply = connection_->command({"XREVRANGE", config_.streams[i], "+", "-", "COUNT", "1"});
    auto v = reply.view();
    if (v.is_error()) throw api::connect_error("XREVRANGE failed: " + std::string(v.str()));
    last_ids_[i] = v.size() > 0 ? std::string(v[0][0].str()) : "0-0";
    resolved_[i] = true;
  }
}

std::vector<api::source_record> stream_source_task::poll() {
  resolve_start_ids();
  pipeline_.clear();
  auto count = std::to_string(config_.batch_size);
  auto block = std::to_string(config_.block.count());
  pipeline_.begin(6 + 2 * config_.streams.size());
  for (std::string_view a : {"XREAD", "COUNT"}) pipeline_.arg(a);
  pipeline_.arg(count);
  pipeline_.arg("BLOCK");
  pipeline_.arg(block);
  pipeline_.arg("STREAMS");
  for (const auto& s : config_.streams) pipeline_.arg(s);
  for (const auto& id : last_ids_) pipeline_.arg(id);
  auto replies = connection_->execute(pipeline_);
  auto reply = replies.front().view();
  std::vector<api::source_record> out;
  if (reply.is_nil()) return out;
  if (reply.is_error()) {
    throw api::connect_error("XREAD on " + config_.streams.front() +
                             " failed: " + std::string(reply.str()));
  }
  for (std::size_t s = 0; s < reply.size(); ++s) {
    auto stream_reply = reply[s];
    std::string stream(stream_reply[0].str());
    std::size_t idx = 0;
    while (idx < config_.streams.size() && config_.streams[idx] != stream) ++idx;
    if (idx == config_.streams.size()) continue;
    auto entries = stream_reply[1];
    out.reserve(out.size() + entries.size());
    for (std::size_t e = 0; e < entries.size(); ++e) {
      auto entry = entries[e];
      std::string id(entry[0].str());
      json body = json::object();
      auto fields = entry[1];
      for (std::size_t f = 0; f + 1 < fields.size(); f += 2) {
        body[std::string(fields[f].str())] = std::string(fields[f + 1].str());
      }
      api::source_record r;
      r.source_partition = json{{"stream", stream}};
      r.source_offset = json{{"offset", id}};
      r.topic = topics_[idx];
      r.key = id;
      r.key_schema = key_schema();
      json value = json::object();
      value["id"] = id;
      value["stream"] = stream;
      value["body"] = std::move(body);
      r.value = std::move(value);
      r.value_schema = stream_value_schema();
      out.push_back(std::move(r));
      last_ids_[idx] = std::move(id);
    }
  }
  return out;
}

void stream_source_task::stop() {
  connection_.reset();
}

}  // namespace ferry::redis
