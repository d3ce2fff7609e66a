#include "ferry/api/json_text.hpp"

#include <array>
#include <cstdint>

namespace ferry::api {

namespace {

// What each byte asks of the writer: copy it, escape it, or check the UTF-8 sequence it starts.
enum : std::uint8_t { k_copy = 0, k_escape = 1, k_multibyte = 2 };

constexpr std::array<std::uint8_t, 256> classes = [] {
  std::array<std::uint8_t, 256> t{};
  for (int c = 0; c < 0x20; ++c) t[c] = k_escape;
  t['"'] = k_escape;
  t['\\'] = k_escape;
  for (int c = 0x80; c < 0x100; ++c) t[c] = k_multibyte;
  return t;
}();

// The length of the well-formed UTF-8 sequence at p (Unicode's table 3-7: no overlong forms, no
// surrogates, nothing above U+10FFFF), or 0.
std::size_t utf8_sequence(const unsigned char* p, const unsigned char* end) {
  auto left = static_cast<std::size_t>(end - p);
  auto cont = [](unsigned char c) { return (c & 0xC0) == 0x80; };
  unsigned char c = p[0];
  if (c >= 0xC2 && c <= 0xDF) return left >= 2 && cont(p[1]) ? 2 : 0;
  if (c >= 0xE0 && c <= 0xEF) {
    if (left < 3 || !cont(p[2])) return 0;
    unsigned char lo = c == 0xE0 ? 0xA0 : 0x80;
    unsigned char hi = c == 0xED ? 0x9F : 0xBF;
    return p[1] >= lo && p[1] <= hi ? 3 : 0;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    if (left < 4 || !cont(p[2]) || !cont(p[3])) return 0;
    unsigned char lo = c == 0xF0 ? 0x90 : 0x80;
    unsigned char hi = c == 0xF4 ? 0x8F : 0xBF;
    return p[1] >= lo && p[1] <= hi ? 4 : 0;
  }
  return 0;
}

}  // namespace

bool append_json_string(std::string& out, std::string_view s) {
  const auto size_before = out.size();
  out.reserve(size_before + s.size() + 2);
  out.push_back('"');
  auto* p = reinterpret_cast<const unsigned char*>(s.data());
  auto* end = p + s.size();
  auto* run = p;  // start of the bytes not yet appended
  while (p < end) {
    auto k = classes[*p];
    if (k == k_copy) {
      ++p;
      continue;
    }
    if (k == k_multibyte) {
      auto n = utf8_sequence(p, end);
      if (n == 0) {
        out.resize(size_before);
        return false;
      }
      p += n;
      continue;
    }
    out.append(reinterpret_cast<const char*>(run), static_cast<std::size_t>(p - run));
    switch (*p) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\f':
        out += "\\f";
        break;
      case '\r':
        out += "\\r";
        break;
      default: {
        static constexpr char hex[] = "0123456789abcdef";
        const char esc[] = {'\\', 'u', '0', '0', hex[*p >> 4], hex[*p & 0xF]};
        out.append(esc, sizeof esc);
      }
    }
    run = ++p;
  }
  out.append(reinterpret_cast<const char*>(run), static_cast<std::size_t>(p - run));
  out.push_back('"');
  return true;
}

}  // namespace ferry::api
