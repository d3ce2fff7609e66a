#include "ferry/storage/config_topic_state.hpp"

#include <type_traits>

namespace ferry::storage {

using records::commit_record;
using records::connector_config_record;
using records::ignored_record;
using records::restart_record;
using records::target_state_record;
using records::task_config_record;

const cluster_connector* config_topic_state::find(const std::string& name) const {
  auto it = connectors_.find(name);
  return it == connectors_.end() ? nullptr : &it->second;
}

config_topic_state::change config_topic_state::apply(const records::config_record& record) {
  using kind = change::kind;
  return std::visit(
      [this](const auto& r) -> change {
        using T = std::decay_t<decltype(r)>;
        if constexpr (std::is_same_v<T, connector_config_record>) {
          if (!r.properties) {
            if (connectors_.erase(r.connector) == 0) return {};
            pending_tasks_.erase(r.connector);
            return {kind::connector_removed, r.connector, {}, -1};
          }
          bool exists = connectors_.count(r.connector) > 0;
          if (exists && !r.create_token.empty()) return {};  // lost a creation race
          auto& c = connectors_[r.connector];
          if (!exists) c.create_token = r.create_token;
          c.config = *r.properties;
          auto ts = target_states_.find(r.connector);
          c.state = ts == target_states_.end() ? target_state::started : ts->second;
          return {kind::connector_config, r.connector, {}, -1};
        } else if constexpr (std::is_same_v<T, target_state_record>) {
          auto state = r.state.value_or(target_state::started);
          if (r.state) {
            target_states_[r.connector] = state;
          } else {
            target_states_.erase(r.connector);
          }
          auto it = connectors_.find(r.connector);
          if (it == connectors_.end() || it->second.state == state) return {};
          it->second.state = state;
          return {kind::target_state, r.connector, {}, -1};
        } else if constexpr (std::is_same_v<T, task_config_record>) {
          if (r.properties) pending_tasks_[r.connector][r.task] = *r.properties;
          return {};
        } else if constexpr (std::is_same_v<T, commit_record>) {
          auto it = connectors_.find(r.connector);
          auto& pending = pending_tasks_[r.connector];
          std::vector<api::config_map> tasks;
          for (int i = 0; i < r.tasks; ++i) {
            auto t = pending.find(i);
            if (t == pending.end()) break;
            tasks.push_back(t->second);
          }
          pending_tasks_.erase(r.connector);
          if (it == connectors_.end()) return {};  // tasks of a deleted connector
          if (static_cast<int>(tasks.size()) != r.tasks) {
            it->second.inconsistent = true;
            return {kind::tasks, r.connector, {}, -1};
          }
          it->second.inconsistent = false;
          it->second.tasks = std::move(tasks);
          return {kind::tasks, r.connector, {}, -1};
        } else if constexpr (std::is_same_v<T, restart_record>) {
          if (!connectors_.count(r.connector)) return {};
          return {kind::restart, r.connector, r, -1};
        } else if constexpr (std::is_same_v<T, records::restart_task_record>) {
          if (!connectors_.count(r.connector)) return {};
          return {kind::restart_task, r.connector, {}, r.task};
        } else {
          static_assert(std::is_same_v<T, ignored_record>);
          return {};
        }
      },
      record);
}

}  // namespace ferry::storage
