#include "ferry/storage/states.hpp"

namespace ferry::storage {

std::string to_string(target_state s) {
  switch (s) {
    case target_state::started:
      return "STARTED";
    case target_state::paused:
      return "PAUSED";
    case target_state::stopped:
      return "STOPPED";
  }
  return "STARTED";
}

std::string to_string(connector_state s) {
  switch (s) {
    case connector_state::unassigned:
      return "UNASSIGNED";
    case connector_state::running:
      return "RUNNING";
    case connector_state::paused:
      return "PAUSED";
    case connector_state::failed:
      return "FAILED";
    case connector_state::restarting:
      return "RESTARTING";
    case connector_state::stopped:
      return "STOPPED";
    case connector_state::destroyed:
      return "DESTROYED";
  }
  return "UNASSIGNED";
}

std::optional<target_state> parse_target_state(const std::string& s) {
  if (s == "STARTED" || s == "RUNNING") return target_state::started;
  if (s == "PAUSED") return target_state::paused;
  if (s == "STOPPED") return target_state::stopped;
  return std::nullopt;
}

std::optional<connector_state> parse_connector_state(const std::string& s) {
  for (auto st : {connector_state::unassigned, connector_state::running, connector_state::paused,
                  connector_state::failed, connector_state::restarting, connector_state::stopped,
                  connector_state::destroyed}) {
    if (to_string(st) == s) return st;
  }
  return std::nullopt;
}

}  // namespace ferry::storage
