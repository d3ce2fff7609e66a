#include "ferry/api/config_def.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <stdexcept>

#include "ferry/api/errors.hpp"

namespace ferry::api {

std::string to_string(config_type t) {
  switch (t) {
    case config_type::boolean:
      return "BOOLEAN";
    case config_type::string:
      return "STRING";
    case config_type::int_:
      return "INT";
    case config_type::long_:
      return "LONG";
    case config_type::double_:
      return "DOUBLE";
    case config_type::list:
      return "LIST";
    case config_type::class_:
      return "CLASS";
    case config_type::password:
      return "PASSWORD";
  }
  return "STRING";
}

std::string to_string(importance_level i) {
  switch (i) {
    case importance_level::high:
      return "HIGH";
    case importance_level::medium:
      return "MEDIUM";
    case importance_level::low:
      return "LOW";
  }
  return "MEDIUM";
}

std::string trim(const std::string& s) {
  auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return {};
  auto e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

std::optional<std::string> config_text(const json& value) {
  if (value.is_string()) return value.get<std::string>();
  if (value.is_number() || value.is_boolean()) return value.dump();
  return std::nullopt;
}

std::optional<std::int64_t> parse_long(const std::string& s) {
  auto t = trim(s);
  std::int64_t v = 0;
  auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
  if (ec != std::errc{} || p != t.data() + t.size() || t.empty()) return std::nullopt;
  return v;
}

std::optional<double> parse_double(const std::string& s) {
  auto t = trim(s);
  double v = 0;
  auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
  if (ec != std::errc{} || p != t.data() + t.size() || t.empty()) return std::nullopt;
  return v;
}

std::optional<bool> parse_bool(const std::string& s) {
  auto t = trim(s);
  std::transform(t.begin(), t.end(), t.begin(), [](unsigned char c) { return std::tolower(c); });
  if (t == "true") return true;
  if (t == "false") return false;
  return std::nullopt;
}

std::vector<std::string> split_list(const std::string& s) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= s.size()) {
    auto comma = s.find(',', start);
    if (comma == std::string::npos) comma = s.size();
    auto item = trim(s.substr(start, comma - start));
    if (!item.empty()) out.push_back(std::move(item));
    start = comma + 1;
  }
  return out;
}

namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

std::optional<std::string> type_error(const config_key& key, const std::string& value) {
  switch (key.type) {
    case config_type::boolean:
      if (!parse_bool(value)) return "Expected value to be either true or false";
      break;
    case config_type::int_: {
      auto v = parse_long(value);
      if (!v || *v < INT32_MIN || *v > INT32_MAX) return "Not a number of type INT";
      break;
    }
    case config_type::long_:
      if (!parse_long(value)) return "Not a number of type LONG";
      break;
    case config_type::double_:
      if (!parse_double(value)) return "Not a number of type DOUBLE";
      break;
    default:
      break;
  }
  return std::nullopt;
}

}  // namespace

validator one_of(std::vector<std::string> allowed, bool case_insensitive) {
  return [allowed = std::move(allowed), case_insensitive](const std::string& v) {
    for (const auto& a : allowed) {
      if (case_insensitive ? lower(a) == lower(v) : a == v) return std::optional<std::string>{};
    }
    std::string list;
    for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
    return std::optional<std::string>{"Invalid value " + v + "; must be one of [" + list + "]"};
  };
}

validator at_least(std::int64_t min) {
  return [min](const std::string& v) -> std::optional<std::string> {
    auto n = parse_long(v);
    if (n && *n < min) return "Value must be at least " + std::to_string(min);
    return std::nullopt;
  };
}

validator in_range(std::int64_t min, std::int64_t max) {
  return [min, max](const std::string& v) -> std::optional<std::string> {
    auto n = parse_long(v);
    if (n && (*n < min || *n > max)) {
      return "Value must be in [" + std::to_string(min) + ", " + std::to_string(max) + "]";
    }
    return std::nullopt;
  };
}

validator non_empty() {
  return [](const std::string& v) -> std::optional<std::string> {
    if (trim(v).empty()) return "String must be non-empty";
    return std::nullopt;
  };
}

config_def& config_def::define(config_key key) {
  if (find(key.name)) throw std::logic_error("config key defined twice: " + key.name);
  keys_.push_back(std::move(key));
  return *this;
}

config_def& config_def::merge(const config_def& other) {
  for (const auto& k : other.keys_) {
    if (!find(k.name)) keys_.push_back(k);
  }
  return *this;
}

const config_key* config_def::find(const std::string& name) const {
  for (const auto& k : keys_) {
    if (k.name == name) return &k;
  }
  return nullptr;
}

std::vector<config_value> config_def::validate(const config_map& config) const {
  std::vector<config_value> out;
  out.reserve(keys_.size());
  for (const auto& key : keys_) {
    config_value cv{.name = key.name, .value = std::nullopt, .errors = {}};
    auto it = config.find(key.name);
    if (it != config.end()) {
      cv.value = it->second;
    } else if (key.default_value) {
      cv.value = key.default_value;
    }
    if (!cv.value) {
      if (key.default_null) {  // optional and absent: nothing to check
        out.push_back(std::move(cv));
        continue;
      }
      cv.errors.push_back("Missing required configuration \"" + key.name +
                          "\" which has no default value.");
    } else {
      if (auto e = type_error(key, *cv.value)) {
        cv.errors.push_back("Invalid value " + *cv.value + " for configuration " + key.name + ": " +
                            *e);
      } else if (key.validate) {
        if (auto ve = key.validate(*cv.value)) {
          cv.errors.push_back("Invalid value " + *cv.value + " for configuration " + key.name +
                              ": " + *ve);
        }
      }
    }
    if (key.type == config_type::password && cv.value) cv.value = "[hidden]";
    out.push_back(std::move(cv));
  }
  return out;
}

std::size_t config_def::error_count(const std::vector<config_value>& values) {
  std::size_t n = 0;
  for (const auto& v : values) n += v.errors.empty() ? 0 : 1;
  return n;
}

json config_def::describe() const {
  json out = json::array();
  int order = 0;
  for (const auto& k : keys_) {
    json j;
    j["name"] = k.name;
    j["type"] = to_string(k.type);
    j["required"] = !k.default_value.has_value() && !k.default_null;
    j["default_value"] = k.default_value ? json(*k.default_value) : json(nullptr);
    j["importance"] = to_string(k.importance);
    j["documentation"] = k.doc;
    j["group"] = k.group;
    j["order"] = ++order;
    j["width"] = "NONE";
    j["display_name"] = k.display_name.empty() ? k.name : k.display_name;
    j["dependents"] = json::array();
    out.push_back(std::move(j));
  }
  return out;
}

parsed_config::parsed_config(const config_def& def, config_map values)
    : def_(&def), values_(std::move(values)) {}

const std::string* parsed_config::lookup(const std::string& name) const {
  if (auto it = values_.find(name); it != values_.end()) return &it->second;
  const auto* key = def_->find(name);
  if (key && key->default_value) return &*key->default_value;
  if (!key) throw std::logic_error("config key not declared: " + name);
  if (key->default_null) {
    throw config_error("Configuration \"" + name + "\" is not set (its default is null).");
  }
  throw config_error("Missing required configuration \"" + name + "\" which has no default value.");
}

bool parsed_config::unset_null(const std::string& name) const {
  if (values_.count(name)) return false;
  const auto* key = def_->find(name);
  return key && key->default_null && !key->default_value;
}

std::optional<std::string> parsed_config::get_optional(const std::string& name) const {
  if (unset_null(name)) return std::nullopt;
  return *lookup(name);
}

bool parsed_config::has(const std::string& name) const {
  return values_.count(name) > 0;
}

std::string parsed_config::get_string(const std::string& name) const {
  if (unset_null(name)) return {};
  return *lookup(name);
}

std::int64_t parsed_config::get_long(const std::string& name) const {
  const auto* s = lookup(name);
  auto v = parse_long(*s);
  if (!v)
    throw config_error("Invalid value " + *s + " for configuration " + name + ": not a number");
  return *v;
}

double parsed_config::get_double(const std::string& name) const {
  const auto* s = lookup(name);
  auto v = parse_double(*s);
  if (!v)
    throw config_error("Invalid value " + *s + " for configuration " + name + ": not a number");
  return *v;
}

bool parsed_config::get_bool(const std::string& name) const {
  const auto* s = lookup(name);
  auto v = parse_bool(*s);
  if (!v) {
    throw config_error("Invalid value " + *s + " for configuration " + name +
                       ": expected true or false");
  }
  return *v;
}

std::vector<std::string> parsed_config::get_list(const std::string& name) const {
  if (unset_null(name)) return {};
  return split_list(*lookup(name));
}

}  // namespace ferry::api
