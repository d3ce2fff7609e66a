#include <doctest/doctest.h>

#include <hiredis/hiredis.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <thread>

#include "ferry/clients/redis_cluster.hpp"

using namespace ferry::clients;
using namespace ferry::clients::cluster;

namespace {

// Replies parsed by hiredis from RESP text, as a server would send them.
std::vector<redis_reply> parse_replies(const std::string& resp) {
  std::vector<redis_reply> out;
  redisReader* reader = redisReaderCreate();
  REQUIRE(redisReaderFeed(reader, resp.data(), resp.size()) == REDIS_OK);
  for (;;) {
    void* raw = nullptr;
    REQUIRE(redisReaderGetReply(reader, &raw) == REDIS_OK);
    if (!raw) break;
    out.emplace_back(static_cast<redisReply*>(raw));
  }
  redisReaderFree(reader);
  return out;
}

std::vector<std::string_view> argv(std::initializer_list<std::string_view> a) {
  return a;
}

// A COMMAND entry in Redis 7's shape (without key specs and with optional subcommands).
std::string command_entry(const std::string& name, int first_key, const std::string& flag,
                          const std::string& subcommands = "") {
  std::string e = "*10\r\n$" + std::to_string(name.size()) + "\r\n" + name + "\r\n:-2\r\n";
  e += "*1\r\n+" + flag + "\r\n";
  e += ":" + std::to_string(first_key) + "\r\n:" + std::to_string(first_key) + "\r\n:1\r\n";
  e += "*0\r\n*0\r\n*0\r\n";
  e += subcommands.empty() ? "*0\r\n" : subcommands;
  return e;
}

std::string command_reply() {
  std::vector<std::string> entries = {
      command_entry("set", 1, "write"),
      command_entry("get", 1, "readonly"),
      command_entry("hset", 1, "write"),
      command_entry("expire", 1, "write"),
      command_entry("ping", 0, "fast"),
      command_entry("publish", 0, "pubsub"),
      command_entry("wait", 0, "noscript"),
      command_entry("multi", 0, "fast"),
      command_entry("exec", 0, "noscript"),
      command_entry("eval", 0, "movablekeys"),
      command_entry("xread", 0, "readonly"),
      command_entry("getex", 1, "write"),
      command_entry("xgroup", 0, "write", "*1\r\n" + command_entry("xgroup|create", 2, "write")),
  };
  std::string r = "*" + std::to_string(entries.size()) + "\r\n";
  for (const auto& e : entries) r += e;
  return r;
}

command_table learned_table() {
  command_table t;
  auto replies = parse_replies(command_reply());
  REQUIRE(replies.size() == 1);
  REQUIRE(t.learn(replies[0].view()));
  return t;
}

}  // namespace

TEST_CASE("cluster: CRC16 XMODEM and key slots") {
  CHECK(crc16("123456789") == 0x31C3);
  CHECK(crc16("") == 0);
  CHECK(key_slot("foo") == 12182);
  CHECK(key_slot("bar") == 5061);
  CHECK(key_slot("{user1000}.following") == key_slot("{user1000}.followers"));
  CHECK(key_slot("{user1000}.following") == key_slot("user1000"));
  // Only the first {...} counts, and only when not empty.
  CHECK(key_slot("foo{bar}{zap}") == key_slot("bar"));
  CHECK(key_slot("foo{}{bar}") == crc16("foo{}{bar}") % 16384);
  CHECK(key_slot("foo{{bar}}zap") == key_slot("{bar"));
  CHECK(key_slot("{bar") == crc16("{bar") % 16384);
  for (const char* k : {"a", "key:1", "order:1700000000000-0", "\xff\xfe"}) {
    int s = key_slot(k);
    CHECK(s >= 0);
    CHECK(s < slot_count);
  }
}

TEST_CASE("cluster: split_commands walks a pipeline's RESP") {
  redis_pipeline p;
  p.add({"SET", "k1", "v\r\n1"});
  p.add({"PING"});
  p.add({"HSET", "h", "f", ""});
  auto commands = split_commands(p.buffer());
  REQUIRE(commands.size() == 3);
  CHECK(commands[0].args == argv({"SET", "k1", "v\r\n1"}));
  CHECK(commands[1].args == argv({"PING"}));
  CHECK(commands[2].args == argv({"HSET", "h", "f", ""}));
  CHECK(commands[0].offset == 0);
  CHECK(commands[1].offset == commands[0].size);
  CHECK(commands[2].offset + commands[2].size == p.buffer().size());
  CHECK(p.buffer().substr(commands[1].offset, commands[1].size) == "*1\r\n$4\r\nPING\r\n");
  CHECK(split_commands("").empty());

  CHECK_THROWS_AS(split_commands("*2\r\n$3\r\nGET\r\n"), std::invalid_argument);
  CHECK_THROWS_AS(split_commands("*1\r\n$10\r\nGET\r\n"), std::invalid_argument);
  CHECK_THROWS_AS(split_commands("+OK\r\n"), std::invalid_argument);
  CHECK_THROWS_AS(split_commands("*1\r\n$3\r\nGETxx"), std::invalid_argument);
}

TEST_CASE("cluster: command_table finds first keys, from COMMAND and for movable keys") {
  auto t = learned_table();
  CHECK(t.first_key(argv({"SET", "k", "v"})) == "k");
  CHECK(t.first_key(argv({"set", "k", "v"})) == "k");
  CHECK(t.first_key(argv({"GETEX", "g"})) == "g");  // only known from COMMAND
  CHECK_FALSE(t.first_key(argv({"PING"})));
  CHECK_FALSE(t.first_key(argv({"PUBLISH", "channel", "m"})));
  CHECK_FALSE(t.first_key(argv({"WAIT", "1", "100"})));
  CHECK_FALSE(t.first_key(argv({"NOSUCHCOMMAND", "x"})));
  CHECK(t.first_key(argv({"XGROUP", "CREATE", "stream", "g", "$"})) == "stream");
  CHECK(t.first_key(argv({"EVAL", "return 1", "2", "a", "b", "arg"})) == "a");
  CHECK_FALSE(t.first_key(argv({"EVAL", "return 1", "0", "arg"})));
  CHECK(t.first_key(argv({"EVALSHA", "abc", "1", "k"})) == "k");
  CHECK(t.first_key(argv({"FCALL", "f", "1", "k"})) == "k");
  CHECK(t.first_key(argv({"XREAD", "COUNT", "10", "streams", "s1", "s2", "0", "0"})) == "s1");
  CHECK(t.first_key(argv({"XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", ">"})) == "s");
  CHECK(t.first_key(argv({"ZUNION", "2", "z1", "z2"})) == "z1");
  CHECK(t.first_key(argv({"BLMPOP", "0", "1", "l", "LEFT"})) == "l");
  CHECK(t.writes(argv({"SET", "k", "v"})));
  CHECK_FALSE(t.writes(argv({"GET", "k"})));

  command_table builtin;  // before COMMAND answered
  CHECK(builtin.first_key(argv({"HSET", "h", "f", "v"})) == "h");
  CHECK(builtin.first_key(argv({"XGROUP", "CREATE", "s", "g", "0"})) == "s");
  CHECK_FALSE(builtin.first_key(argv({"GETEX", "g"})));
  auto not_a_table = parse_replies("-ERR unknown command\r\n");
  CHECK_FALSE(builtin.learn(not_a_table[0].view()));
  CHECK(builtin.first_key(argv({"SET", "k", "v"})) == "k");
}

TEST_CASE("cluster: group_units keeps MULTI/EXEC blocks together under their first key") {
  auto t = learned_table();
  redis_pipeline p;
  p.add({"SET", "a", "1"});      // 0
  p.add({"MULTI"});              // 1
  p.add({"SET", "b", "2"});      // 2
  p.add({"EXPIRE", "b", "10"});  // 3
  p.add({"EXEC"});               // 4
  p.add({"PING"});               // 5
  p.add({"WAIT", "1", "100"});   // 6
  p.add({"GET", "{b}x"});        // 7
  auto commands = split_commands(p.buffer());
  auto units = group_units(commands, t);
  REQUIRE(units.size() == 5);
  CHECK(units[0].type == unit::kind::command);
  CHECK(units[0].slot == key_slot("a"));
  CHECK(units[0].writes);
  CHECK(units[1].type == unit::kind::transaction);
  CHECK(units[1].first == 1);
  CHECK(units[1].count == 4);
  CHECK(units[1].slot == key_slot("b"));
  CHECK(units[1].writes);
  CHECK(units[2].first == 5);
  CHECK_FALSE(units[2].slot);
  CHECK(units[3].type == unit::kind::wait);
  CHECK(units[4].slot == key_slot("b"));
  CHECK_FALSE(units[4].writes);
}

TEST_CASE("cluster: make_batches splits per node in order, with ASKING and WAIT copies") {
  std::vector<unit> units = {
      {.type = unit::kind::command, .first = 0, .count = 1, .slot = 1, .writes = true},
      {.type = unit::kind::command, .first = 1, .count = 1, .slot = 2, .writes = true},
      {.type = unit::kind::transaction, .first = 2, .count = 3, .slot = 1, .writes = true},
      {.type = unit::kind::command, .first = 5, .count = 1, .slot = 3, .writes = false},
      {.type = unit::kind::wait, .first = 6, .count = 1, .slot = std::nullopt},
  };
  std::vector<unit_route> routes = {{.unit = 0, .node = 0},
                                    {.unit = 1, .node = 1},
                                    {.unit = 2, .node = 0},
                                    {.unit = 3, .node = 2, .asking = true},
                                    {.unit = 4, .node = 0}};
  auto batches = make_batches(units, routes);
  REQUIRE(batches.size() == 3);
  CHECK(batches[0].node == 0);
  CHECK(batches[0].replies == std::vector<std::size_t>{0, 2, 3, 4, 6});
  CHECK(batches[1].node == 1);
  CHECK(batches[1].replies == std::vector<std::size_t>{1, 6});
  CHECK(batches[2].node == 2);
  CHECK(batches[2].replies == std::vector<std::size_t>{node_batch::asking_reply, 5});

  // A WAIT with no write before it goes where its route says.
  std::vector<unit> only_wait = {{.type = unit::kind::wait, .first = 0, .count = 1}};
  auto single = make_batches(only_wait, {{.unit = 0, .node = 4}});
  REQUIRE(single.size() == 1);
  CHECK(single[0].node == 4);
  CHECK(single[0].replies == std::vector<std::size_t>{0});
}

TEST_CASE("cluster: place_replies restores the caller's order and finds redirections") {
  std::vector<unit> units = {
      {.type = unit::kind::command, .first = 0, .count = 1, .slot = 10, .writes = true},
      {.type = unit::kind::command, .first = 1, .count = 1, .slot = 20, .writes = true},
      {.type = unit::kind::command, .first = 2, .count = 1, .slot = 10, .writes = true},
      {.type = unit::kind::wait, .first = 3, .count = 1},
  };
  std::vector<std::size_t> unit_of = {0, 1, 2, 3};
  std::vector<node_batch> batches = {
      {.node = 0, .replies = {0, 2, 3}},
      {.node = 1, .replies = {node_batch::asking_reply, 1, 3}},
  };
  std::vector<std::vector<redis_reply>> replies;
  replies.push_back(parse_replies("+OK0\r\n-MOVED 10 127.0.0.1:7002\r\n:2\r\n"));
  replies.push_back(parse_replies("+OK\r\n+OK1\r\n:1\r\n"));
  std::vector<std::optional<redis_reply>> results(4);
  auto outcome = place_replies(units, unit_of, batches, replies, results);
  for (const auto& r : results) REQUIRE(r.has_value());
  CHECK(results[0]->view().str() == "OK0");
  CHECK(results[1]->view().str() == "OK1");
  CHECK(results[2]->view().is_error());
  CHECK(results[3]->view().integer() == 1);  // the smallest WAIT count
  REQUIRE(outcome.size() == 1);
  CHECK(outcome.at(2).type == redirect::kind::moved);
  CHECK(outcome.at(2).slot == 10);
  CHECK(outcome.at(2).address == "127.0.0.1:7002");
  CHECK(outcome.at(2).from_node == 0);
}

TEST_CASE("cluster: parse_redirect") {
  auto moved = parse_redirect("MOVED 3999 127.0.0.1:6381");
  CHECK(moved.type == redirect::kind::moved);
  CHECK(moved.slot == 3999);
  CHECK(moved.address == "127.0.0.1:6381");
  auto ask = parse_redirect("ASK 12182 10.0.0.2:7000");
  CHECK(ask.type == redirect::kind::ask);
  CHECK(ask.slot == 12182);
  CHECK(parse_redirect("MOVED 1 :7000").address == ":7000");
  CHECK(parse_redirect("TRYAGAIN Multiple keys request during rehashing of slot").type ==
        redirect::kind::retry);
  CHECK(parse_redirect("CLUSTERDOWN The cluster is down").type == redirect::kind::retry);
  CHECK(parse_redirect("ERR wrong number of arguments").type == redirect::kind::none);
  CHECK(parse_redirect("WRONGTYPE Operation against a key").type == redirect::kind::none);
  CHECK(parse_redirect("MOVED nonsense").type == redirect::kind::none);
  CHECK(parse_redirect("MOVED 99999 h:1").type == redirect::kind::none);
}

TEST_CASE("cluster: units_to_resend keeps the per-slot order of writes") {
  auto cmd = [](std::size_t first, int slot) {
    return unit{
        .type = unit::kind::command, .first = first, .count = 1, .slot = slot, .writes = true};
  };
  std::vector<unit> units = {cmd(0, 5), cmd(1, 7),
                             cmd(2, 5), cmd(3, 5),
                             cmd(4, 7), unit{.type = unit::kind::wait, .first = 5, .count = 1}};
  std::vector<std::size_t> sent = {0, 1, 2, 3, 4, 5};
  redirect ok;
  redirect moved{.type = redirect::kind::moved, .slot = 5, .address = "h:1"};
  redirect ask{.type = redirect::kind::ask, .slot = 5, .address = "h:2"};
  redirect retry{.type = redirect::kind::retry};

  SUBCASE("nothing redirected: nothing again") {
    CHECK(units_to_resend(units, sent, {ok, ok, ok, ok, ok, ok}).empty());
  }
  SUBCASE("MOVED: that unit and every later unit of its slot, and the WAIT after them") {
    // Unit 3 was served (e.g. the map flipped between them): it still goes again, after 2.
    CHECK(units_to_resend(units, sent, {ok, ok, moved, ok, ok, ok}) ==
          std::vector<std::size_t>{2, 3, 5});
  }
  SUBCASE("a retriable error keeps the order too") {
    CHECK(units_to_resend(units, sent, {retry, ok, ok, ok, ok, ok}) ==
          std::vector<std::size_t>{0, 2, 3, 5});
  }
  SUBCASE("ASK: only the redirected units; the migrating node served the others' keys") {
    CHECK(units_to_resend(units, sent, {ask, ok, ok, ask, ok, ok}) ==
          std::vector<std::size_t>{0, 3, 5});
  }
  SUBCASE("a later round only looks at what it sent") {
    CHECK(units_to_resend(units, {2, 3}, {ok, moved}) == std::vector<std::size_t>{3});
  }
}

TEST_CASE("cluster: make_redis_client picks the client for the topology") {
  redis_endpoint ep;
  CHECK(dynamic_cast<redis_connection*>(make_redis_client(ep).get()) != nullptr);
  ep.cluster = true;
  CHECK(dynamic_cast<redis_cluster_client*>(make_redis_client(ep).get()) != nullptr);
  ep.database = 3;
  redis_cluster_client c(ep);
  CHECK_THROWS_AS(c.connect(), ferry::api::connect_error);
}

// Not a unit test: tests/integration/test_redis_cluster.py runs it against a real cluster, while
// it moves slots, with FERRY_REDIS_CLUSTER=host:port. Without that variable it does nothing.
// Each round writes every key twice in one pipeline (a placeholder, then "v<i>-r<round>"),
// every 10th key inside MULTI/EXEC with an EXPIRE, and ends with PING and WAIT. It runs rounds
// until the file FERRY_REDIS_CLUSTER_STOP exists (at least one); after each round and each retry
// it writes the number of rounds done and of batches retried to FERRY_REDIS_CLUSTER_REPORT.
TEST_CASE("cluster: live workload against FERRY_REDIS_CLUSTER") {
  const char* seed = std::getenv("FERRY_REDIS_CLUSTER");
  if (!seed || !*seed) return;
  auto env = [](const char* name, const char* fallback) {
    const char* v = std::getenv(name);
    return std::string(v && *v ? v : fallback);
  };
  const int keys = std::stoi(env("FERRY_REDIS_CLUSTER_KEYS", "100000"));
  const int batch = 1000;
  const auto stop_file = env("FERRY_REDIS_CLUSTER_STOP", "");
  const auto report_file = env("FERRY_REDIS_CLUSTER_REPORT", "");
  auto endpoint = redis_endpoint::parse_uri(std::string("redis://") + seed);
  endpoint.cluster = true;
  endpoint.timeout = std::chrono::milliseconds(10000);
  auto client = make_redis_client(endpoint);
  client->connect();
  int rounds = 0;
  int io_errors = 0;
  auto write_report = [&] {
    if (report_file.empty()) return;
    auto partial = report_file + ".tmp";
    std::ofstream(partial) << rounds << " " << io_errors << "\n";
    std::filesystem::rename(partial, report_file);
  };
  for (;;) {
    auto round_tag = "-r" + std::to_string(rounds);
    for (int start = 0; start < keys; start += batch) {
      redis_pipeline p;
      std::vector<std::string> names, values;
      for (int i = start; i < std::min(keys, start + batch); ++i) {
        names.push_back("k" + std::to_string(i));
        values.push_back("v" + std::to_string(i) + round_tag);
      }
      for (const auto& k : names) p.add({"SET", k, "placeholder"});
      for (std::size_t j = 0; j < names.size(); ++j) {
        if (j % 10 == 0) {
          p.add({"MULTI"});
          p.add({"SET", names[j], values[j]});
          p.add({"EXPIRE", names[j], "3600"});
          p.add({"EXEC"});
        } else {
          p.add({"SET", names[j], values[j]});
        }
      }
      p.add({"PING"});
      p.add({"WAIT", "0", "100"});
      std::vector<redis_reply> replies;
      for (int attempt = 0;; ++attempt) {
        try {
          replies = client->execute(p);
          break;
        } catch (const redis_io_error& e) {
          // Retriable, as for the sink: the whole batch again, for up to ~30 s (a master
          // being restarted).
          ++io_errors;
          write_report();
          MESSAGE("retrying a batch: " << e.what());
          REQUIRE(attempt < 300);
          std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
      }
      REQUIRE(replies.size() == p.size());
      for (std::size_t r = 0; r < replies.size(); ++r) {
        INFO("reply " << r << ": " << replies[r].view().describe());
        REQUIRE_FALSE(replies[r].view().is_error());
      }
      CHECK(replies[replies.size() - 2].view().str() == "PONG");
      CHECK(replies.back().view().is_integer());
    }
    ++rounds;
    write_report();
    if (stop_file.empty() || std::ifstream(stop_file).good()) break;
  }
  auto* cluster = dynamic_cast<redis_cluster_client*>(client.get());
  REQUIRE(cluster != nullptr);
  CHECK_FALSE(cluster->node_for_slot(key_slot("k0")).empty());
  // The server's COMMAND table was read: hundreds of commands, not the built-in few.
  CHECK(cluster->commands().size() > 200);
  CHECK(cluster->commands().first_key(argv({"GETEX", "g", "PERSIST"})) == "g");
  CHECK(cluster->commands().first_key(argv({"XGROUP", "CREATE", "s", "g", "$"})) == "s");
  CHECK(cluster->commands().first_key(argv({"EVAL", "return 1", "1", "e"})) == "e");
  CHECK_FALSE(cluster->commands().first_key(argv({"PUBLISH", "c", "m"})));
  CHECK_FALSE(cluster->commands().writes(argv({"GET", "k"})));
  CHECK(cluster->commands().writes(argv({"HSET", "h", "f", "v"})));
}
