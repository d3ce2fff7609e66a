#include "ferry/core/log.hpp"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>

namespace ferry::log {

namespace {
std::atomic<level> g_level{level::info};
thread_local std::string t_context;
std::mutex g_write_mutex;

const char* name(level l) {
  switch (l) {
    case level::trace:
      return "TRACE";
    case level::debug:
      return "DEBUG";
    case level::info:
      return "INFO ";
    case level::warn:
      return "WARN ";
    case level::error:
      return "ERROR";
  }
  return "INFO ";
}
}  // namespace

void set_level(level l) {
  g_level.store(l, std::memory_order_relaxed);
}
level current_level() {
  return g_level.load(std::memory_order_relaxed);
}

bool parse_level(std::string_view text, level& out) {
  for (auto l : {level::trace, level::debug, level::info, level::warn, level::error}) {
    std::string_view n = name(l);
    while (!n.empty() && n.back() == ' ') n.remove_suffix(1);
    if (text == n) {
      out = l;
      return true;
    }
  }
  return false;
}

void set_thread_context(std::string context) {
  t_context = std::move(context);
}

void write(level l, std::string_view logger, std::string_view message) {
  using namespace std::chrono;
  auto now = system_clock::now();
  auto t = system_clock::to_time_t(now);
  auto ms = duration_cast<milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char ts[32];
  std::strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &tm);
  std::string line;
  line.reserve(64 + message.size());
  line += ts;
  char frac[8];
  std::snprintf(frac, sizeof frac, ".%03dZ ", static_cast<int>(ms));
  line += frac;
  line += name(l);
  line += " [";
  line += logger;
  line += "] ";
  line += message;
  if (!t_context.empty()) {
    line += " (";
    line += t_context;
    line += ")";
  }
  line += '\n';
  std::lock_guard lock(g_write_mutex);
  std::fwrite(line.data(), 1, line.size(), stderr);
  std::fflush(stderr);
}

}  // namespace ferry::log
