#pragma once

#include <optional>
#include <string>

namespace ferry::storage {

// Desired state, set by users (config store).
enum class target_state { started, paused, stopped };
// Observed state, reported by workers (status store).
enum class connector_state { unassigned, running, paused, failed, restarting, stopped, destroyed };

std::string to_string(target_state s);     // STARTED / PAUSED / STOPPED
std::string to_string(connector_state s);  // RUNNING / ...
std::optional<target_state> parse_target_state(const std::string& s);
std::optional<connector_state> parse_connector_state(const std::string& s);

}  // namespace ferry::storage
