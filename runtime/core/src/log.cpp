#include "ferry/core/log.hpp"

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <map>
#include <memory>
#include <mutex>
#include <optional>

#include "ferry/clients/client_metrics.hpp"

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
// t_context's fields, parsed once when it is set (JSON lines).
thread_local std::vector<std::pair<std::string, std::string>> t_context_fields;
thread_local redactions t_redactions;
std::mutex g_write_mutex;
std::atomic<format> g_format{format::text};
std::mutex g_secrets_mutex;
std::shared_ptr<const redactions> g_secrets;  // swapped whole; read under g_secrets_mutex

std::shared_ptr<const redactions> global_secrets() {
  std::lock_guard lock(g_secrets_mutex);
  return g_secrets;
}

bool is_key_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '.' || c == '-';
}

// Length of the valid UTF-8 sequence at s[i], or 0.
std::size_t utf8_length(std::string_view s, std::size_t i) {
  auto b = static_cast<unsigned char>(s[i]);
  std::size_t n = b < 0x80           ? 1
                  : (b >> 5) == 0x6  ? 2
                  : (b >> 4) == 0xE  ? 3
                  : (b >> 3) == 0x1E ? 4
                                     : 0;
  if (n == 0 || i + n > s.size()) return 0;
  for (std::size_t k = 1; k < n; ++k) {
    if ((static_cast<unsigned char>(s[i + k]) >> 6) != 0x2) return 0;
  }
  if (n == 2 && b < 0xC2) return 0;  // overlong
  return n;
}

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
  t_context_fields = parse_context(context);
  t_context = std::move(context);
  // The same identity labels the thread's Redis and Kafka client metrics (client_metrics.hpp):
  // every connector and task thread sets its context once, first thing.
  std::string connector, task;
  for (const auto& [k, v] : t_context_fields) {
    if (k == "connector") connector = v;
    if (k == "task") task = v;
  }
  if (!connector.empty()) clients::set_thread_metrics_scope(connector, task);
}

std::vector<std::pair<std::string, std::string>> parse_context(std::string_view context) {
  std::vector<std::pair<std::string, std::string>> fields;
  std::size_t pos = 0;
  while (pos < context.size()) {
    auto end = context.find(' ', pos);
    if (end == std::string_view::npos) end = context.size();
    auto word = context.substr(pos, end - pos);
    auto eq = word.find('=');
    bool starts_field =
        eq != std::string_view::npos && eq > 0 &&
        std::all_of(word.begin(), word.begin() + static_cast<long>(eq), is_key_char);
    if (starts_field) {
      fields.emplace_back(std::string(word.substr(0, eq)), std::string(word.substr(eq + 1)));
    } else if (!fields.empty()) {
      fields.back().second += ' ';
      fields.back().second += word;
    } else if (!word.empty()) {
      fields.emplace_back("context", std::string(word));
    }
    pos = end + 1;
  }
  return fields;
}

void set_format(format f) {
  g_format.store(f);
}

format current_format() {
  return g_format.load(std::memory_order_relaxed);
}

bool parse_format(std::string_view text, format& out) {
  std::string lower(text);
  for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (lower == "text") {
    out = format::text;
  } else if (lower == "json") {
    out = format::json;
  } else {
    return false;
  }
  return true;
}

void add_global_secrets(const std::vector<std::string>& values) {
  std::lock_guard lock(g_secrets_mutex);
  auto next = std::make_shared<redactions>(g_secrets ? *g_secrets : redactions{});
  for (const auto& v : values) {
    if (v.size() < 3 || v == "[hidden]") continue;
    if (std::none_of(next->begin(), next->end(), [&](const auto& r) { return r.first == v; })) {
      next->emplace_back(v, "[hidden]");
    }
  }
  g_secrets = std::move(next);
}

bool is_secret_key(std::string_view key) {
  std::string lower(key);
  for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return lower.find("password") != std::string::npos || lower.find("secret") != std::string::npos ||
         lower.ends_with("jaas.config") || lower.ends_with("basic.auth.user.info") ||
         lower.ends_with("sasl.oauthbearer.config") || lower.ends_with("ssl.keystore.key") ||
         lower.ends_with("ssl.key.pem");
}

std::string hide_secrets(std::string text) {
  if (auto secrets = global_secrets(); secrets && !secrets->empty()) text = redact(text, *secrets);
  return hide_uri_passwords(std::move(text));
}

std::string hide_uri_passwords(std::string text) {
  for (auto pos = text.find("://"); pos != std::string::npos; pos = text.find("://", pos + 3)) {
    auto start = pos + 3;
    auto end = start;
    while (end < text.size() && !std::isspace(static_cast<unsigned char>(text[end])) &&
           std::string_view("/?#\"'<>").find(text[end]) == std::string_view::npos) {
      ++end;
    }
    auto at = text.rfind('@', end == 0 ? 0 : end - 1);
    if (at == std::string::npos || at < start) continue;
    auto colon = text.find(':', start);
    if (colon == std::string::npos || colon > at) continue;  // user only, no password
    text.replace(colon + 1, at - colon - 1, "[hidden]");
  }
  return text;
}

std::string json_quote(std::string_view text) {
  static const char* hex = "0123456789abcdef";
  std::string out;
  out.reserve(text.size() + 2);
  out += '"';
  for (std::size_t i = 0; i < text.size();) {
    auto c = static_cast<unsigned char>(text[i]);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c < 0x20 || c == 0x7F) {
      out += "\\u00";
      out += hex[c >> 4];
      out += hex[c & 15];
    } else if (c >= 0x80) {
      auto n = utf8_length(text, i);
      if (n == 0) {
        out += "\\ufffd";
        ++i;
        continue;
      }
      out.append(text.substr(i, n));
      i += n;
      continue;
    } else {
      out += static_cast<char>(c);
    }
    ++i;
  }
  out += '"';
  return out;
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
  std::string text =
      hide_secrets(t_redactions.empty() ? std::string(message) : redact(message, t_redactions));
  auto time = utc_timestamp(std::chrono::system_clock::now());
  std::string line;
  line.reserve(96 + text.size());
  if (current_format() == format::json) {
    line += "{\"time\":\"";
    line += time;
    line += "\",\"level\":\"";
    line += to_string(l);
    line += "\",\"logger\":";
    line += json_quote(logger);
    for (const auto& [key, value] : t_context_fields) {
      if (key == "time" || key == "level" || key == "logger" || key == "message") continue;
      line += ',';
      line += json_quote(key);
      line += ':';
      line += json_quote(value);
    }
    line += ",\"message\":";
    line += json_quote(text);
    line += '}';
  } else {
    line += time;
    line += ' ';
    line += name(l);
    line += " [";
    line += logger;
    line += "] ";
    line += text;
    if (!t_context.empty()) {
      line += " (";
      line += t_context;
      line += ")";
    }
  }
  line += '\n';
  std::lock_guard lock(g_write_mutex);
  std::fwrite(line.data(), 1, line.size(), stderr);
  std::fflush(stderr);
}

}  // namespace ferry::log
