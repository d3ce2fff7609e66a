#include "sink/command_template.hpp"

#include <charconv>

#include "ferry/api/errors.hpp"

namespace ferry::redis {

namespace {

using kind = command_template::part::kind;

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

// Splits "a.b.c" into its names; nothing when a name is empty.
std::optional<std::vector<std::string>> split_path(std::string_view s) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (true) {
    auto dot = s.find('.', start);
    auto name =
        s.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    if (name.empty()) return std::nullopt;
    out.emplace_back(name);
    if (dot == std::string_view::npos) return out;
    start = dot + 1;
  }
}

// Parses into `args`; returns an error message or nothing.
std::optional<std::string> parse_into(std::string_view text, bool split,
                                      std::vector<command_template::argument>& args,
                                      bool& uses_value) {
  args.clear();
  bool in_arg = false;
  auto current = [&]() -> command_template::argument& {
    if (!in_arg) {
      args.emplace_back();
      in_arg = true;
    }
    return args.back();
  };
  auto add_literal = [&](char c) {
    auto& arg = current();
    if (arg.empty() || arg.back().what != kind::literal) arg.push_back({});
    arg.back().text += c;
  };
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (split && is_space(c)) {
      in_arg = false;
      continue;
    }
    if (c != '$' || i + 1 >= text.size() || (text[i + 1] != '{' && text[i + 1] != '$')) {
      add_literal(c);
      continue;
    }
    if (text[i + 1] == '$') {  // $$ is a literal $
      add_literal('$');
      ++i;
      continue;
    }
    auto close = text.find('}', i + 2);
    if (close == std::string_view::npos) {
      return "has an unterminated ${ at position " + std::to_string(i);
    }
    auto name = text.substr(i + 2, close - i - 2);
    command_template::part p;
    if (name == "topic") {
      p.what = kind::topic;
    } else if (name == "key") {
      p.what = kind::key;
    } else if (name == "value") {
      p.what = kind::value;
      uses_value = true;
    } else if (name == "partition") {
      p.what = kind::partition;
    } else if (name == "offset") {
      p.what = kind::offset;
    } else if (name.starts_with("value.")) {
      auto path = split_path(name.substr(6));
      if (!path) return "has an empty field name in ${" + std::string(name) + "}";
      p.what = kind::value_field;
      p.path = std::move(*path);
      uses_value = true;
    } else if (name.starts_with("header.") && name.size() > 7) {
      p.what = kind::header;
      p.text = std::string(name.substr(7));
    } else {
      return "has an unknown placeholder ${" + std::string(name) +
             "} (known: ${topic}, ${key}, ${value}, ${value.<field>}, ${header.<name>}, "
             "${partition}, ${offset})";
    }
    current().push_back(std::move(p));
    i = close;
  }
  if (!split && args.empty()) args.emplace_back();
  if (split && args.empty()) return "is empty";
  return std::nullopt;
}

}  // namespace

command_template command_template::parse(std::string_view text, bool split,
                                         const std::string& config_key) {
  command_template t;
  if (auto error = parse_into(text, split, t.args_, t.uses_value_)) {
    throw api::config_error(config_key + " '" + std::string(text) + "' " + *error);
  }
  return t;
}

std::optional<std::string> command_template::check(std::string_view text, bool split) {
  std::vector<argument> args;
  bool uses_value = false;
  return parse_into(text, split, args, uses_value);
}

std::string_view text_of(const json& v, std::string& buf) {
  if (v.is_string()) return v.get_ref<const std::string&>();
  if (v.is_binary()) {
    const auto& b = v.get_binary();
    return {reinterpret_cast<const char*>(b.data()), b.size()};
  }
  if (v.is_null()) return {};
  if (v.is_boolean()) return v.get<bool>() ? "true" : "false";
  if (v.is_number_integer()) {
    // No temporary string per number: these are the common case for fields and scores.
    buf.resize(24);
    auto res = v.is_number_unsigned()
                   ? std::to_chars(buf.data(), buf.data() + buf.size(), v.get<std::uint64_t>())
                   : std::to_chars(buf.data(), buf.data() + buf.size(), v.get<std::int64_t>());
    buf.resize(static_cast<std::size_t>(res.ptr - buf.data()));
    return buf;
  }
  if (v.is_number_float()) {
    // Shortest round-trip form, as JSON writes it (2.0 stays 2.0), without a temporary.
    buf.resize(32);
    auto res = std::to_chars(buf.data(), buf.data() + buf.size(), v.get<double>());
    buf.resize(static_cast<std::size_t>(res.ptr - buf.data()));
    if (buf.find_first_of(".en") == std::string::npos) buf += ".0";  // not 1e+20, nan, inf
    return buf;
  }
  buf = v.dump();  // maps and arrays as compact JSON
  return buf;
}

std::string describe(const api::sink_record& r) {
  return r.topic + "-" + std::to_string(r.partition) + "@" + std::to_string(r.offset);
}

void template_renderer::reset(const api::sink_record& record) {
  record_ = &record;
  parsed_done_ = false;
  object_ = nullptr;
}

const json* template_renderer::object_value() {
  if (parsed_done_) return object_;
  parsed_done_ = true;
  const auto& v = record_->value;
  if (v.is_object()) {
    object_ = &v;
  } else if (v.is_string() || v.is_binary()) {
    std::string holder;
    auto text = text_of(v, holder);
    parsed_ = json::parse(text.begin(), text.end(), nullptr, false);
    if (parsed_.is_object()) object_ = &parsed_;
  }
  return object_;
}

const json* template_renderer::field(const std::vector<std::string>& path) {
  const json* at = object_value();
  for (const auto& name : path) {
    if (at == nullptr || !at->is_object()) return nullptr;
    auto it = at->find(name);
    if (it == at->end()) return nullptr;
    at = &*it;
  }
  return at;
}

std::string_view template_renderer::part_view(const command_template::part& p) {
  const auto& r = *record_;
  switch (p.what) {
    case kind::literal:
      return p.text;
    case kind::topic:
      return r.topic;
    case kind::key:
      if (r.key.is_null())
        throw api::data_error("Record " + describe(r) + " has no key for ${key}");
      return text_of(r.key, part_buf_);
    case kind::value:
      return text_of(r.value, part_buf_);
    case kind::value_field: {
      const json* f = field(p.path);
      if (f == nullptr) {
        std::string name;
        for (const auto& n : p.path) name += (name.empty() ? "" : ".") + n;
        throw api::data_error("Record " + describe(r) + " has no value field '" + name + "'");
      }
      return text_of(*f, part_buf_);
    }
    case kind::header:
      for (auto it = r.headers.rbegin(); it != r.headers.rend(); ++it) {
        if (it->key == p.text) return it->value ? std::string_view(*it->value) : std::string_view();
      }
      throw api::data_error("Record " + describe(r) + " has no header '" + p.text + "'");
    case kind::partition:
      return text_of(json(r.partition), part_buf_);
    case kind::offset:
      return text_of(json(r.offset), part_buf_);
  }
  return {};
}

std::string_view template_renderer::render(const command_template::argument& arg) {
  if (arg.size() == 1) return part_view(arg.front());
  buf_.clear();
  for (const auto& p : arg) buf_ += part_view(p);
  return buf_;
}

}  // namespace ferry::redis
