#pragma once

#include <chrono>
#include <map>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ferry::log {

enum class level { trace, debug, info, warn, error };

// Levels per logger name; "root" is the level of every logger without one of its own.
// Lines below the lowest level in use cost one atomic load; the others one map look-up.
void set_level(level l);                              // the root level
level current_level();                                // the lowest level any logger has
bool parse_level(std::string_view text, level& out);  // "TRACE" ... "ERROR"
std::string_view to_string(level l);
bool enabled(level l, std::string_view logger);

struct logger_setting {
  log::level threshold;
  long long last_modified_ms;  // when set over REST; 0: never
};
// Sets a logger's level ("root" too); stamps last_modified.
void set_logger_level(const std::string& logger, level l);
// root, the loggers that have logged, and those given a level.
std::map<std::string, logger_setting> loggers();

// Context printed on every line logged from this thread, e.g. "connector=orders task=0":
// space-separated key=value fields (a value may contain spaces; a word that starts with
// `key=` starts the next field). A task runner sets it once on its own thread. JSON lines
// carry each field as its own member ("connector", "task", ...).
void set_thread_context(std::string context);
// The fields of a context text, in order: "connector=a b task=0" -> {connector: "a b", task: "0"}.
std::vector<std::pair<std::string, std::string>> parse_context(std::string_view context);

// How lines are written: plain text (the default) or one JSON object per line with "time",
// "level", "logger", "message" and the thread's context fields ("connector", "task", ...).
enum class format { text, json };
void set_format(format f);
format current_format();
bool parse_format(std::string_view text, format& out);  // "text" or "json", any case

// Secret values of the whole process, replaced by "[hidden]" in every line whatever thread logs
// it, and by hide_secrets() in REST error messages, status traces and validation errors: the
// worker's own ssl.*password settings, and the secrets of every connector config the worker
// stored, validated or started (core::register_config_secrets). Kept until the process exits, so
// a rotated or deleted connector's password stays hidden in lines logged late. Values shorter
// than 3 characters, "[hidden]" itself and repeats are ignored (as in redact()).
void add_global_secrets(const std::vector<std::string>& values);
// `text` with every global secret replaced by "[hidden]" and the password of every
// `scheme://[user]:password@` hidden (hide_uri_passwords): for text shown outside the log.
std::string hide_secrets(std::string text);
// A setting whose value is a secret by its name: "*password*", "*secret*", "*jaas.config",
// "*basic.auth.user.info", "*sasl.oauthbearer.config" (Kafka's password-type keys), and the PEM
// private keys "*ssl.keystore.key" (Kafka) and "*ssl.key.pem" (librdkafka). Certificates are no
// secret; a `redis.key` or `ssl.keystore.location` is a path.
bool is_secret_key(std::string_view key);

// Values never to print, each with what to print instead (a task's resolved secrets and their
// config-provider references). Values shorter than 3 characters are left alone.
using redactions = std::vector<std::pair<std::string, std::string>>;
std::string redact(std::string_view text, const redactions& list);
// Applied to every message this thread logs from now on.
void set_thread_redactions(redactions list);

// The password of every `scheme://[user]:password@` in `text` replaced by "[hidden]".
std::string hide_uri_passwords(std::string text);

// `text` as a JSON string literal (quotes included); invalid UTF-8 bytes become U+FFFD.
std::string json_quote(std::string_view text);

// 2026-11-27T03:45:11.123Z (Java's Instant.toString form).
std::string utc_timestamp(std::chrono::system_clock::time_point t);

// Writes one line to stderr: "2026-11-27T03:45:11.123Z INFO  [logger] message (context)", or
// with format::json {"time":"2026-11-27T03:45:11.123Z","level":"INFO","logger":"..",
// "connector":"..","task":"0","message":".."}. Every line, in either format, goes through the
// redactions: the thread's, the global secrets, and the password of any `scheme://user:pw@`
// URI (so a Redis URI in an error message never shows its password).
void write(level l, std::string_view logger, std::string_view message);

template <typename... Args>
void emit(level l, std::string_view logger, const Args&... args) {
  if (l < current_level() || !enabled(l, logger)) return;
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
