#include "ferry/core/slot_placement.hpp"

#include <algorithm>
#include <stdexcept>

namespace ferry::core {

slot_placement::slot_placement(int slots) : load_(static_cast<std::size_t>(slots), 0) {
  if (slots <= 0) throw std::invalid_argument("slot_placement needs at least one slot");
}

void slot_placement::place(const work_unit& unit) {
  if (placed_.count(unit)) return;
  auto lowest = std::min_element(load_.begin(), load_.end());  // the first of the least loaded
  ++*lowest;
  placed_.emplace(unit, static_cast<int>(lowest - load_.begin()));
}

void slot_placement::remove(const work_unit& unit) {
  auto it = placed_.find(unit);
  if (it == placed_.end()) return;
  --load_[static_cast<std::size_t>(it->second)];
  placed_.erase(it);
}

void slot_placement::add_connector(const std::string& connector) {
  place({connector, -1});
}

void slot_placement::set_tasks(const std::string& connector, int count) {
  for (int i = 0; i < count; ++i) place({connector, i});
  auto it = placed_.lower_bound({connector, count});
  while (it != placed_.end() && it->first.connector == connector) {
    auto next = std::next(it);
    remove(it->first);
    it = next;
  }
}

void slot_placement::remove_connector(const std::string& connector) {
  auto it = placed_.lower_bound({connector, -1});
  while (it != placed_.end() && it->first.connector == connector) {
    auto next = std::next(it);
    remove(it->first);
    it = next;
  }
}

int slot_placement::slot_of(const work_unit& unit) const {
  auto it = placed_.find(unit);
  return it == placed_.end() ? -1 : it->second;
}

std::vector<work_unit> slot_placement::units_in(const std::set<int>& owned) const {
  std::vector<work_unit> out;
  for (const auto& [unit, slot] : placed_) {
    if (owned.count(slot)) out.push_back(unit);
  }
  return out;
}

}  // namespace ferry::core
