#include <doctest/doctest.h>

#include <map>
#include <set>

#include "ferry/clients/redis_cluster.hpp"
#include "stream_source/stream_ids.hpp"

using namespace ferry::redis;

TEST_CASE("stream ids parse and compare numerically, not as text") {
  CHECK(parse_stream_id("0-0") == stream_id{0, 0});
  CHECK(parse_stream_id("1700000000000-12") == stream_id{1700000000000, 12});
  CHECK(parse_stream_id("5") == stream_id{5, 0});
  CHECK_FALSE(parse_stream_id("$"));
  CHECK_FALSE(parse_stream_id(">"));
  CHECK_FALSE(parse_stream_id(""));
  CHECK_FALSE(parse_stream_id("1-"));
  CHECK_FALSE(parse_stream_id("1-x"));
  CHECK_FALSE(parse_stream_id("-1"));
  CHECK(id_after("10-0", "9-5"));  // "10-0" < "9-5" as text
  CHECK(id_after("9-10", "9-9"));
  CHECK_FALSE(id_after("9-9", "9-9"));
  CHECK_FALSE(id_after("9-8", "9-9"));
  CHECK(id_after("1-0", ""));  // anything comes after nothing
  CHECK_FALSE(id_after("$", "1-0"));
}

TEST_CASE("each stream of a pattern goes to exactly one task, the same on every worker") {
  CHECK(stream_hash("orders") == stream_hash("orders"));
  CHECK(stream_hash("") == 14695981039346656037ull);  // FNV-1a offset basis: fixed across builds
  std::map<int, int> per_task;
  for (int i = 0; i < 1000; ++i) {
    auto key = "orders:" + std::to_string(i);
    int owners = 0;
    for (int t = 0; t < 3; ++t) {
      if (task_owns_stream(key, t, 3)) {
        ++owners;
        ++per_task[t];
      }
    }
    CHECK(owners == 1);
    CHECK(task_owns_stream(key, 0, 1));
  }
  for (auto [task, n] : per_task) CHECK(n > 250);  // roughly even
}

TEST_CASE("xread groups: one command on a server, one per hash slot on a cluster") {
  std::vector<std::string> keys{"a", "{t}1", "b", "{t}2", "a"};
  auto single = xread_groups(keys, false);
  REQUIRE(single.size() == 1);
  CHECK(single[0] == std::vector<std::size_t>{0, 1, 2, 3, 4});
  auto cluster = xread_groups(keys, true);
  std::set<std::size_t> seen;
  for (const auto& g : cluster) {
    int slot = ferry::clients::cluster::key_slot(keys[g.front()]);
    for (auto i : g) {
      CHECK(ferry::clients::cluster::key_slot(keys[i]) == slot);
      seen.insert(i);
    }
  }
  CHECK(seen.size() == keys.size());
  CHECK(cluster.front() == std::vector<std::size_t>{0, 4});  // "a" twice: one slot
  CHECK(cluster[1] == std::vector<std::size_t>{1, 3});       // hash tag {t}
  CHECK(xread_groups({}, true).empty());
}
