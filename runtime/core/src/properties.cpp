#include "ferry/core/properties.hpp"

#include <optional>
#include <stdexcept>
#include <vector>

#include "ferry/storage/atomic_file.hpp"
#include "utf8.hpp"

namespace ferry::core {

namespace {

// The four hex digits at s[pos..pos+3], if there are four.
std::optional<unsigned> hex4(const std::string& s, std::size_t pos) {
  if (pos + 4 > s.size()) return std::nullopt;
  unsigned v = 0;
  for (std::size_t k = pos; k < pos + 4; ++k) {
    char h = s[k];
    v <<= 4;
    if (h >= '0' && h <= '9') {
      v |= static_cast<unsigned>(h - '0');
    } else if (h >= 'a' && h <= 'f') {
      v |= static_cast<unsigned>(h - 'a' + 10);
    } else if (h >= 'A' && h <= 'F') {
      v |= static_cast<unsigned>(h - 'A' + 10);
    } else {
      return std::nullopt;
    }
  }
  return v;
}

// Undoes escapes of one logical line's part.
std::string unescape(const std::string& s, int line_no) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c != '\\' || i + 1 == s.size()) {
      out.push_back(c);
      continue;
    }
    char n = s[++i];
    switch (n) {
      case 't':
        out.push_back('\t');
        break;
      case 'n':
        out.push_back('\n');
        break;
      case 'r':
        out.push_back('\r');
        break;
      case 'f':
        out.push_back('\f');
        break;
      case 'u': {
        auto cp = hex4(s, i + 1);
        if (!cp) {
          throw std::invalid_argument("line " + std::to_string(line_no) +
                                      ": malformed \\uXXXX escape");
        }
        i += 4;
        // Java writes characters outside the BMP as a UTF-16 surrogate pair: \uD83D\uDE00.
        if (*cp >= 0xD800 && *cp <= 0xDBFF && s.compare(i + 1, 2, "\\u") == 0) {
          auto low = hex4(s, i + 3);
          if (low && *low >= 0xDC00 && *low <= 0xDFFF) {
            *cp = 0x10000 + ((*cp - 0xD800) << 10) + (*low - 0xDC00);
            i += 6;
          }
        }
        append_utf8(out, *cp);
        break;
      }
      default:
        out.push_back(n);
        break;
    }
  }
  return out;
}

bool is_ws(char c) {
  return c == ' ' || c == '\t' || c == '\f';
}

}  // namespace

std::map<std::string, std::string> parse_properties(const std::string& text) {
  std::map<std::string, std::string> out;
  std::vector<std::string> lines;
  std::size_t start = 0;
  while (start <= text.size()) {
    auto nl = text.find('\n', start);
    if (nl == std::string::npos) nl = text.size();
    auto line = text.substr(start, nl - start);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    lines.push_back(std::move(line));
    start = nl + 1;
  }
  for (std::size_t i = 0; i < lines.size(); ++i) {
    int line_no = static_cast<int>(i) + 1;
    std::string logical = lines[i];
    std::size_t b = 0;
    while (b < logical.size() && is_ws(logical[b])) ++b;
    logical = logical.substr(b);
    if (logical.empty() || logical[0] == '#' || logical[0] == '!') continue;
    // A line ending in an odd number of backslashes continues on the next line.
    auto continues = [](const std::string& l) {
      std::size_t n = 0;
      for (auto it = l.rbegin(); it != l.rend() && *it == '\\'; ++it) ++n;
      return n % 2 == 1;
    };
    while (continues(logical) && i + 1 < lines.size()) {
      logical.pop_back();
      auto next = lines[++i];
      std::size_t nb = 0;
      while (nb < next.size() && is_ws(next[nb])) ++nb;
      logical += next.substr(nb);
    }
    if (continues(logical)) logical.pop_back();
    std::size_t k = 0;
    while (k < logical.size()) {
      char c = logical[k];
      if (c == '\\') {
        k += 2;
        continue;
      }
      if (c == '=' || c == ':' || is_ws(c)) break;
      ++k;
    }
    std::string key = logical.substr(0, std::min(k, logical.size()));
    std::size_t v = k;
    while (v < logical.size() && is_ws(logical[v])) ++v;
    if (v < logical.size() && (logical[v] == '=' || logical[v] == ':')) ++v;
    while (v < logical.size() && is_ws(logical[v])) ++v;
    std::string value = v < logical.size() ? logical.substr(v) : std::string{};
    out[unescape(key, line_no)] = unescape(value, line_no);
  }
  return out;
}

std::map<std::string, std::string> load_properties_file(const std::string& path) {
  std::optional<std::string> text;
  try {
    text = storage::read_file(path);
  } catch (const std::exception& e) {
    throw std::runtime_error(e.what());
  }
  if (!text) throw std::runtime_error("Config file " + path + " does not exist");
  try {
    return parse_properties(*text);
  } catch (const std::invalid_argument& e) {
    throw std::runtime_error("Config file " + path + ", " + e.what());
  }
}

}  // namespace ferry::core
