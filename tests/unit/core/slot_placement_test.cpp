#include <doctest/doctest.h>

#include "ferry/core/slot_placement.hpp"

using ferry::core::slot_placement;
using ferry::core::work_unit;

namespace {

// Slots of a 3-member roundrobin assignment: member m owns the slots p with p % 3 == m.
std::set<int> member_slots(int member, int members, int slots) {
  std::set<int> out;
  for (int p = member; p < slots; p += members) out.insert(p);
  return out;
}

int task_count(const std::vector<work_unit>& units) {
  int n = 0;
  for (const auto& u : units) n += u.task >= 0 ? 1 : 0;
  return n;
}

}  // namespace

TEST_CASE("slot placement: 2 connectors x 6 tasks spread 4/4/4 over 3 roundrobin members") {
  slot_placement p(64);
  p.add_connector("a");
  p.set_tasks("a", 6);
  p.add_connector("b");
  p.set_tasks("b", 6);
  for (int m = 0; m < 3; ++m) {
    CAPTURE(m);
    CHECK(task_count(p.units_in(member_slots(m, 3, 64))) == 4);
  }
  // Every unit is somewhere, once.
  std::set<int> all;
  for (int s = 0; s < 64; ++s) all.insert(s);
  CHECK(p.units_in(all).size() == 14);
}

TEST_CASE("slot placement: units keep their slot while others come and go") {
  slot_placement p(8);
  p.add_connector("a");
  p.set_tasks("a", 3);
  int a1 = p.slot_of({"a", 1});
  p.add_connector("b");
  p.set_tasks("b", 2);
  p.remove_connector("b");
  CHECK(p.slot_of({"b", -1}) == -1);
  CHECK(p.slot_of({"b", 0}) == -1);
  CHECK(p.slot_of({"a", 1}) == a1);
  p.set_tasks("a", 1);  // fewer tasks: 1 and 2 go away
  CHECK(p.slot_of({"a", 0}) >= 0);
  CHECK(p.slot_of({"a", 1}) == -1);
  CHECK(p.slot_of({"a", 2}) == -1);
  // Freed slots are reused, lowest first.
  p.add_connector("c");
  CHECK(p.slot_of({"c", -1}) == 2);
}

TEST_CASE("slot placement: the same calls give the same placement") {
  auto build = [] {
    slot_placement p(16);
    for (const char* c : {"x", "y", "z"}) {
      p.add_connector(c);
      p.set_tasks(c, 5);
    }
    p.remove_connector("y");
    p.add_connector("w");
    p.set_tasks("w", 7);
    return p;
  };
  auto a = build(), b = build();
  for (const char* c : {"x", "z", "w"}) {
    for (int t = -1; t < 7; ++t) CHECK(a.slot_of({c, t}) == b.slot_of({c, t}));
  }
}
