#include "ferry/core/json_reader.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <unordered_map>

#include "utf8.hpp"

namespace ferry::core {

namespace {

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Up to this many members a duplicate key is found by comparing with each earlier one.
constexpr std::size_t k_linear_members = 16;

// Spare room in a top-level object for members a transformation adds (InsertField): growing an
// ordered_json object moves every member to a new array, which cost InsertField more than the
// insertion itself. Two members are 96 bytes of capacity per record.
constexpr std::size_t k_spare_top_level_members = 2;

}  // namespace

json json_reader::parse(std::string_view text) {
  begin_ = p_ = text.data();
  end_ = text.data() + text.size();
  members_.clear();
  if (text.size() >= 3 && text.substr(0, 3) == "\xEF\xBB\xBF") p_ += 3;
  skip_space();
  json result = value(0);
  skip_space();
  if (p_ != end_) fail("unexpected content after the JSON value");
  return result;
}

void json_reader::fail(const std::string& what) const {
  throw json_syntax_error("JSON parse error at byte " + std::to_string(p_ - begin_) + ": " + what);
}

void json_reader::skip_space() {
  while (p_ != end_ && (*p_ == ' ' || *p_ == '\n' || *p_ == '\r' || *p_ == '\t')) ++p_;
}

json json_reader::value(int depth) {
  if (p_ == end_) fail("unexpected end of input; expected a value");
  switch (*p_) {
    case '{':
      return object(depth + 1);
    case '[':
      return array(depth + 1);
    case '"': {
      ++p_;
      json s(json::value_t::string);
      string_into(s.get_ref<std::string&>());
      return s;
    }
    case 't':
      literal("true");
      return true;
    case 'f':
      literal("false");
      return false;
    case 'n':
      literal("null");
      return nullptr;
    default:
      if (*p_ == '-' || is_digit(*p_)) return number();
      fail("unexpected character; expected a value");
  }
}

void json_reader::literal(std::string_view word) {
  if (static_cast<std::size_t>(end_ - p_) < word.size() ||
      std::string_view(p_, word.size()) != word) {
    fail("invalid literal; expected '" + std::string(word) + "'");
  }
  p_ += word.size();
}

json json_reader::object(int depth) {
  if (depth > max_depth) fail("nested deeper than " + std::to_string(max_depth) + " levels");
  ++p_;  // '{'
  const std::size_t first = members_.size();
  skip_space();
  if (p_ != end_ && *p_ == '}') {
    ++p_;
    return json::object();
  }
  for (;;) {
    skip_space();
    if (p_ == end_ || *p_ != '"') fail("expected a string as object key");
    ++p_;
    auto& member = members_.emplace_back();
    string_into(member.first);
    skip_space();
    if (p_ == end_ || *p_ != ':') fail("expected ':' after an object key");
    ++p_;
    skip_space();
    // members_ may grow while the value is read (nested objects): index, not reference.
    auto index = members_.size() - 1;
    json v = value(depth);
    members_[index].second = std::move(v);
    skip_space();
    if (p_ == end_) fail("unexpected end of input; expected ',' or '}'");
    if (*p_ == ',') {
      ++p_;
      continue;
    }
    if (*p_ != '}') fail("expected ',' or '}' after an object member");
    ++p_;
    break;
  }

  json result(json::value_t::object);
  auto& map = result.get_ref<json::object_t&>();
  const std::size_t count = members_.size() - first;
  // The members are moved in below; the map never reallocates.
  map.reserve(count + (depth == 1 ? k_spare_top_level_members : 0));
  auto move_in = [&](std::pair<std::string, json>& m) { map.emplace_back(std::move(m)); };
  if (count <= k_linear_members) {
    for (std::size_t i = first; i < members_.size(); ++i) {
      auto& m = members_[i];
      auto same =
          std::find_if(map.begin(), map.end(), [&](const auto& e) { return e.first == m.first; });
      if (same == map.end()) {
        move_in(m);
      } else {
        same->second = std::move(m.second);  // json::parse keeps the first position, last value
      }
    }
  } else {
    std::unordered_map<std::string_view, std::size_t> position;
    position.reserve(count);
    for (std::size_t i = first; i < members_.size(); ++i) {
      auto& m = members_[i];
      auto found = position.find(m.first);
      if (found == position.end()) {
        move_in(m);
        position.emplace(map.back().first, map.size() - 1);
      } else {
        (map.begin() + static_cast<std::ptrdiff_t>(found->second))->second = std::move(m.second);
      }
    }
  }
  members_.resize(first);
  return result;
}

json json_reader::array(int depth) {
  if (depth > max_depth) fail("nested deeper than " + std::to_string(max_depth) + " levels");
  ++p_;  // '['
  json result(json::value_t::array);
  auto& items = result.get_ref<json::array_t&>();
  skip_space();
  if (p_ != end_ && *p_ == ']') {
    ++p_;
    return result;
  }
  for (;;) {
    skip_space();
    items.push_back(value(depth));
    skip_space();
    if (p_ == end_) fail("unexpected end of input; expected ',' or ']'");
    if (*p_ == ',') {
      ++p_;
      continue;
    }
    if (*p_ != ']') fail("expected ',' or ']' after an array element");
    ++p_;
    return result;
  }
}

// -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)? — an integer without fraction or exponent is
// unsigned when not negative, signed when negative, and floating when it does not fit either
// (as json::parse does).
json json_reader::number() {
  const char* start = p_;
  bool negative = *p_ == '-';
  if (negative) ++p_;
  if (p_ == end_ || !is_digit(*p_)) fail("invalid number; expected a digit after '-'");
  if (*p_ == '0') {
    ++p_;
  } else {
    while (p_ != end_ && is_digit(*p_)) ++p_;
  }
  bool integral = true;
  if (p_ != end_ && *p_ == '.') {
    integral = false;
    ++p_;
    if (p_ == end_ || !is_digit(*p_)) fail("invalid number; expected a digit after '.'");
    while (p_ != end_ && is_digit(*p_)) ++p_;
  }
  if (p_ != end_ && (*p_ == 'e' || *p_ == 'E')) {
    integral = false;
    ++p_;
    if (p_ != end_ && (*p_ == '+' || *p_ == '-')) ++p_;
    if (p_ == end_ || !is_digit(*p_)) fail("invalid number; expected a digit in the exponent");
    while (p_ != end_ && is_digit(*p_)) ++p_;
  }
  if (integral) {
    if (negative) {
      std::int64_t v = 0;
      auto [end, ec] = std::from_chars(start, p_, v);
      if (ec == std::errc() && end == p_) return v;
    } else {
      std::uint64_t v = 0;
      auto [end, ec] = std::from_chars(start, p_, v);
      if (ec == std::errc() && end == p_) return v;
    }
  }
  double d = 0;
  auto [end, ec] = std::from_chars(start, p_, d);
  if (ec == std::errc() && end == p_) return d;
  // Out of range: strtod says whether it underflowed (a tiny number, kept as strtod rounds it)
  // or overflowed (not a finite double: refused, as json::parse refuses it).
  std::string token(start, p_);
  d = std::strtod(token.c_str(), nullptr);
  if (!std::isfinite(d)) {
    p_ = start;
    fail("number overflow parsing '" + token + "'");
  }
  return d;
}

void json_reader::string_into(std::string& out) {
  for (;;) {
    const char* run = p_;
    while (p_ != end_) {
      auto c = static_cast<unsigned char>(*p_);
      if (c == '"' || c == '\\' || c < 0x20 || c >= 0x80) break;
      ++p_;
    }
    out.append(run, p_);
    if (p_ == end_) fail("unexpected end of input inside a string");
    auto c = static_cast<unsigned char>(*p_);
    if (c == '"') {
      ++p_;
      return;
    }
    if (c == '\\') {
      escape_into(out);
    } else if (c < 0x20) {
      fail("control character in a string must be escaped");
    } else {
      utf8_into(out);
    }
  }
}

void json_reader::escape_into(std::string& out) {
  ++p_;  // '\\'
  if (p_ == end_) fail("unexpected end of input in an escape");
  char c = *p_++;
  switch (c) {
    case '"':
      out.push_back('"');
      return;
    case '\\':
      out.push_back('\\');
      return;
    case '/':
      out.push_back('/');
      return;
    case 'b':
      out.push_back('\b');
      return;
    case 'f':
      out.push_back('\f');
      return;
    case 'n':
      out.push_back('\n');
      return;
    case 'r':
      out.push_back('\r');
      return;
    case 't':
      out.push_back('\t');
      return;
    case 'u':
      break;
    default:
      --p_;
      fail("invalid escape in a string");
  }
  auto hex4 = [this]() -> std::uint32_t {
    if (end_ - p_ < 4) fail("'\\u' must be followed by 4 hex digits");
    std::uint32_t v = 0;
    for (int i = 0; i < 4; ++i) {
      int h = hex_value(p_[i]);
      if (h < 0) fail("'\\u' must be followed by 4 hex digits");
      v = v * 16 + static_cast<std::uint32_t>(h);
    }
    p_ += 4;
    return v;
  };
  std::uint32_t cp = hex4();
  if (cp >= 0xDC00 && cp <= 0xDFFF) fail("a low surrogate '\\u' must follow a high one");
  if (cp >= 0xD800 && cp <= 0xDBFF) {
    if (end_ - p_ < 2 || p_[0] != '\\' || p_[1] != 'u') {
      fail("a high surrogate '\\u' must be followed by a low one");
    }
    p_ += 2;
    std::uint32_t low = hex4();
    if (low < 0xDC00 || low > 0xDFFF) fail("a high surrogate '\\u' must be followed by a low one");
    cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
  }
  append_utf8(out, cp);
}

// One multi-byte UTF-8 sequence, checked as RFC 3629 defines it (no overlong forms, no
// surrogates, nothing above U+10FFFF).
void json_reader::utf8_into(std::string& out) {
  auto b = [this](std::ptrdiff_t i) { return static_cast<unsigned char>(p_[i]); };
  auto c = b(0);
  int length = 0;
  unsigned char lo = 0x80, hi = 0xBF;  // the allowed range of the second byte
  if (c >= 0xC2 && c <= 0xDF) {
    length = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    length = 3;
    if (c == 0xE0) lo = 0xA0;
    if (c == 0xED) hi = 0x9F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    length = 4;
    if (c == 0xF0) lo = 0x90;
    if (c == 0xF4) hi = 0x8F;
  } else {
    fail("invalid UTF-8 byte in a string");
  }
  if (end_ - p_ < length) fail("truncated UTF-8 sequence in a string");
  if (b(1) < lo || b(1) > hi) fail("invalid UTF-8 sequence in a string");
  for (int i = 2; i < length; ++i) {
    if (b(i) < 0x80 || b(i) > 0xBF) fail("invalid UTF-8 sequence in a string");
  }
  out.append(p_, static_cast<std::size_t>(length));
  p_ += length;
}

}  // namespace ferry::core
