#include "ferry/core/log.hpp"

#include <algorithm>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <map>
#include <mutex>
#include <optional>

namespace ferry::log {

namespace {
std::atomic<level> g_min_level{level::info};
std::mutex g_loggers_mutex;
level g_root_level = level::info;
long long g_root_modified = 0;
// Every logger seen; nullopt level: follows root.
std::map<std::string, std::pair<std::optional<level>, long long>, std::less<>> g_loggers;

long long now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

void update_min_locked() {
  level m = g_root_level;
  for (const auto& [n, s] : g_loggers) {
    if (s.first && *s.first < m) m = *s.first;
  }
  g_min_level.store(m);
}
thread_local std::string t_context;
thread_local redactions t_redactions;
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
  std::lock_guard lock(g_loggers_mutex);
  g_root_level = l;
  update_min_locked();
}

level current_level() {
  return g_min_level.load(std::memory_order_relaxed);
}

std::string_view to_string(level l) {
  std::string_view n = name(l);
  while (!n.empty() && n.back() == ' ') n.remove_suffix(1);
  return n;
}

bool enabled(level l, std::string_view logger) {
  std::lock_guard lock(g_loggers_mutex);
  auto it = g_loggers.find(logger);
  if (it == g_loggers.end()) {
    g_loggers.emplace(std::string(logger), std::make_pair(std::nullopt, 0LL));
    return l >= g_root_level;
  }
  return l >= it->second.first.value_or(g_root_level);
}

void set_logger_level(const std::string& logger, level l) {
  std::lock_guard lock(g_loggers_mutex);
  if (logger == "root") {
    g_root_level = l;
    g_root_modified = now_ms();
  } else {
    g_loggers[logger] = {l, now_ms()};
  }
  update_min_locked();
}

std::map<std::string, logger_setting> loggers() {
  std::lock_guard lock(g_loggers_mutex);
  std::map<std::string, logger_setting> out;
  out["root"] = {g_root_level, g_root_modified};
  for (const auto& [n, s] : g_loggers) out[n] = {s.first.value_or(g_root_level), s.second};
  return out;
}

bool parse_level(std::string_view text, level& out) {
  for (auto l : {level::trace, level::debug, level::info, level::warn, level::error}) {
    if (text == to_string(l)) {
      out = l;
      return true;
    }
  }
  return false;
}

void set_thread_context(std::string context) {
  t_context = std::move(context);
}

void set_thread_redactions(redactions list) {
  t_redactions = std::move(list);
}

std::string redact(std::string_view message, const redactions& list) {
  // Longest values first, so a value that contains another is replaced whole, whatever the order
  // of the list (a task's list joins those of its task and connector configs).
  std::vector<const std::pair<std::string, std::string>*> order;
  for (const auto& r : list) order.push_back(&r);
  std::stable_sort(order.begin(), order.end(),
                   [](const auto* a, const auto* b) { return a->first.size() > b->first.size(); });
  std::string text(message);
  for (const auto* r : order) {
    const auto& [value, replacement] = *r;
    if (value.size() < 3) continue;  // too short to tell from ordinary text
    for (auto pos = text.find(value); pos != std::string::npos;
         pos = text.find(value, pos + replacement.size())) {
      text.replace(pos, value.size(), replacement);
    }
  }
  return text;
}

std::string utc_timestamp(std::chrono::system_clock::time_point t) {
  using namespace std::chrono;
  auto secs = system_clock::to_time_t(t);
  auto ms = duration_cast<milliseconds>(t.time_since_epoch()).count() % 1000;
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char text[40];
  auto n = std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &tm);
  std::snprintf(text + n, sizeof text - n, ".%03dZ", static_cast<int>(ms));
  return text;
}

void write(level l, std::string_view logger, std::string_view message) {
  std::string line;
  line.reserve(64 + message.size());
  line += utc_timestamp(std::chrono::system_clock::now());
  line += ' ';
  line += name(l);
  line += " [";
  line += logger;
  line += "] ";
  if (t_redactions.empty()) {
    line += message;
  } else {
    line += redact(message, t_redactions);
  }
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
