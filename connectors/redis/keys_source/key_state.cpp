#include "keys_source/key_state.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <utility>
#include <vector>

#include "ferry/api/errors.hpp"

namespace ferry::redis::keys {

std::string_view read_script() {
  static constexpr std::string_view script = R"lua(
local k = KEYS[1]
local t = redis.call('TYPE', k)['ok']
if t == 'none' then return {t} end
local at = redis.pcall('PEXPIRETIME', k)
if type(at) == 'table' then
  at = redis.call('PTTL', k)
  if at >= 0 then
    local now = redis.call('TIME')
    at = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000) + at
  end
end
local v = false
if t == 'string' then v = redis.call('GET', k)
elseif t == 'hash' then v = redis.call('HGETALL', k)
elseif t == 'list' then v = redis.call('LRANGE', k, 0, -1)
elseif t == 'set' then v = redis.call('SMEMBERS', k)
elseif t == 'zset' then v = redis.call('ZRANGE', k, 0, -1, 'WITHSCORES')
elseif t == 'stream' then v = redis.call('XRANGE', k, '-', '+')
elseif t == 'ReJSON-RL' then v = redis.call('JSON.GET', k)
end
return {t, at, v}
)lua";
  return script;
}

std::string digest_hex(std::uint64_t digest) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(digest));
  return buf;
}

std::optional<std::uint64_t> parse_digest(const json& offset) {
  if (!offset.is_object()) return std::nullopt;
  auto it = offset.find("digest");
  if (it == offset.end() || !it->is_string()) return std::nullopt;
  const auto& s = it->get_ref<const std::string&>();
  if (s.size() != 16) return std::nullopt;
  char* end = nullptr;
  auto v = std::strtoull(s.c_str(), &end, 16);
  if (end != s.c_str() + s.size()) return std::nullopt;
  return static_cast<std::uint64_t>(v);
}

std::string to_utf8(std::string_view text) {
  auto valid_from = [&](std::size_t i) -> std::size_t {  // length of a valid sequence at i, or 0
    auto b = static_cast<unsigned char>(text[i]);
    std::size_t n = b < 0x80           ? 1
                    : (b >> 5) == 0x6  ? 2
                    : (b >> 4) == 0xE  ? 3
                    : (b >> 3) == 0x1E ? 4
                                       : 0;
    if (n == 0 || i + n > text.size()) return 0;
    for (std::size_t j = 1; j < n; ++j) {
      if ((static_cast<unsigned char>(text[i + j]) & 0xC0) != 0x80) return 0;
    }
    if (n == 1) return 1;
    // Overlong forms, surrogates and code points past U+10FFFF are not valid UTF-8.
    std::uint32_t cp = b & (0x7F >> n);
    for (std::size_t j = 1; j < n; ++j)
      cp = (cp << 6) | (static_cast<unsigned char>(text[i + j]) & 0x3F);
    static constexpr std::uint32_t min_cp[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < min_cp[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
    return n;
  };
  std::size_t i = 0;
  while (i < text.size()) {
    auto n = valid_from(i);
    if (n == 0) break;
    i += n;
  }
  if (i == text.size()) return std::string(text);
  std::string out(text.substr(0, i));
  while (i < text.size()) {
    auto n = valid_from(i);
    if (n == 0) {
      out += "\xEF\xBF\xBD";
      ++i;
    } else {
      out.append(text.substr(i, n));
      i += n;
    }
  }
  return out;
}

std::string keyspace_prefix(int database) {
  return "__keyspace@" + std::to_string(database) + "__:";
}

std::optional<std::string_view> key_of_channel(std::string_view channel, std::string_view prefix) {
  if (!channel.starts_with(prefix)) return std::nullopt;
  return channel.substr(prefix.size());
}

std::string missing_notify_flags(std::string_view flags) {
  std::string missing;
  if (flags.find('K') == std::string_view::npos) missing += 'K';
  if (flags.find('A') != std::string_view::npos) return missing;
  for (char c : std::string_view("g$lshzxet")) {
    if (flags.find(c) == std::string_view::npos) missing += c;
  }
  return missing;
}

bool is_removal_event(std::string_view event) {
  for (std::string_view e : {"del", "expired", "evicted", "rename_from", "move_from", "unlink"}) {
    if (event == e) return true;
  }
  return false;
}

bool is_retry_reply(clients::redis_reply_view reply) {
  return reply.is_error() && reply.str().starts_with("WRONGTYPE");
}

namespace {

json text(clients::redis_reply_view v) {
  return to_utf8(v.str());
}

double score_of(std::string_view s) {
  std::string copy(s);
  return std::strtod(copy.c_str(), nullptr);
}

// Sorted by the (valid UTF-8) member, then turned into a JSON object in that order.
json sorted_object(std::vector<std::pair<std::string, json>> entries) {
  std::sort(entries.begin(), entries.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  json out = json::object();
  for (auto& [k, v] : entries) out[k] = std::move(v);
  return out;
}

}  // namespace

key_state decode_state(const std::string& key, clients::redis_reply_view reply) {
  if (reply.is_error()) {
    throw api::connect_error("reading key " + to_utf8(key) +
                             " failed: " + std::string(reply.str()));
  }
  if (!reply.is_array() || reply.size() < 1) {
    throw api::connect_error("reading key " + to_utf8(key) + ": unexpected reply " +
                             reply.describe());
  }
  key_state s;
  const std::string type(reply[0].str());
  s.exists = type != "none" && reply.size() >= 3;
  json v = json::object();
  v["key"] = to_utf8(key);
  json ttl = nullptr;
  if (s.exists && reply[1].is_integer() && reply[1].integer() > 0) ttl = reply[1].integer();
  v["ttl"] = ttl;
  v["type"] = type == "ReJSON-RL" ? std::string("json") : to_utf8(type);
  for (const char* f : {"hash", "string", "json", "list", "set", "zset", "stream"}) v[f] = nullptr;
  if (s.exists) {
    auto data = reply[2];
    if (type == "string" && data.is_string()) {
      v["string"] = text(data);
    } else if (type == "ReJSON-RL" && data.is_string()) {
      v["json"] = text(data);
    } else if (type == "hash") {
      std::vector<std::pair<std::string, json>> fields;
      for (std::size_t i = 0; i + 1 < data.size(); i += 2) {
        fields.emplace_back(to_utf8(data[i].str()), text(data[i + 1]));
      }
      v["hash"] = sorted_object(std::move(fields));
    } else if (type == "list") {
      json list = json::array();
      for (std::size_t i = 0; i < data.size(); ++i) list.push_back(text(data[i]));
      v["list"] = std::move(list);
    } else if (type == "set") {
      std::vector<std::string> members;
      members.reserve(data.size());
      for (std::size_t i = 0; i < data.size(); ++i) members.push_back(to_utf8(data[i].str()));
      std::sort(members.begin(), members.end());
      v["set"] = members;
    } else if (type == "zset") {
      std::vector<std::pair<std::string, json>> members;
      for (std::size_t i = 0; i + 1 < data.size(); i += 2) {
        members.emplace_back(to_utf8(data[i].str()), score_of(data[i + 1].str()));
      }
      v["zset"] = sorted_object(std::move(members));
    } else if (type == "stream") {
      json entries = json::array();
      for (std::size_t i = 0; i < data.size(); ++i) {
        auto entry = data[i];
        if (entry.size() < 2) continue;
        json body = json::object();
        auto fields = entry[1];
        for (std::size_t f = 0; f + 1 < fields.size(); f += 2) {
          body[to_utf8(fields[f].str())] = text(fields[f + 1]);
        }
        entries.push_back(json{{"id", std::string(entry[0].str())}, {"body", std::move(body)}});
      }
      v["stream"] = std::move(entries);
    }
  }
  s.digest = fnv1a64(v.dump());
  s.value = std::move(v);
  return s;
}

const api::schema_ptr& key_value_schema() {
  static const api::schema_ptr schema =
      std::make_shared<const json>(json::parse(R"({"type":"struct","fields":[
    {"type":"string","optional":false,"field":"key"},
    {"type":"int64","optional":true,"field":"ttl"},
    {"type":"string","optional":false,"field":"type"},
    {"type":"map","keys":{"type":"string","optional":false},
     "values":{"type":"string","optional":false},"optional":true,"field":"hash"},
    {"type":"string","optional":true,"field":"string"},
    {"type":"string","optional":true,"field":"json"},
    {"type":"array","items":{"type":"string","optional":false},"optional":true,"field":"list"},
    {"type":"array","items":{"type":"string","optional":false},"optional":true,"field":"set"},
    {"type":"map","keys":{"type":"string","optional":false},
     "values":{"type":"double","optional":false},"optional":true,"field":"zset"},
    {"type":"array","items":{"type":"struct","fields":[
       {"type":"string","optional":false,"field":"id"},
       {"type":"map","keys":{"type":"string","optional":false},
        "values":{"type":"string","optional":false},"optional":false,"field":"body"}],
       "optional":false},"optional":true,"field":"stream"},
    {"type":"string","optional":true,"field":"event"}],
    "optional":false,"name":"com.redis.kafka.connect.keys.Value"})"));
  return schema;
}

}  // namespace ferry::redis::keys
