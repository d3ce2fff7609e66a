#include <doctest/doctest.h>

#include <algorithm>

#include "ferry/core/submitted_records.hpp"

using ferry::json;
using ferry::api::source_record;
using ferry::core::submitted_records;

namespace {

source_record record(const std::string& stream, const std::string& id) {
  source_record r;
  r.source_partition = json{{"stream", stream}};
  r.source_offset = json{{"id", id}};
  r.topic = stream;
  r.value = id;
  return r;
}

source_record record_without_partition(const std::string& value) {
  source_record r;
  r.topic = "t";
  r.value = value;
  return r;
}

// take_committable with a callback that records the values it sees.
std::vector<ferry::storage::source_offset> take(submitted_records& s,
                                                std::vector<std::string>* seen = nullptr) {
  return s.take_committable([&](const source_record& r) {
    if (seen) seen->push_back(r.value.get<std::string>());
  });
}

}  // namespace

TEST_CASE("submitted_records commits nothing until the first record is acknowledged") {
  submitted_records s;
  auto* a = s.submit(record("s", "1"));
  auto* b = s.submit(record("s", "2"));
  s.submit(record("s", "3"));
  CHECK(s.outstanding() == 3);

  s.ack(b);  // out of order: record 1 is still in flight
  CHECK(take(s).empty());
  CHECK(s.outstanding() == 3);

  s.ack(a);
  auto offsets = take(s);
  REQUIRE(offsets.size() == 1);
  CHECK(offsets[0].partition == json{{"stream", "s"}});
  CHECK(offsets[0].offset == json{{"id", "2"}});  // the end of the acknowledged prefix
  CHECK(s.outstanding() == 1);
  CHECK(take(s).empty());  // nothing new since
}

TEST_CASE("submitted_records tracks each source partition on its own") {
  submitted_records s;
  auto* s1 = s.submit(record("s", "1"));
  auto* t1 = s.submit(record("t", "1"));
  auto* s2 = s.submit(record("s", "2"));
  s.submit(record("t", "2"));

  s.ack(s2);
  s.ack(t1);
  auto offsets = take(s);
  REQUIRE(offsets.size() == 1);  // "s" is blocked by s1, "t" commits t1
  CHECK(offsets[0].partition == json{{"stream", "t"}});
  CHECK(offsets[0].offset == json{{"id", "1"}});

  s.ack(s1);
  offsets = take(s);
  REQUIRE(offsets.size() == 1);
  CHECK(offsets[0].partition == json{{"stream", "s"}});
  CHECK(offsets[0].offset == json{{"id", "2"}});
  CHECK(s.outstanding() == 1);
}

TEST_CASE("submitted_records drops acknowledged records without a source partition") {
  submitted_records s;
  auto* n1 = s.submit(record_without_partition("n1"));
  auto* n2 = s.submit(record_without_partition("n2"));
  auto* p = s.submit(record("s", "1"));
  s.ack(n1);
  s.ack(n2);
  s.ack(p);
  std::vector<std::string> seen;
  auto offsets = take(s, &seen);
  REQUIRE(offsets.size() == 1);  // no offset for the partition-less records
  CHECK(offsets[0].partition == json{{"stream", "s"}});
  std::sort(seen.begin(), seen.end());
  CHECK(seen == std::vector<std::string>{"1", "n1", "n2"});
  CHECK(s.outstanding() == 0);
}

TEST_CASE("submitted_records calls on_committed once per record, in submission order") {
  submitted_records s;
  std::vector<submitted_records::entry*> entries;
  for (int i = 0; i < 5; ++i) entries.push_back(s.submit(record("s", std::to_string(i))));
  for (auto it = entries.rbegin(); it != entries.rend(); ++it) s.ack(*it);  // acks arrive reversed
  std::vector<std::string> seen;
  auto offsets = take(s, &seen);
  CHECK(seen == std::vector<std::string>{"0", "1", "2", "3", "4"});
  REQUIRE(offsets.size() == 1);
  CHECK(offsets[0].offset == json{{"id", "4"}});
  seen.clear();
  take(s, &seen);
  CHECK(seen.empty());
}

TEST_CASE("submitted_records entry pointers stay valid while more records are submitted") {
  submitted_records s;
  std::vector<submitted_records::entry*> entries;
  for (int i = 0; i < 2000; ++i) entries.push_back(s.submit(record("s", std::to_string(i))));
  for (auto* e : entries) s.ack(e);
  auto offsets = take(s);
  REQUIRE(offsets.size() == 1);
  CHECK(offsets[0].offset == json{{"id", "1999"}});
  CHECK(s.outstanding() == 0);
}
