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

std::vector<ferry::storage::source_offset> take(submitted_records& s) {
  return s.take_committable();
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
  std::vector<json> seen;
  auto keep = [&](source_record& r) { seen.push_back(r.value); };
  s.ack(n1, keep);
  s.ack(n2, keep);
  s.ack(p, keep);
  CHECK(seen == std::vector<json>{"n1", "n2", "1"});
  CHECK(s.outstanding() == 0);  // folded as soon as acknowledged, before any commit
  auto offsets = take(s);
  REQUIRE(offsets.size() == 1);  // no offset for the partition-less records
  CHECK(offsets[0].partition == json{{"stream", "s"}});
}

TEST_CASE("submitted_records hands each record back once, when it is acknowledged") {
  submitted_records s;
  std::vector<submitted_records::entry*> entries;
  for (int i = 0; i < 5; ++i) entries.push_back(s.submit(record("s", std::to_string(i))));
  std::vector<std::string> seen;
  for (auto it = entries.rbegin(); it != entries.rend(); ++it) {  // acks arrive reversed
    s.ack(*it, [&](source_record& r) { seen.push_back(r.value.get<std::string>()); });
  }
  CHECK(seen == std::vector<std::string>{"4", "3", "2", "1", "0"});
  CHECK(s.outstanding() == 0);
  auto offsets = take(s);
  REQUIRE(offsets.size() == 1);
  CHECK(offsets[0].offset == json{{"id", "4"}});
  CHECK(take(s).empty());
}

TEST_CASE("submitted_records commits the offset of a record its user moved away") {
  submitted_records s;
  auto* a = s.submit(record("s", "1"));
  auto* b = s.submit(record("s", "2"));
  std::vector<source_record> kept;
  auto move_away = [&](source_record& r) {
    auto offset = r.source_offset;
    kept.push_back(std::move(r));
    r.source_offset = std::move(offset);
  };
  s.ack(b, move_away);  // waits for a
  s.ack(a, move_away);
  REQUIRE(kept.size() == 2);
  CHECK(kept[0].value == "2");
  CHECK(kept[1].value == "1");
  auto offsets = take(s);
  REQUIRE(offsets.size() == 1);
  CHECK(offsets[0].offset == json{{"id", "2"}});
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
