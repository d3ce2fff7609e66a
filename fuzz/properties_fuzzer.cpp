// libFuzzer target: arbitrary bytes as a worker .properties file.
//
// parse_properties() may refuse input only with std::invalid_argument (a malformed \uXXXX escape,
// as its header documents); worker_config::parse() only with api::config_error. Any other
// exception, a crash, a sanitizer report or a leak is a finding. On success the map must survive
// a round trip through the escaping serialiser below: parse(serialise(m)) == m.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <stdexcept>
#include <string>

#include <unistd.h>

#include "ferry/api/errors.hpp"
#include "ferry/core/log.hpp"
#include "ferry/core/properties.hpp"
#include "ferry/core/worker_config.hpp"

namespace {

using props = std::map<std::string, std::string>;

// stderr as it was at start-up: still open under -close_fd_mask=2, which silences the log.
int g_diag_fd = 2;

[[noreturn]] void finding(const char* what, const std::string& detail) {
  dprintf(g_diag_fd, "properties_fuzzer: %s: %s\n", what, detail.c_str());
  std::abort();
}

// Escapes what parse_properties() would otherwise read differently: backslashes, line breaks,
// separators and whitespace in keys, a leading comment marker, leading whitespace in values.
// Other bytes (UTF-8 or not) pass through; the parser works on bytes.
std::string escape(const std::string& s, bool is_key) {
  std::string out;
  out.reserve(s.size() + 8);
  for (std::size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\f':
        out += "\\f";
        break;
      case ' ':
        out += (is_key || i == 0) ? "\\ " : " ";
        break;
      case '=':
      case ':':
        if (is_key) out.push_back('\\');
        out.push_back(c);
        break;
      case '#':
      case '!':
        if (is_key && i == 0) out.push_back('\\');
        out.push_back(c);
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
}

std::string serialise(const props& m) {
  std::string out;
  for (const auto& [k, v] : m) out += escape(k, true) + "=" + escape(v, false) + "\n";
  return out;
}

std::string describe(const props& m) {
  std::string out;
  for (const auto& [k, v] : m) out += "[" + k + "]=[" + v + "] ";
  return out;
}

void check_round_trip(const props& parsed) {
  auto text = serialise(parsed);
  props again;
  try {
    again = ferry::core::parse_properties(text);
  } catch (const std::exception& e) {
    finding("re-parsing the serialised map threw", std::string(e.what()) + " for: " + text);
  }
  if (again != parsed) {
    finding("round trip changed the map",
            "parsed: " + describe(parsed) + " re-parsed: " + describe(again) + " text: " + text);
  }
}

void check_worker_config(const props& parsed, bool standalone) {
  try {
    auto wc = ferry::core::worker_config::parse(parsed, standalone);
    if (wc.raw != parsed) finding("worker_config::raw differs from its input", describe(wc.raw));
    (void)wc.worker_id();
    (void)wc.producer_config();
    (void)wc.consumer_config();
    (void)wc.with_prefix("key.converter.");
  } catch (const ferry::api::config_error&) {
    // documented refusal of bad values
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  if (int fd = ::dup(2); fd >= 0) g_diag_fd = fd;
  // Unknown keys and bad values are reported through the log; findings abort instead.
  ferry::log::set_level(ferry::log::level::error);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  props parsed;
  try {
    parsed = ferry::core::parse_properties(text);
  } catch (const std::invalid_argument& e) {
    if (std::string(e.what()).rfind("line ", 0) != 0) {
      finding("std::invalid_argument without a line number", e.what());
    }
    return 0;
  }
  // Anything else thrown above escapes to libFuzzer, which reports it as a crash (finding).
  check_round_trip(parsed);
  check_worker_config(parsed, true);
  check_worker_config(parsed, false);
  return 0;
}
