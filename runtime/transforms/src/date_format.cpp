#include "date_format.hpp"

#include <array>
#include <cctype>
#include <chrono>
#include <stdexcept>

namespace ferry::transforms::detail {

namespace {

constexpr std::string_view supported_letters = "GyYMLDdEuaHkKhmsSzZX";
constexpr std::string_view java_letters = "GyYMLwWDdFEuaHkKhmsSzZX";
constexpr std::array<std::string_view, 12> month_names = {
    "January", "February", "March",     "April",   "May",      "June",
    "July",    "August",   "September", "October", "November", "December"};
constexpr std::array<std::string_view, 7> day_names = {"Sunday",   "Monday", "Tuesday", "Wednesday",
                                                       "Thursday", "Friday", "Saturday"};

std::int64_t floor_div(std::int64_t a, std::int64_t b) {
  std::int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

std::string padded(std::int64_t v, int width) {
  std::string digits = std::to_string(v < 0 ? -v : v);
  while (static_cast<int>(digits.size()) < width) digits.insert(digits.begin(), '0');
  return v < 0 ? "-" + digits : digits;
}

bool numeric_letter(char c) {
  return c != 0 && std::string_view("GEaz").find(c) == std::string_view::npos;
}

bool iequals_prefix(std::string_view text, std::size_t pos, std::string_view word) {
  if (text.size() - pos < word.size()) return false;
  for (std::size_t i = 0; i < word.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(text[pos + i])) !=
        std::tolower(static_cast<unsigned char>(word[i]))) {
      return false;
    }
  }
  return true;
}

// Matches one of `names` (full names first, then their first three letters) at pos.
std::optional<int> match_name(std::string_view text, std::size_t& pos,
                              const std::string_view* names, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) {
    if (iequals_prefix(text, pos, names[i])) {
      pos += names[i].size();
      return static_cast<int>(i);
    }
  }
  for (std::size_t i = 0; i < n; ++i) {
    if (iequals_prefix(text, pos, names[i].substr(0, 3))) {
      pos += 3;
      return static_cast<int>(i);
    }
  }
  return std::nullopt;
}

}  // namespace

std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const std::int64_t era = floor_div(y, 400);
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

void civil_from_days(std::int64_t z, std::int64_t& y, unsigned& m, unsigned& d) {
  z += 719468;
  const std::int64_t era = floor_div(z, 146097);
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  y = static_cast<std::int64_t>(yoe) + era * 400 + (m <= 2);
}

date_format::date_format(std::string pattern) : pattern_(std::move(pattern)) {
  const std::string& p = pattern_;
  for (std::size_t i = 0; i < p.size();) {
    char c = p[i];
    if (c == '\'') {
      if (i + 1 < p.size() && p[i + 1] == '\'') {
        tokens_.push_back({0, 0, "'"});
        i += 2;
        continue;
      }
      std::string lit;
      std::size_t j = i + 1;
      for (;; ++j) {
        if (j >= p.size()) throw std::invalid_argument("Unterminated quote");
        if (p[j] == '\'') {
          if (j + 1 < p.size() && p[j + 1] == '\'') {
            lit += '\'';
            ++j;
            continue;
          }
          break;
        }
        lit += p[j];
      }
      tokens_.push_back({0, 0, lit});
      i = j + 1;
    } else if (std::isalpha(static_cast<unsigned char>(c))) {
      if (java_letters.find(c) == std::string_view::npos) {
        throw std::invalid_argument(std::string("Illegal pattern character '") + c + "'");
      }
      if (supported_letters.find(c) == std::string_view::npos) {
        throw std::invalid_argument(std::string("Pattern character '") + c +
                                    "' is not supported by ferry");
      }
      std::size_t j = i;
      while (j < p.size() && p[j] == c) ++j;
      tokens_.push_back({c, static_cast<int>(j - i), {}});
      i = j;
    } else {
      tokens_.push_back({0, 0, std::string(1, c)});
      ++i;
    }
  }
}

std::string date_format::format(std::int64_t epoch_ms) const {
  const std::int64_t days = floor_div(epoch_ms, 86'400'000);
  const std::int64_t ms_of_day = epoch_ms - days * 86'400'000;
  std::int64_t year = 0;
  unsigned month = 0, day = 0;
  civil_from_days(days, year, month, day);
  const int hour = static_cast<int>(ms_of_day / 3'600'000);
  const int minute = static_cast<int>(ms_of_day / 60'000 % 60);
  const int second = static_cast<int>(ms_of_day / 1000 % 60);
  const int millis = static_cast<int>(ms_of_day % 1000);
  const int weekday = static_cast<int>(((days % 7) + 11) % 7);  // 0 = Sunday; 1970-01-01 Thu

  std::string out;
  for (const auto& t : tokens_) {
    switch (t.letter) {
      case 0:
        out += t.literal;
        break;
      case 'G':
        out += year > 0 ? "AD" : "BC";
        break;
      case 'y':
      case 'Y':
        out += t.count == 2 ? padded(year % 100, 2) : padded(year, t.count);
        break;
      case 'M':
      case 'L':
        if (t.count >= 4) {
          out += month_names[month - 1];
        } else if (t.count == 3) {
          out += month_names[month - 1].substr(0, 3);
        } else {
          out += padded(month, t.count);
        }
        break;
      case 'D':
        out += padded(days - days_from_civil(year, 1, 1) + 1, t.count);
        break;
      case 'd':
        out += padded(day, t.count);
        break;
      case 'E':
        out += t.count >= 4 ? day_names[weekday] : day_names[weekday].substr(0, 3);
        break;
      case 'u':
        out += padded(weekday == 0 ? 7 : weekday, t.count);
        break;
      case 'a':
        out += hour < 12 ? "AM" : "PM";
        break;
      case 'H':
        out += padded(hour, t.count);
        break;
      case 'k':
        out += padded(hour == 0 ? 24 : hour, t.count);
        break;
      case 'K':
        out += padded(hour % 12, t.count);
        break;
      case 'h':
        out += padded(hour % 12 == 0 ? 12 : hour % 12, t.count);
        break;
      case 'm':
        out += padded(minute, t.count);
        break;
      case 's':
        out += padded(second, t.count);
        break;
      case 'S':
        out += padded(millis, t.count);
        break;
      case 'z':
        out += t.count >= 4 ? "Coordinated Universal Time" : "UTC";
        break;
      case 'Z':
        out += "+0000";
        break;
      case 'X':
        out += "Z";
        break;
      default:
        break;
    }
  }
  return out;
}

std::optional<std::int64_t> date_format::parse(std::string_view text) const {
  std::int64_t year = 1970, month = 1, day = 1, day_of_year = -1;
  std::int64_t hour = 0, minute = 0, second = 0, millis = 0, offset_minutes = 0;
  std::optional<bool> pm;
  bool twelve_hour = false;
  bool two_digit_year = false;
  std::size_t pos = 0;

  for (std::size_t i = 0; i < tokens_.size(); ++i) {
    const auto& t = tokens_[i];
    if (t.letter == 0) {
      if (text.substr(pos, t.literal.size()) != t.literal) return std::nullopt;
      pos += t.literal.size();
      continue;
    }
    if (t.letter == 'G') {
      if (iequals_prefix(text, pos, "AD") || iequals_prefix(text, pos, "BC")) {
        pos += 2;
        continue;
      }
      return std::nullopt;
    }
    if (t.letter == 'E') {
      if (!match_name(text, pos, day_names.data(), day_names.size())) return std::nullopt;
      continue;
    }
    if (t.letter == 'a') {
      if (iequals_prefix(text, pos, "AM") || iequals_prefix(text, pos, "PM")) {
        pm = std::tolower(static_cast<unsigned char>(text[pos])) == 'p';
        pos += 2;
        continue;
      }
      return std::nullopt;
    }
    if ((t.letter == 'M' || t.letter == 'L') && t.count >= 3) {
      auto m = match_name(text, pos, month_names.data(), month_names.size());
      if (!m) return std::nullopt;
      month = *m + 1;
      continue;
    }
    if (t.letter == 'z' || t.letter == 'Z' || t.letter == 'X') {
      if (pos < text.size() && text[pos] == 'Z') {
        ++pos;
        continue;
      }
      if (iequals_prefix(text, pos, "UTC") || iequals_prefix(text, pos, "GMT")) {
        pos += 3;
        if (pos >= text.size() || (text[pos] != '+' && text[pos] != '-')) continue;
      }
      if (pos >= text.size() || (text[pos] != '+' && text[pos] != '-')) return std::nullopt;
      int sign = text[pos] == '-' ? -1 : 1;
      ++pos;
      auto two = [&](std::int64_t& out) {
        if (pos + 2 > text.size() || !std::isdigit(static_cast<unsigned char>(text[pos])) ||
            !std::isdigit(static_cast<unsigned char>(text[pos + 1]))) {
          return false;
        }
        out = (text[pos] - '0') * 10 + (text[pos + 1] - '0');
        pos += 2;
        return true;
      };
      std::int64_t hh = 0, mm = 0;
      if (!two(hh)) return std::nullopt;
      if (pos < text.size() && text[pos] == ':') ++pos;
      two(mm);
      offset_minutes = sign * (hh * 60 + mm);
      continue;
    }
    // A number. Abutting numeric fields (yyyyMMdd) take exactly their pattern width.
    const bool abutting = i + 1 < tokens_.size() && numeric_letter(tokens_[i + 1].letter) &&
                          !((tokens_[i + 1].letter == 'M' || tokens_[i + 1].letter == 'L') &&
                            tokens_[i + 1].count >= 3);
    std::size_t start = pos;
    bool negative = false;
    if ((t.letter == 'y' || t.letter == 'Y') && pos < text.size() && text[pos] == '-') {
      negative = true;
      ++pos;
    }
    std::size_t digits_start = pos;
    std::int64_t v = 0;
    while (pos < text.size() && std::isdigit(static_cast<unsigned char>(text[pos])) &&
           (!abutting || static_cast<int>(pos - digits_start) < t.count) && pos - start < 18) {
      v = v * 10 + (text[pos] - '0');
      ++pos;
    }
    if (pos == digits_start) return std::nullopt;
    if (negative) v = -v;
    switch (t.letter) {
      case 'y':
      case 'Y':
        year = v;
        two_digit_year = t.count <= 2 && pos - digits_start == 2 && !negative;
        break;
      case 'M':
      case 'L':
        month = v;
        break;
      case 'D':
        day_of_year = v;
        break;
      case 'd':
        day = v;
        break;
      case 'H':
        hour = v;
        break;
      case 'k':
        hour = v == 24 ? 0 : v;
        break;
      case 'K':
      case 'h':
        hour = v % 12;
        twelve_hour = true;
        break;
      case 'm':
        minute = v;
        break;
      case 's':
        second = v;
        break;
      case 'S':
        millis = v;
        break;
      default:  // u: the day of the week does not change the date
        break;
    }
  }

  if (two_digit_year) {
    // SimpleDateFormat puts two-digit years within 80 years before and 20 after now.
    auto now = std::chrono::system_clock::now().time_since_epoch();
    std::int64_t now_days = std::chrono::duration_cast<std::chrono::hours>(now).count() / 24;
    std::int64_t cy = 0;
    unsigned cm = 0, cd = 0;
    civil_from_days(now_days, cy, cm, cd);
    std::int64_t start = cy - 80;
    std::int64_t candidate = start - start % 100 + year;
    if (candidate < start) candidate += 100;
    year = candidate;
  }
  if (twelve_hour && pm.value_or(false)) hour += 12;
  if (!twelve_hour && pm && *pm && hour < 12) hour += 12;

  // Lenient like SimpleDateFormat: month 13 is January of the next year, day 0 the last of the
  // month before.
  year += floor_div(month - 1, 12);
  month = month - 1 - floor_div(month - 1, 12) * 12 + 1;
  std::int64_t days = day_of_year >= 0
                          ? days_from_civil(year, 1, 1) + day_of_year - 1
                          : days_from_civil(year, static_cast<unsigned>(month), 1) + day - 1;
  return days * 86'400'000 + hour * 3'600'000 + minute * 60'000 + second * 1000 + millis -
         offset_minutes * 60'000;
}

}  // namespace ferry::transforms::detail
