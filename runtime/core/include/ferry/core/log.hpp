#pragma once

#include <sstream>
#include <string>
#include <string_view>

namespace ferry::log {

enum class level { trace, debug, info, warn, error };

// Process-wide threshold; lines below it cost one atomic load.
void set_level(level l);
level current_level();
bool parse_level(std::string_view text, level& out);

// Context printed on every line logged from this thread, e.g. "connector=orders task=0".
// A task runner sets it once on its own thread.
void set_thread_context(std::string context);

// Writes one line to stderr: "2026-11-27T03:45:11.123Z INFO  [logger] message (context)".
void write(level l, std::string_view logger, std::string_view message);

template <typename... Args>
void emit(level l, std::string_view logger, const Args&... args) {
  if (l < current_level()) return;
  std::ostringstream ss;
  (ss << ... << args);
  write(l, logger, ss.str());
}

template <typename... Args>
void info(std::string_view logger, const Args&... args) {
  emit(level::info, logger, args...);
}
template <typename... Args>
void warn(std::string_view logger, const Args&... args) {
  emit(level::warn, logger, args...);
}
template <typename... Args>
void error(std::string_view logger, const Args&... args) {
  emit(level::error, logger, args...);
}
template <typename... Args>
void debug(std::string_view logger, const Args&... args) {
  emit(level::debug, logger, args...);
}

}  // namespace ferry::log
