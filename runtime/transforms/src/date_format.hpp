// A subset of java.text.SimpleDateFormat, always in UTC, for TimestampConverter and
// TimestampRouter: the pattern letters G y Y M L D d E u a H k K h m s S z Z X, quoted text
// ('...', '' for a quote) and any other non-letter as a literal.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ferry::transforms::detail {

class date_format {
 public:
  // Throws std::invalid_argument ("Illegal pattern character 'q'", "Unterminated quote").
  explicit date_format(std::string pattern);

  std::string format(std::int64_t epoch_ms) const;
  // Like SimpleDateFormat.parse(String): the pattern must match a prefix of `text`; nullopt when
  // it does not.
  std::optional<std::int64_t> parse(std::string_view text) const;
  const std::string& pattern() const { return pattern_; }

 private:
  struct token {
    char letter = 0;  // 0: literal
    int count = 0;
    std::string literal;
  };
  std::string pattern_;
  std::vector<token> tokens_;
};

// Days since 1970-01-01 of a proleptic Gregorian date, and back.
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d);
void civil_from_days(std::int64_t z, std::int64_t& y, unsigned& m, unsigned& d);

}  // namespace ferry::transforms::detail
