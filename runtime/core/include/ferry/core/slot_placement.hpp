#pragma once

#include <compare>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace ferry::core {

// A unit of work in a cluster: a connector instance (task == -1) or one of its tasks.
struct work_unit {
  std::string connector;
  int task = -1;
  auto operator<=>(const work_unit&) const = default;
};

// Where each unit of work lives: one of `slots` slots (the partitions of the slot topic, which
// the group coordinator hands out to workers). A pure function of the order of calls, so every
// worker that replays the config topic computes the same placement. A new unit goes to the lowest
// slot with the fewest units; units stay in their slot for as long as they exist, so a change to
// one connector never moves another connector's work.
class slot_placement {
 public:
  explicit slot_placement(int slots);

  int slots() const { return static_cast<int>(load_.size()); }

  void add_connector(const std::string& connector);
  // Places tasks 0..count-1 (those not placed yet) and removes tasks >= count.
  void set_tasks(const std::string& connector, int count);
  void remove_connector(const std::string& connector);

  // -1 when the unit is not placed.
  int slot_of(const work_unit& unit) const;
  // The units placed in any of `owned`, in unit order.
  std::vector<work_unit> units_in(const std::set<int>& owned) const;

 private:
  void place(const work_unit& unit);
  void remove(const work_unit& unit);

  std::vector<int> load_;            // units per slot
  std::map<work_unit, int> placed_;  // unit -> slot
};

}  // namespace ferry::core
