// Redis Cluster client: routes each command to the master owning its key's slot.
#include "ferry/clients/redis_cluster.hpp"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <future>
#include <set>
#include <stdexcept>
#include <thread>

namespace ferry::clients {

namespace cluster {

namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && lower(a) == lower(b);
}

std::optional<long long> to_integer(std::string_view s) {
  long long v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

// The argument at `at` when the count at `numkeys_at` says there is at least one key.
std::optional<std::string_view> key_after_numkeys(const std::vector<std::string_view>& args,
                                                  std::size_t numkeys_at, std::size_t at) {
  if (args.size() <= at) return std::nullopt;
  auto n = to_integer(args[numkeys_at]);
  if (!n || *n <= 0) return std::nullopt;
  return args[at];
}

bool is_script_call(const std::string& name) {
  return name == "eval" || name == "evalsha" || name == "eval_ro" || name == "evalsha_ro" ||
         name == "fcall" || name == "fcall_ro";
}

}  // namespace

std::uint16_t crc16(std::string_view data) {
  std::uint16_t crc = 0;
  for (unsigned char byte : data) {
    crc = static_cast<std::uint16_t>(crc ^ (byte << 8));
    for (int bit = 0; bit < 8; ++bit) {
      crc = (crc & 0x8000) ? static_cast<std::uint16_t>((crc << 1) ^ 0x1021)
                           : static_cast<std::uint16_t>(crc << 1);
    }
  }
  return crc;
}

int key_slot(std::string_view key) {
  auto open = key.find('{');
  if (open != std::string_view::npos) {
    auto close = key.find('}', open + 1);
    if (close != std::string_view::npos && close > open + 1) {
      key = key.substr(open + 1, close - open - 1);
    }
  }
  return crc16(key) & (slot_count - 1);
}

std::vector<resp_command> split_commands(std::string_view buffer) {
  std::vector<resp_command> commands;
  std::size_t pos = 0;
  auto fail = [&](const char* what) {
    throw std::invalid_argument("RESP pipeline: " + std::string(what) + " at byte " +
                                std::to_string(pos));
  };
  // Reads "<prefix><digits>\r\n".
  auto header = [&](char prefix) -> std::size_t {
    if (pos >= buffer.size() || buffer[pos] != prefix) fail("unexpected type");
    auto eol = buffer.find("\r\n", pos + 1);
    if (eol == std::string_view::npos) fail("truncated header");
    auto n = to_integer(buffer.substr(pos + 1, eol - pos - 1));
    if (!n || *n < 0) fail("bad length");
    pos = eol + 2;
    return static_cast<std::size_t>(*n);
  };
  while (pos < buffer.size()) {
    resp_command c;
    c.offset = pos;
    auto argc = header('*');
    if (argc == 0) fail("empty command");
    c.args.reserve(argc);
    for (std::size_t i = 0; i < argc; ++i) {
      auto len = header('$');
      if (buffer.size() - pos < len + 2) fail("truncated argument");
      c.args.push_back(buffer.substr(pos, len));
      pos += len;
      if (buffer.substr(pos, 2) != "\r\n") fail("missing CRLF");
      pos += 2;
    }
    c.size = pos - c.offset;
    commands.push_back(std::move(c));
  }
  return commands;
}

command_table::command_table() {
  // What ferry's connectors send, for servers that refuse COMMAND (ACLs). The server's own
  // table replaces this at connect.
  for (const char* name :
       {"set",   "del",    "unlink", "expire",  "pexpire", "expireat", "pexpireat", "hset",
        "hmset", "hdel",   "lpush",  "rpush",   "lrem",    "ltrim",    "sadd",      "srem",
        "zadd",  "zrem",   "xadd",   "xack",    "xtrim",   "xdel",     "incr",      "incrby",
        "decr",  "decrby", "append", "persist", "hincrby"}) {
    entries_[name] = entry{.first_key = 1, .write = true};
  }
  for (const char* name :
       {"get",    "exists",    "type",     "ttl",      "pttl",      "hget",   "hgetall", "hmget",
        "lrange", "llen",      "smembers", "scard",    "sismember", "zrange", "zcard",   "zscore",
        "xrange", "xrevrange", "xlen",     "xpending", "strlen",    "mget"}) {
    entries_[name] = entry{.first_key = 1, .write = false};
  }
  entries_["xgroup"] = entry{.container = true};
  for (const char* sub : {"xgroup|create", "xgroup|destroy", "xgroup|setid",
                          "xgroup|createconsumer", "xgroup|delconsumer"}) {
    entries_[sub] = entry{.first_key = 2, .write = true};
  }
  entries_["xinfo"] = entry{.container = true};
  for (const char* sub : {"xinfo|stream", "xinfo|groups", "xinfo|consumers"}) {
    entries_[sub] = entry{.first_key = 2, .write = false};
  }
  entries_["object"] = entry{.container = true};
  entries_["object|encoding"] = entry{.first_key = 2, .write = false};
}

bool command_table::learn(redis_reply_view reply) {
  if (!reply.is_array()) return false;
  std::unordered_map<std::string, entry> learned;
  // COMMAND entries: [name, arity, flags, first key, last key, step, (acl categories, tips,
  // key specs, subcommands: Redis 7)]. Subcommands are named "container|sub".
  auto add = [&](auto& self, redis_reply_view e) -> void {
    if (!e.is_array() || e.size() < 6 || !e[0].is_string() || !e[3].is_integer()) return;
    entry x;
    x.first_key = static_cast<int>(e[3].integer());
    for (std::size_t f = 0; f < e[2].size(); ++f) {
      if (e[2][f].is_string() && e[2][f].str() == "write") x.write = true;
    }
    if (e.size() >= 10 && e[9].is_array() && e[9].size() > 0) {
      x.container = true;
      for (std::size_t s = 0; s < e[9].size(); ++s) self(self, e[9][s]);
    }
    learned[lower(e[0].str())] = x;
  };
  for (std::size_t i = 0; i < reply.size(); ++i) add(add, reply[i]);
  if (learned.size() < 10) return false;
  entries_ = std::move(learned);
  return true;
}

const command_table::entry* command_table::find(const std::vector<std::string_view>& args) const {
  auto it = entries_.find(lower(args[0]));
  if (it == entries_.end()) return nullptr;
  if (it->second.container && args.size() > 1) {
    auto sub = entries_.find(it->first + "|" + lower(args[1]));
    if (sub != entries_.end()) return &sub->second;
  }
  return &it->second;
}

std::optional<std::string_view> command_table::first_key(
    const std::vector<std::string_view>& args) const {
  if (args.empty()) return std::nullopt;
  auto name = lower(args[0]);
  // Commands whose keys move with their arguments: COMMAND says only "movablekeys".
  if (is_script_call(name)) return key_after_numkeys(args, 2, 3);
  if (name == "xread" || name == "xreadgroup") {
    for (std::size_t i = 1; i + 1 < args.size(); ++i) {
      if (iequals(args[i], "streams")) return args[i + 1];
    }
    return std::nullopt;
  }
  if (name == "zunion" || name == "zinter" || name == "zdiff" || name == "zintercard" ||
      name == "sintercard" || name == "lmpop" || name == "zmpop") {
    return key_after_numkeys(args, 1, 2);
  }
  if (name == "blmpop" || name == "bzmpop") return key_after_numkeys(args, 2, 3);
  const auto* e = find(args);
  if (!e || e->first_key <= 0) return std::nullopt;
  auto at = static_cast<std::size_t>(e->first_key);
  if (at >= args.size()) return std::nullopt;
  return args[at];
}

bool command_table::writes(const std::vector<std::string_view>& args) const {
  if (args.empty()) return false;
  if (is_script_call(lower(args[0]))) return true;
  const auto* e = find(args);
  return e ? e->write : true;
}

std::vector<unit> group_units(const std::vector<resp_command>& commands,
                              const command_table& table) {
  std::vector<unit> units;
  std::size_t i = 0;
  while (i < commands.size()) {
    const auto& args = commands[i].args;
    unit u;
    u.first = i;
    if (iequals(args[0], "multi")) {
      u.type = unit::kind::transaction;
      std::size_t end = i + 1;
      while (end < commands.size() && !iequals(commands[end].args[0], "exec") &&
             !iequals(commands[end].args[0], "discard")) {
        ++end;
      }
      if (end == commands.size()) --end;  // no EXEC: the block runs to the end
      u.count = end - i + 1;
      for (std::size_t k = i + 1; k <= end; ++k) {
        auto key = table.first_key(commands[k].args);
        if (key && !u.slot) u.slot = key_slot(*key);
        if (key && table.writes(commands[k].args)) u.writes = true;
      }
    } else if (iequals(args[0], "wait")) {
      u.type = unit::kind::wait;
    } else {
      auto key = table.first_key(args);
      if (key) {
        u.slot = key_slot(*key);
        u.writes = table.writes(args);
      }
    }
    i = u.first + u.count;
    units.push_back(u);
  }
  return units;
}

std::vector<node_batch> make_batches(const std::vector<unit>& units,
                                     const std::vector<unit_route>& routes) {
  std::vector<node_batch> batches;
  auto batch = [&](int node) -> node_batch& {
    for (auto& b : batches) {
      if (b.node == node) return b;
    }
    batches.push_back(node_batch{.node = node, .replies = {}});
    return batches.back();
  };
  std::vector<int> written;  // nodes that received writes so far this round, first use order
  for (const auto& r : routes) {
    const auto& u = units[r.unit];
    if (u.type == unit::kind::wait) {
      if (written.empty()) {
        batch(r.node).replies.push_back(u.first);
      } else {
        for (int n : written) batch(n).replies.push_back(u.first);
      }
      continue;
    }
    auto& b = batch(r.node);
    if (r.asking) b.replies.push_back(node_batch::asking_reply);
    for (std::size_t k = u.first; k < u.first + u.count; ++k) b.replies.push_back(k);
    if (u.writes && std::find(written.begin(), written.end(), r.node) == written.end()) {
      written.push_back(r.node);
    }
  }
  return batches;
}

redirect parse_redirect(std::string_view error) {
  redirect r;
  auto word = error.substr(0, error.find(' '));
  if (word == "MOVED" || word == "ASK") {
    // "MOVED <slot> <host>:<port>"
    auto rest = error.substr(word.size() + 1);
    auto space = rest.find(' ');
    if (space == std::string_view::npos) return r;
    auto slot = to_integer(rest.substr(0, space));
    if (!slot || *slot < 0 || *slot >= slot_count) return r;
    r.type = word == "MOVED" ? redirect::kind::moved : redirect::kind::ask;
    r.slot = static_cast<int>(*slot);
    r.address = std::string(rest.substr(space + 1));
  } else if (word == "TRYAGAIN" || word == "CLUSTERDOWN" || word == "LOADING" ||
             word == "MASTERDOWN") {
    r.type = redirect::kind::retry;
  }
  return r;
}

std::vector<std::size_t> units_to_resend(const std::vector<unit>& units,
                                         const std::vector<std::size_t>& sent,
                                         const std::vector<redirect>& outcome) {
  std::vector<std::size_t> again;
  std::map<int, redirect::kind> redirected;  // slot -> what redirected its first unit
  for (std::size_t i = 0; i < sent.size(); ++i) {
    const auto& u = units[sent[i]];
    const auto& o = outcome[i];
    if (u.type == unit::kind::wait) {
      // Writes before it go again: wait for them again.
      if (!again.empty()) again.push_back(sent[i]);
      continue;
    }
    if (!u.slot) {
      if (o.type != redirect::kind::none) again.push_back(sent[i]);
      continue;
    }
    auto it = redirected.find(*u.slot);
    if (o.type != redirect::kind::none) {
      again.push_back(sent[i]);
      if (it == redirected.end()) redirected.emplace(*u.slot, o.type);
    } else if (it != redirected.end() && it->second != redirect::kind::ask) {
      again.push_back(sent[i]);
    }
  }
  return again;
}

std::map<std::size_t, redirect> place_replies(const std::vector<unit>& units,
                                              const std::vector<std::size_t>& unit_of,
                                              const std::vector<node_batch>& batches,
                                              std::vector<std::vector<redis_reply>>& replies,
                                              std::vector<std::optional<redis_reply>>& results) {
  std::map<std::size_t, redirect> outcome;
  for (std::size_t b = 0; b < batches.size(); ++b) {
    for (std::size_t p = 0; p < batches[b].replies.size(); ++p) {
      auto idx = batches[b].replies[p];
      if (idx == node_batch::asking_reply) continue;
      auto& reply = replies[b][p];
      auto view = reply.view();
      auto u = unit_of[idx];
      if (units[u].type == unit::kind::wait) {
        // Its copies went to several nodes: keep the smallest count (an error beats any count).
        auto& kept = results[idx];
        bool smaller = kept && !kept->view().is_error() &&
                       (view.is_error() || (view.is_integer() && kept->view().is_integer() &&
                                            view.integer() < kept->view().integer()));
        if (!kept || smaller) kept = std::move(reply);
        continue;
      }
      if (view.is_error() && !outcome.contains(u)) {
        auto r = parse_redirect(view.str());
        if (r.type != redirect::kind::none) {
          r.from_node = batches[b].node;
          r.error = std::string(view.str());
          outcome.emplace(u, std::move(r));
        }
      }
      results[idx] = std::move(reply);
    }
  }
  return outcome;
}

}  // namespace cluster

namespace {

constexpr int max_rounds = 8;

std::pair<std::string, int> split_address(const std::string& address) {
  auto colon = address.rfind(':');
  if (colon == std::string::npos) throw redis_io_error("bad Redis node address: " + address);
  int port = 0;
  auto digits = std::string_view(address).substr(colon + 1);
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), port);
  if (ec != std::errc() || end != digits.data() + digits.size()) {
    throw redis_io_error("bad Redis node address: " + address);
  }
  return {address.substr(0, colon), port};
}

}  // namespace

redis_cluster_client::redis_cluster_client(redis_endpoint seed) : seed_(std::move(seed)) {
  slots_.fill(-1);
}

redis_cluster_client::~redis_cluster_client() {
  close();
}

void redis_cluster_client::close() {
  for (auto& n : nodes_) n.connection->close();
  stale_ = true;
}

std::string redis_cluster_client::node_for_slot(int slot) const {
  if (slot < 0 || slot >= cluster::slot_count || slots_[slot] < 0) return {};
  return nodes_[slots_[slot]].address;
}

int redis_cluster_client::node_index(const std::string& address) {
  for (std::size_t i = 0; i < nodes_.size(); ++i) {
    if (nodes_[i].address == address) return static_cast<int>(i);
  }
  auto [host, port] = split_address(address);
  redis_endpoint ep = seed_;
  ep.host = host;
  ep.port = port;
  ep.cluster = false;
  nodes_.push_back(node{.address = address, .connection = std::make_unique<redis_connection>(ep)});
  return static_cast<int>(nodes_.size() - 1);
}

void redis_cluster_client::connect() {
  if (seed_.database != 0) {
    throw api::connect_error("Redis Cluster has only database 0 (redis.database is " +
                             std::to_string(seed_.database) + ")");
  }
  if (stale_) refresh_slots();
  std::set<int> masters(slots_.begin(), slots_.end());
  for (int n : masters) {
    if (n >= 0) nodes_[n].connection->connect();
  }
}

void redis_cluster_client::refresh_slots() {
  // Known nodes first (the seed may be gone), then the seed.
  std::vector<int> candidates;
  for (std::size_t i = 0; i < nodes_.size(); ++i) candidates.push_back(static_cast<int>(i));
  int seed = node_index(seed_.address());
  if (std::find(candidates.begin(), candidates.end(), seed) == candidates.end()) {
    candidates.push_back(seed);
  }
  std::string last_error;
  for (int n : candidates) {
    try {
      if (load_slots_from(*nodes_[n].connection)) return;
      last_error = nodes_[n].address + " returned no slot map";
    } catch (const redis_io_error& e) {
      last_error = e.what();
    }
  }
  throw redis_io_error("no Redis Cluster node gave its slot map: " + last_error);
}

bool redis_cluster_client::load_slots_from(redis_connection& connection) {
  auto reply = connection.command({"CLUSTER", "SLOTS"});
  auto r = reply.view();
  if (r.is_error()) {
    // "ERR This instance has cluster support disabled": a configuration problem, not a retry.
    throw api::connect_error("Redis at " + connection.endpoint().address() +
                             " is not a Redis Cluster node: " + std::string(r.str()));
  }
  if (!r.is_array() || r.size() == 0) return false;
  std::array<int, cluster::slot_count> loaded;
  loaded.fill(-1);
  std::string asked_host = connection.endpoint().host;
  for (std::size_t i = 0; i < r.size(); ++i) {
    // [start, end, [host, port, id, ...], replicas...]
    auto range = r[i];
    if (range.size() < 3 || !range[0].is_integer() || !range[1].is_integer() ||
        range[2].size() < 2) {
      continue;
    }
    auto first = range[0].integer();
    auto last = range[1].integer();
    if (first < 0 || last >= cluster::slot_count || first > last) continue;
    std::string host(range[2][0].str());
    if (host.empty() || host == "?") host = asked_host;  // "unknown endpoint": the node we asked
    int node = node_index(host + ":" + std::to_string(range[2][1].integer()));
    for (auto s = first; s <= last; ++s) loaded[static_cast<std::size_t>(s)] = node;
  }
  slots_ = loaded;
  stale_ = false;
  // Nodes that serve no slot any more keep their index but not their socket.
  std::set<int> masters(slots_.begin(), slots_.end());
  for (std::size_t i = 0; i < nodes_.size(); ++i) {
    if (!masters.contains(static_cast<int>(i))) nodes_[i].connection->close();
  }
  if (!commands_learned_) {
    auto info = connection.command({"COMMAND"});
    // Refused (ACLs): the built-in table covers what the connectors send.
    commands_.learn(info.view());
    commands_learned_ = true;
  }
  return true;
}

int redis_cluster_client::route(const cluster::unit& u, int previous_node) const {
  if (u.slot) return slots_[static_cast<std::size_t>(*u.slot)];
  if (previous_node >= 0) return previous_node;
  for (int n : slots_) {
    if (n >= 0) return n;
  }
  return -1;
}

std::vector<std::vector<redis_reply>> redis_cluster_client::send(
    const std::vector<cluster::node_batch>& batches,
    const std::vector<cluster::resp_command>& commands) {
  std::vector<redis_pipeline> pipelines(batches.size());
  for (std::size_t b = 0; b < batches.size(); ++b) {
    for (auto idx : batches[b].replies) {
      if (idx == cluster::node_batch::asking_reply) {
        pipelines[b].add({"ASKING"});
        continue;
      }
      const auto& args = commands[idx].args;
      pipelines[b].begin(args.size());
      for (auto a : args) pipelines[b].arg(a);
    }
  }
  // Every node at once: the batch takes the slowest node's round trip, not their sum.
  std::vector<std::future<std::vector<redis_reply>>> others;
  for (std::size_t b = 1; b < batches.size(); ++b) {
    auto* connection = nodes_[batches[b].node].connection.get();
    const auto* pipeline = &pipelines[b];
    others.push_back(std::async(std::launch::async,
                                [connection, pipeline] { return connection->execute(*pipeline); }));
  }
  std::vector<std::vector<redis_reply>> replies(batches.size());
  std::exception_ptr error;
  try {
    replies[0] = nodes_[batches[0].node].connection->execute(pipelines[0]);
  } catch (...) {
    error = std::current_exception();
  }
  for (std::size_t b = 1; b < batches.size(); ++b) {
    try {
      replies[b] = others[b - 1].get();
    } catch (...) {
      if (!error) error = std::current_exception();
    }
  }
  if (error) {
    stale_ = true;  // a node failed: its slots may have a new master
    std::rethrow_exception(error);
  }
  return replies;
}

std::vector<redis_reply> redis_cluster_client::execute(const redis_pipeline& pipeline) {
  using cluster::redirect;
  if (pipeline.empty()) return {};
  if (stale_) connect();
  auto commands = cluster::split_commands(pipeline.buffer());
  auto units = cluster::group_units(commands, commands_);
  std::vector<std::size_t> unit_of(commands.size());
  for (std::size_t u = 0; u < units.size(); ++u) {
    for (std::size_t k = 0; k < units[u].count; ++k) unit_of[units[u].first + k] = u;
  }
  std::vector<std::optional<redis_reply>> results(commands.size());
  std::vector<std::size_t> todo(units.size());
  for (std::size_t u = 0; u < units.size(); ++u) todo[u] = u;
  std::map<std::size_t, int> ask_node;  // unit -> importing node, for its next send only
  std::string last_redirect;

  for (int round = 0; round < max_rounds; ++round) {
    std::vector<cluster::unit_route> routes;
    int previous = -1;
    for (auto u : todo) {
      cluster::unit_route r{.unit = u, .node = -1, .asking = false};
      if (auto it = ask_node.find(u); it != ask_node.end()) {
        r.node = it->second;
        r.asking = true;
      } else {
        r.node = route(units[u], previous);
      }
      if (r.node < 0) {
        stale_ = true;
        throw redis_io_error("no Redis Cluster node serves slot " +
                             std::to_string(units[u].slot.value_or(-1)));
      }
      if (units[u].slot) previous = r.node;
      routes.push_back(r);
    }
    ask_node.clear();
    auto batches = cluster::make_batches(units, routes);
    auto replies = send(batches, commands);

    auto outcome_of = cluster::place_replies(units, unit_of, batches, replies, results);
    for (auto& [u, r] : outcome_of) {
      last_redirect = r.error;
      if (r.address.starts_with(':')) {
        // "MOVED 3999 :6381": the cluster does not know the host, so it is the one we asked.
        r.address = split_address(nodes_[r.from_node].address).first + r.address;
      }
    }
    std::vector<redirect> outcome;
    for (auto u : todo) {
      auto it = outcome_of.find(u);
      outcome.push_back(it == outcome_of.end() ? redirect{} : it->second);
    }
    auto again = cluster::units_to_resend(units, todo, outcome);
    if (again.empty()) break;
    if (round + 1 == max_rounds) {
      throw redis_io_error("Redis Cluster still redirects after " + std::to_string(max_rounds) +
                           " attempts: " + last_redirect);
    }

    bool moved = false;
    bool retry = false;
    std::vector<std::pair<int, std::string>> moves;
    for (std::size_t i = 0; i < todo.size(); ++i) {
      const auto& o = outcome[i];
      if (o.type == redirect::kind::moved) {
        moved = true;
        moves.emplace_back(o.slot, o.address);
      } else if (o.type == redirect::kind::ask) {
        ask_node[todo[i]] = node_index(o.address);
      } else if (o.type == redirect::kind::retry) {
        retry = true;
      }
    }
    if (moved) {
      refresh_slots();
      // The node that answered MOVED knows it gave the slot away; a node asked for the map may
      // not have heard yet.
      for (const auto& [slot, address] : moves) {
        slots_[static_cast<std::size_t>(slot)] = node_index(address);
      }
    }
    if (retry) std::this_thread::sleep_for(std::chrono::milliseconds(25 << std::min(round, 4)));
    todo = std::move(again);
  }

  std::vector<redis_reply> ordered;
  ordered.reserve(commands.size());
  for (auto& r : results) ordered.push_back(std::move(*r));
  return ordered;
}

std::unique_ptr<redis_client> make_redis_client(const redis_endpoint& endpoint) {
  if (endpoint.cluster) return std::make_unique<redis_cluster_client>(endpoint);
  return std::make_unique<redis_connection>(endpoint);
}

}  // namespace ferry::clients
