#include "stream_source/stream_source_config.hpp"

#include "common/redis_config.hpp"
#include "ferry/api/errors.hpp"

namespace ferry::redis {

using api::config_type;
using api::importance_level;

const api::config_def& stream_source_config_def() {
  static const api::config_def def = [] {
    api::config_def d;
    define_connection_keys(d);
    const std::string g = "Redis stream source";
    d.define({.name = "redis.stream.name",
              .type = config_type::list,
              .default_value = std::nullopt,
              .importance = importance_level::high,
              .doc = "Stream key(s) to read, comma-separated; spread over the tasks.",
              .group = g,
              .validate = [](const std::string& v) -> std::optional<std::string> {
                if (api::split_list(v).empty()) return "must name at least one stream";
                return std::nullopt;
              }});
    d.define({.name = "redis.stream.offset",
              .type = config_type::string,
              .default_value = "0-0",
              .importance = importance_level::medium,
              .doc = "Entry id after which a stream with no stored offset is read; 0-0 reads it "
                     "from the start, $ only new entries.",
              .group = g});
    d.define({.name = "redis.stream.block",
              .type = config_type::long_,
              .default_value = "100",
              .importance = importance_level::low,
              .doc = "Milliseconds XREAD blocks waiting for entries.",
              .group = g,
              .validate = api::in_range(1, 5000)});
    d.define({.name = "batch.size",
              .type = config_type::int_,
              .default_value = "500",
              .importance = importance_level::medium,
              .doc = "Entries read per XREAD, per stream.",
              .group = g,
              .validate = api::in_range(1, 100000)});
    d.define({.name = "topic",
              .type = config_type::string,
              .default_value = "${stream}",
              .importance = importance_level::high,
              .doc = "Target topic; ${stream} is replaced by the stream key.",
              .group = g,
              .validate = api::non_empty()});
    return d;
  }();
  return def;
}

stream_source_config stream_source_config::parse(const api::config_map& config) {
  api::parsed_config pc(stream_source_config_def(), config);
  stream_source_config c;
  c.endpoint = endpoint_from(pc);
  c.streams = pc.get_list("redis.stream.name");
  if (c.streams.empty()) throw api::config_error("redis.stream.name names no stream");
  c.start_id = pc.get_string("redis.stream.offset");
  c.block = std::chrono::milliseconds(pc.get_long("redis.stream.block"));
  c.batch_size = pc.get_int("batch.size");
  c.topic_template = pc.get_string("topic");
  return c;
}

std::string stream_source_config::topic_for(const std::string& stream) const {
  std::string out = topic_template;
  for (auto pos = out.find("${stream}"); pos != std::string::npos;
       pos = out.find("${stream}", pos + stream.size())) {
    out.replace(pos, 9, stream);
  }
  return out;
}

}  // namespace ferry::redis
