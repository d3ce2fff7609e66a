#include "list_source/list_source_config.hpp"

#include <algorithm>
#include <set>

#include "common/redis_config.hpp"
#include "ferry/api/errors.hpp"
#include "ferry/clients/redis_cluster.hpp"

namespace ferry::redis {

using api::config_type;
using api::importance_level;

namespace {

std::string replace_all(std::string s, std::string_view from, const std::string& to) {
  for (auto pos = s.find(from); pos != std::string::npos; pos = s.find(from, pos + to.size())) {
    s.replace(pos, from.size(), to);
  }
  return s;
}

std::string upper(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::toupper(c); });
  return s;
}

}  // namespace

const api::config_def& list_source_config_def() {
  static const api::config_def def = [] {
    api::config_def d;
    define_connection_keys(d);
    const std::string g = "Redis list source";
    d.define({.name = "redis.list.name",
              .type = config_type::list,
              .default_value = std::nullopt,
              .importance = importance_level::high,
              .doc = "List key(s) to read as queues, comma-separated; spread over the tasks "
                     "(each list is read by one task).",
              .group = g,
              .validate = [](const std::string& v) -> std::optional<std::string> {
                if (api::split_list(v).empty()) return "must name at least one list";
                return std::nullopt;
              }});
    d.define({.name = "redis.list.command",
              .type = config_type::string,
              .default_value = "BLPOP",
              .importance = importance_level::medium,
              .doc = "Which end elements are taken from, named as the peers' pop commands: "
                     "BLPOP the head (FIFO for RPUSH producers), BRPOP the tail (FIFO for LPUSH "
                     "producers). ferry moves them with LMOVE/BLMOVE, it never pops.",
              .group = g,
              .validate = api::one_of({"BLPOP", "BRPOP"}),
              .recommended = {"BLPOP", "BRPOP"}});
    d.define({.name = "redis.list.block",
              .type = config_type::long_,
              .default_value = "100",
              .importance = importance_level::low,
              .doc = "Milliseconds BLMOVE waits for an element when every list is empty.",
              .group = g,
              .validate = api::in_range(1, 5000)});
    d.define({.name = "redis.list.processing",
              .type = config_type::string,
              .default_value = "${list}:processing:${connector}",
              .importance = importance_level::medium,
              .doc = "Key of the processing list that holds a list's elements until Kafka "
                     "acknowledged them; ${list} is the list key, ${connector} the connector "
                     "name. Must give every list its own key.",
              .group = g,
              .validate = api::non_empty()});
    d.define({.name = "redis.list.move",
              .type = config_type::string,
              .default_value = "script",
              .importance = importance_level::low,
              .doc = "How a batch is moved: 'script' (one Lua script moves up to batch.size "
                     "elements atomically) or 'pipeline' (batch.size LMOVEs in one round trip; "
                     "for users without EVAL permission).",
              .group = g,
              .validate = api::one_of({"script", "pipeline"}),
              .recommended = {"script", "pipeline"}});
    d.define({.name = "batch.size",
              .type = config_type::int_,
              .default_value = "500",
              .importance = importance_level::medium,
              .doc = "Elements moved per list per poll.",
              .group = g,
              .validate = api::in_range(1, 100000)});
    d.define({.name = "topic",
              .type = config_type::string,
              .default_value = "${list}",
              .importance = importance_level::high,
              .doc = "Target topic; ${list} is replaced by the list key.",
              .group = g,
              .validate = api::non_empty()});
    return d;
  }();
  return def;
}

list_source_config list_source_config::parse(const api::config_map& config) {
  // parsed_config checks types only: apply the keys' validators too, so that a task never
  // runs on a value validation would refuse (LPOP would otherwise read as BLPOP).
  std::string problems;
  for (const auto& v : list_source_config_def().validate(config)) {
    for (const auto& e : v.errors) problems += (problems.empty() ? "" : "; ") + v.name + ": " + e;
  }
  if (!problems.empty()) throw api::config_error("Invalid list source config: " + problems);
  api::parsed_config pc(list_source_config_def(), config);
  list_source_config c;
  c.endpoint = endpoint_from(pc);
  if (auto it = config.find("name"); it != config.end()) c.connector = it->second;
  c.lists = pc.get_list("redis.list.name");
  if (c.lists.empty()) throw api::config_error("redis.list.name names no list");
  c.end = upper(pc.get_string("redis.list.command")) == "BRPOP" ? list_end::tail : list_end::head;
  c.block = std::chrono::milliseconds(pc.get_long("redis.list.block"));
  if (c.block >= c.endpoint.timeout) {
    // BLMOVE would outlast the connection's deadline: every idle wait would be an I/O error.
    throw api::config_error("redis.list.block (" + std::to_string(c.block.count()) +
                            " ms) must be shorter than redis.timeout (" +
                            std::to_string(pc.get_long("redis.timeout")) + " s)");
  }
  c.batch_size = pc.get_int("batch.size");
  c.move = pc.get_string("redis.list.move") == "pipeline" ? list_move_mode::pipeline
                                                          : list_move_mode::script;
  c.processing_template = pc.get_string("redis.list.processing");
  c.topic_template = pc.get_string("topic");

  // Positions in a processing list are counted per list: two lists sharing one, or a list
  // that is another's processing list, would make the task trim elements it never delivered.
  std::set<std::string> lists(c.lists.begin(), c.lists.end());
  if (lists.size() != c.lists.size()) {
    throw api::config_error("redis.list.name names a list twice: " +
                            pc.get_string("redis.list.name"));
  }
  std::set<std::string> keys;
  for (const auto& l : c.lists) {
    auto key = c.processing_key_for(l);
    if (!keys.insert(key).second) {
      throw api::config_error("redis.list.processing '" + c.processing_template +
                              "' gives several lists the same processing list '" + key +
                              "'; put ${list} in it");
    }
    if (lists.count(key)) {
      throw api::config_error("redis.list.processing '" + c.processing_template + "' makes list '" +
                              l + "' use list '" + key +
                              "' (a source list) as its processing list");
    }
    if (c.endpoint.cluster && clients::cluster::key_slot(key) != clients::cluster::key_slot(l)) {
      throw api::config_error(
          "On a Redis Cluster a list and its processing list must share a hash slot, but '" + l +
          "' and '" + key + "' do not. Give the list a hash tag (e.g. {" + l +
          "}) or set redis.list.processing to e.g. {${list}}:processing:${connector}");
    }
  }
  return c;
}

std::string list_source_config::topic_for(const std::string& list) const {
  return replace_all(topic_template, "${list}", list);
}

std::string list_source_config::processing_key_for(const std::string& list) const {
  return replace_all(replace_all(processing_template, "${connector}", connector), "${list}", list);
}

}  // namespace ferry::redis
