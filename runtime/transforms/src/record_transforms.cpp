// Transformations of headers, topic and schema metadata: DropHeaders, Filter, HeaderFrom,
// InsertHeader, RegexRouter, SetSchemaMetadata.
#include <algorithm>
#include <set>

#include "plugins.hpp"

namespace ferry::transforms::detail {

namespace {

using api::data_error;

class drop_headers final : public transformation {
 public:
  explicit drop_headers(const plugin_config& c) {
    for (auto& h : c.values().get_list("headers")) names_.insert(h);
  }

  bool apply(connect_record& r) override {
    std::erase_if(r.headers, [&](const api::header& h) { return names_.count(h.key) > 0; });
    return true;
  }

 private:
  std::set<std::string, std::less<>> names_;
};

class filter final : public transformation {
 public:
  bool apply(connect_record&) override { return false; }
};

class header_from final : public transformation {
 public:
  header_from(const plugin_config& c, side s)
      : side_(s),
        fields_(c.values().get_list("fields")),
        headers_(c.values().get_list("headers")),
        replace_null_(c.values().get_bool("replace.null.with.default")) {
    auto op = c.values().get_string("operation");
    move_ = api::trim(op) == "move";
    if (fields_.size() != headers_.size()) {
      c.fail("'fields' config must have the same number of elements as 'headers' config.");
    }
  }

  bool apply(connect_record& r) override {
    json& v = operating_value(r, side_);
    auto& schema = operating_schema(r, side_);
    const std::string_view purpose = move_ ? "header move" : "header copy";
    if (!schema) {
      require_map(v, purpose);
      for (std::size_t i = 0; i < fields_.size(); ++i) {
        auto it = v.find(fields_[i]);
        r.headers.push_back({headers_[i], it == v.end() ? std::nullopt : header_bytes(*it)});
      }
      if (move_) {
        for (const auto& f : fields_) v.erase(f);
      }
      return true;
    }
    require_struct(v, schema, purpose);
    for (std::size_t i = 0; i < fields_.size(); ++i) {
      const json* f = find_field(*schema, fields_[i]);
      if (!f) throw data_error(fields_[i] + " is not a valid field name");
      r.headers.push_back({headers_[i], header_bytes(field_value(v, *f, replace_null_))});
    }
    if (move_) {
      json out = json::object();
      for (const auto& f : schema_fields(*schema)) {
        const auto& name = f["field"].get_ref<const std::string&>();
        if (!is_moved(name)) out[name] = take_field_value(v, f, replace_null_);
      }
      v = std::move(out);
      schema = cache_.get(schema, [&](const json& s) {
        json ns = struct_like(s);
        for (const auto& f : schema_fields(s)) {
          if (!is_moved(f["field"].get<std::string>())) ns["fields"].push_back(f);
        }
        return ns;
      });
    }
    return true;
  }

 private:
  bool is_moved(const std::string& name) const {
    return std::find(fields_.begin(), fields_.end(), name) != fields_.end();
  }

  side side_;
  std::vector<std::string> fields_;
  std::vector<std::string> headers_;
  bool replace_null_;
  bool move_ = false;
  schema_cache cache_;
};

class insert_header final : public transformation {
 public:
  explicit insert_header(const plugin_config& c)
      : name_(c.values().get_string("header")), value_(c.values().get_string("value.literal")) {}

  bool apply(connect_record& r) override {
    r.headers.push_back({name_, value_});
    return true;
  }

 private:
  std::string name_;
  std::string value_;
};

// Java's Matcher.replaceFirst replacement ($1, \$) in ECMAScript's format ($1, $$).
std::optional<std::string> java_replacement(const std::string& in, std::string& out) {
  for (std::size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '\\') {
      if (i + 1 >= in.size()) return "character to be escaped is missing";
      char n = in[++i];
      out += n == '$' ? std::string("$$") : std::string(1, n);
    } else if (c == '$') {
      if (i + 1 < in.size() && in[i + 1] == '{') return "named groups are not supported";
      if (i + 1 >= in.size() || !std::isdigit(static_cast<unsigned char>(in[i + 1]))) {
        return "Illegal group reference";
      }
      out += '$';
    } else {
      out += c;
    }
  }
  return std::nullopt;
}

class regex_router final : public transformation {
 public:
  explicit regex_router(const plugin_config& c)
      : regex_(compile_regex(c.values().get_string("regex"))) {
    auto replacement = c.values().get_string("replacement");
    if (auto e = java_replacement(replacement, format_)) c.fail("replacement", replacement, *e);
  }

  bool apply(connect_record& r) override {
    r.topic = memo_.get(r.topic, [&](const std::string& topic) {
      std::smatch m;
      return std::regex_match(topic, m, regex_) ? m.format(format_) : topic;
    });
    return true;
  }

 private:
  std::regex regex_;
  std::string format_;
  topic_memo<std::string> memo_;
};

class set_schema_metadata final : public transformation {
 public:
  set_schema_metadata(const plugin_config& c, side s)
      : side_(s), replace_null_(c.values().get_bool("replace.null.with.default")) {
    auto name = c.values().get_string("schema.name");
    if (!name.empty()) name_ = name;
    auto version = api::trim(c.values().get_string("schema.version"));
    if (!version.empty()) version_ = *api::parse_long(version);
    if (!name_ && !version_) c.fail("Neither schema name nor version configured");
  }

  bool apply(connect_record& r) override {
    auto& schema = operating_schema(r, side_);
    if (!schema && operating_value(r, side_).is_null()) return true;
    require_schema(schema, "updating schema metadata");
    schema = cache_.get(schema, [&](const json& s) {
      json ns = s;
      if (name_) ns["name"] = *name_;
      if (version_) ns["version"] = *version_;
      return ns;
    });
    // Kafka copies a Struct into the new schema with Struct.get, which fills in defaults.
    json& v = operating_value(r, side_);
    if (replace_null_ && v.is_object() && schema_type(*schema) == "struct") {
      for (const auto& f : schema_fields(*schema)) {
        if (!f.contains("default")) continue;
        const auto& n = f["field"].get_ref<const std::string&>();
        if (!v.contains(n) || v[n].is_null()) v[n] = f["default"];
      }
    }
    return true;
  }

 private:
  side side_;
  bool replace_null_;
  std::optional<std::string> name_;
  std::optional<std::int64_t> version_;
  schema_cache cache_;
};

}  // namespace

void register_record_transforms(std::vector<plugin_info>& out) {
  api::config_def drop_def;
  drop_def.define({.name = "headers",
                   .type = api::config_type::list,
                   .default_value = std::nullopt,
                   .importance = api::importance_level::high,
                   .doc = "The name of the headers to be removed.",
                   .validate = non_empty_list()});
  add_transformation(out, transforms_package + "DropHeaders",
                     "Removes one or more headers from each record.", drop_def,
                     [](const plugin_config& c) { return std::make_unique<drop_headers>(c); });

  add_transformation(out, transforms_package + "Filter",
                     "Drops all records, filtering them from subsequent transformations in the "
                     "chain. This is intended to be used conditionally to filter out records "
                     "matching (or not matching) a particular Predicate.",
                     api::config_def{},
                     [](const plugin_config&) { return std::make_unique<filter>(); });

  api::config_def header_from_def;
  header_from_def
      .define({.name = "fields",
               .type = api::config_type::list,
               .default_value = std::nullopt,
               .importance = api::importance_level::high,
               .doc = "Field names in the record whose values are to be copied or moved to "
                      "headers.",
               .validate = non_empty_list()})
      .define({.name = "headers",
               .type = api::config_type::list,
               .default_value = std::nullopt,
               .importance = api::importance_level::high,
               .doc = "Header names, in the same order as the field names listed in the fields "
                      "configuration property.",
               .validate = non_empty_list()})
      .define({.name = "operation",
               .type = api::config_type::string,
               .default_value = std::nullopt,
               .importance = api::importance_level::high,
               .doc = "Either <code>move</code> if the fields are to be moved to the headers "
                      "(removed from the key/value), or <code>copy</code> if the fields are to "
                      "be copied to the headers (retained in the key/value).",
               .validate = api::one_of({"move", "copy"}, false)})
      .define(replace_null_with_default_key());
  add_keyed_transformation(
      out, transforms_package + "HeaderFrom",
      "Moves or copies fields in the key/value of a record into that record's headers.",
      header_from_def,
      [](const plugin_config& c, side s) { return std::make_unique<header_from>(c, s); });

  api::config_def insert_header_def;
  insert_header_def
      .define({.name = "header",
               .type = api::config_type::string,
               .default_value = std::nullopt,
               .importance = api::importance_level::high,
               .doc = "The name of the header."})
      .define({.name = "value.literal",
               .type = api::config_type::string,
               .default_value = std::nullopt,
               .importance = api::importance_level::high,
               .doc = "The literal value that is to be set as the header value on all records."});
  add_transformation(out, transforms_package + "InsertHeader", "Add a header to each record.",
                     insert_header_def,
                     [](const plugin_config& c) { return std::make_unique<insert_header>(c); });

  api::config_def router_def;
  router_def
      .define({.name = "regex",
               .type = api::config_type::string,
               .default_value = std::nullopt,
               .importance = api::importance_level::high,
               .doc = "Regular expression to use for matching.",
               .validate = valid_regex()})
      .define({.name = "replacement",
               .type = api::config_type::string,
               .default_value = std::nullopt,
               .importance = api::importance_level::high,
               .doc = "Replacement string."});
  add_transformation(out, transforms_package + "RegexRouter",
                     "Update the record topic using the configured regular expression and "
                     "replacement string. Under the hood, the regex is compiled to a "
                     "<code>java.util.regex.Pattern</code>. If the pattern matches the input "
                     "topic, <code>java.util.regex.Matcher#replaceFirst()</code> is used with the "
                     "replacement string to obtain the new topic.",
                     router_def,
                     [](const plugin_config& c) { return std::make_unique<regex_router>(c); });

  api::config_def metadata_def;
  metadata_def
      .define({.name = "schema.name",
               .type = api::config_type::string,
               .default_value = "",
               .importance = api::importance_level::high,
               .doc = "Schema name to set."})
      .define({.name = "schema.version",
               // Kafka's type is INT with a null default; config_def has no null default, so
               // an empty string stands for "not set" and is checked here.
               .type = api::config_type::string,
               .default_value = "",
               .importance = api::importance_level::high,
               .doc = "Schema version to set.",
               .validate = [](const std::string& v) -> std::optional<std::string> {
                 auto t = api::trim(v);
                 auto n = api::parse_long(t);
                 if (!t.empty() && (!n || *n < INT32_MIN || *n > INT32_MAX)) {
                   return "Not a number of type INT";
                 }
                 return std::nullopt;
               }})
      .define(replace_null_with_default_key());
  add_keyed_transformation(
      out, transforms_package + "SetSchemaMetadata",
      "Set the schema name, version or both on the record's key or value schema.", metadata_def,
      [](const plugin_config& c, side s) { return std::make_unique<set_schema_metadata>(c, s); });
}

}  // namespace ferry::transforms::detail
