// Transformations that reshape a key or value: ExtractField, Flatten, HoistField, InsertField,
// ReplaceField (all $Key/$Value) and ValueToKey.
#include <set>

#include "plugins.hpp"

namespace ferry::transforms::detail {

namespace {

using api::data_error;

// --- ExtractField ---

// field.syntax.version=V2 paths (KIP-821): dots separate steps; a step in backticks may hold
// dots; its closing backtick is the one followed by a dot (or the end), and \` before a dot
// keeps a backtick in the name. Returns the error for an unclosed backtick.
std::optional<std::string> split_path_v2(const std::string& path, std::vector<std::string>& steps) {
  std::size_t i = 0;
  while (i < path.size()) {
    if (path[i] != '`') {
      auto dot = path.find('.', i);
      steps.push_back(path.substr(i, dot == std::string::npos ? std::string::npos : dot - i));
      if (dot == std::string::npos) break;
      i = dot + 1;
      continue;
    }
    const std::size_t opened = i;
    std::string step;
    std::size_t start = ++i;
    while (true) {
      auto close = path.find('`', i);
      if (close == std::string::npos || (close + 1 == path.size() && path[close - 1] == '\\')) {
        return "Incomplete backtick pair in path: [" + path +
               "], consider adding a backslash before backtick at position " +
               std::to_string(opened) + " to escape it";
      }
      const bool escaped = path[close - 1] == '\\';
      if (close + 1 == path.size()) {
        step.append(path, start, close - start);
        steps.push_back(std::move(step));
        i = close + 1;
        break;
      }
      if (path[close + 1] != '.') {
        i = close + 1;
        continue;
      }
      if (escaped) {
        step.append(path, start, close - 1 - start);
        step += '`';
        i = start = close + 1;
        continue;
      }
      step.append(path, start, close - start);
      steps.push_back(std::move(step));
      i = close + 2;
      break;
    }
  }
  if (!path.empty() && path.back() == '.') steps.emplace_back();
  return std::nullopt;
}

class extract_field final : public transformation {
 public:
  extract_field(const plugin_config& c, side s)
      : side_(s), replace_null_(c.values().get_bool("replace.null.with.default")) {
    field_ = c.values().get_string("field");
    if (c.values().get_string("field.syntax.version") == "V2") {
      if (auto e = split_path_v2(field_, path_)) c.fail("field", field_, *e);
    } else {
      path_.push_back(field_);
    }
  }

  bool apply(connect_record& r) override {
    json& v = operating_value(r, side_);
    auto& schema = operating_schema(r, side_);
    if (!schema) {
      require_map_or_null(v, purpose);
      if (v.is_null()) return true;
      json out;
      const json* cur = &v;
      for (const auto& step : path_) {
        if (!cur->is_object()) {
          cur = nullptr;
          break;
        }
        auto it = cur->find(step);
        if (it == cur->end()) {
          cur = nullptr;
          break;
        }
        cur = &*it;
      }
      if (cur) out = *cur;
      v = std::move(out);
      return true;
    }
    require_struct_or_null(v, schema, purpose);
    const json* s = schema.get();
    const json* field = nullptr;
    for (const auto& step : path_) {
      field = s ? find_field(*s, step) : nullptr;
      if (!field) throw data_error("Unknown field: " + field_);
      s = field;
    }
    json out;
    if (!v.is_null()) {
      const json* cur = &v;
      json holder;
      const json* fs = schema.get();
      for (const auto& step : path_) {
        const json* f = find_field(*fs, step);
        holder = cur->is_object() ? field_value(*cur, *f, replace_null_) : json();
        cur = &holder;
        fs = f;
        if (cur->is_null()) break;
      }
      out = *cur;
    }
    auto extracted = cache_.get(schema, [&](const json&) { return field_schema(*field); });
    v = std::move(out);
    schema = std::move(extracted);
    return true;
  }

 private:
  static constexpr std::string_view purpose = "field extraction";
  side side_;
  bool replace_null_;
  std::string field_;
  std::vector<std::string> path_;
  schema_cache cache_;
};

// --- Flatten ---

class flatten final : public transformation {
 public:
  flatten(const plugin_config& c, side s)
      : side_(s), delimiter_(c.values().get_string("delimiter")) {}

  bool apply(connect_record& r) override {
    json& v = operating_value(r, side_);
    if (v.is_null()) return true;
    auto& schema = operating_schema(r, side_);
    json out = json::object();
    if (!schema) {
      require_map(v, purpose);
      flatten_schemaless(v, "", out);
      v = std::move(out);
      return true;
    }
    require_struct(v, schema, purpose);
    auto updated = cache_.get(schema, [&](const json& s) {
      json ns = struct_like(s);
      build_schema(s, "", is_optional(s), ns["fields"]);
      return ns;
    });
    flatten_struct(*schema, &v, "", out);
    v = std::move(out);
    schema = std::move(updated);
    return true;
  }

 private:
  static constexpr std::string_view purpose = "flattening";

  std::string name(const std::string& prefix, const std::string& field) const {
    return prefix.empty() ? field : prefix + delimiter_ + field;
  }

  void flatten_schemaless(const json& map, const std::string& prefix, json& out) const {
    for (const auto& [k, v] : map.items()) {
      auto n = name(prefix, k);
      if (v.is_object()) {
        flatten_schemaless(v, n, out);
      } else {
        out[n] = v;  // primitives, bytes and arrays as they are
      }
    }
  }

  void build_schema(const json& s, const std::string& prefix, bool optional, json& fields) const {
    for (const auto& f : schema_fields(s)) {
      auto n = name(prefix, f["field"].get<std::string>());
      auto type = schema_type(f);
      bool opt = optional || is_optional(f);
      if (type == "struct") {
        build_schema(f, n, opt, fields);
      } else if (type == "map") {
        throw data_error(
            "Flatten transformation does not support MAP for record with schemas "
            "(for field " +
            n + ").");
      } else {
        json fs = field_schema(f);
        fs["optional"] = opt;
        fields.push_back(make_field(n, std::move(fs)));
      }
    }
  }

  void flatten_struct(const json& s, json* value, const std::string& prefix, json& out) const {
    for (const auto& f : schema_fields(s)) {
      auto n = name(prefix, f["field"].get<std::string>());
      json fv = value ? take_field_value(*value, f, true) : json();
      if (schema_type(f) == "struct") {
        flatten_struct(f, fv.is_object() ? &fv : nullptr, n, out);
      } else {
        out[n] = std::move(fv);
      }
    }
  }

  side side_;
  std::string delimiter_;
  schema_cache cache_;
};

// --- HoistField ---

class hoist_field final : public transformation {
 public:
  hoist_field(const plugin_config& c, side s) : side_(s), field_(c.values().get_string("field")) {}

  bool apply(connect_record& r) override {
    json& v = operating_value(r, side_);
    auto& schema = operating_schema(r, side_);
    json out = json::object();
    out[field_] = std::move(v);
    v = std::move(out);
    if (schema) {
      schema = cache_.get(schema, [&](const json& s) {
        json ns = {{"type", "struct"}, {"fields", json::array()}, {"optional", false}};
        ns["fields"].push_back(make_field(field_, s));
        return ns;
      });
    }
    return true;
  }

 private:
  side side_;
  std::string field_;
  schema_cache cache_;
};

// --- InsertField ---

struct insert_spec {
  std::string name;
  bool optional = true;
};

std::optional<insert_spec> parse_insert(const std::string& text) {
  auto t = api::trim(text);
  if (t.empty()) return std::nullopt;
  if (t.back() == '!') return insert_spec{t.substr(0, t.size() - 1), false};
  if (t.back() == '?') return insert_spec{t.substr(0, t.size() - 1), true};
  return insert_spec{t, true};
}

// Sets a member as Map.put does: replaced in place when present, else added at the end.
// (json::operator[] takes its key by value and builds a null member before the assignment.)
template <typename V>
void put_member(json::object_t& members, const std::string& name, const V& value) {
  for (auto& m : members) {
    if (m.first == name) {
      m.second = value;
      return;
    }
  }
  members.emplace_back(name, value);
}

class insert_field final : public transformation {
 public:
  insert_field(const plugin_config& c, side s)
      : side_(s), replace_null_(c.values().get_bool("replace.null.with.default")) {
    topic_ = parse_insert(c.values().get_string("topic.field"));
    partition_ = parse_insert(c.values().get_string("partition.field"));
    offset_ = parse_insert(c.values().get_string("offset.field"));
    timestamp_ = parse_insert(c.values().get_string("timestamp.field"));
    static_ = parse_insert(c.values().get_string("static.field"));
    // Kafka's defaults are null; an empty text counts as not set.
    if (c.values().has("static.value")) static_value_ = c.values().get_string("static.value");
    if (!topic_ && !partition_ && !offset_ && !timestamp_ && !static_) {
      c.fail("No field insertion configured");
    }
    if (static_ && !static_value_) {
      c.fail("static.value", "null", "No value specified for static field: " + static_->name);
    }
  }

  bool apply(connect_record& r) override {
    json& v = operating_value(r, side_);
    if (v.is_null()) return true;  // tombstones pass through
    if (offset_ && !r.kafka_offset) {
      throw data_error(
          "Only SinkRecord supported for [field insertion], found: "
          "org.apache.kafka.connect.source.SourceRecord");
    }
    auto& schema = operating_schema(r, side_);
    if (!schema) {
      // Without a schema, absent metadata adds no field.
      require_map(v, purpose);
      reserve_members(v, inserted());
      auto& members = v.get_ref<json::object_t&>();
      if (topic_) put_member(members, topic_->name, r.topic);
      if (partition_ && r.partition) put_member(members, partition_->name, *r.partition);
      if (offset_) put_member(members, offset_->name, *r.kafka_offset);
      if (timestamp_ && r.timestamp_ms) put_member(members, timestamp_->name, *r.timestamp_ms);
      if (static_ && static_value_) put_member(members, static_->name, *static_value_);
      return true;
    }
    require_struct(v, schema, purpose);
    json out = json::object();
    const auto& fields = schema_fields(*schema);
    reserve_members(out, fields.size() + inserted());
    for (const auto& f : fields) {
      out[f["field"].get<std::string>()] = take_field_value(v, f, replace_null_);
    }
    v = std::move(out);
    schema = cache_.get(schema, [&](const json& s) { return build_schema(s); });
    if (topic_) v[topic_->name] = r.topic;
    if (partition_) v[partition_->name] = r.partition ? json(*r.partition) : json();
    if (offset_) v[offset_->name] = *r.kafka_offset;
    if (timestamp_) v[timestamp_->name] = r.timestamp_ms ? json(*r.timestamp_ms) : json();
    if (static_) v[static_->name] = static_value_ ? json(*static_value_) : json();
    return true;
  }

 private:
  static constexpr std::string_view purpose = "field insertion";

  std::size_t inserted() const {
    return std::size_t{topic_.has_value()} + partition_.has_value() + offset_.has_value() +
           timestamp_.has_value() + static_.has_value();
  }

  json build_schema(const json& s) const {
    json ns = struct_like(s);
    for (const auto& f : schema_fields(s)) ns["fields"].push_back(f);
    auto add = [&](const std::optional<insert_spec>& spec, const char* type, bool timestamp) {
      if (!spec) return;
      json fs = {{"type", type}, {"optional", spec->optional}};
      if (timestamp) {
        fs["name"] = timestamp_logical;
        fs["version"] = 1;
      }
      ns["fields"].push_back(make_field(spec->name, std::move(fs)));
    };
    add(topic_, "string", false);
    add(partition_, "int32", false);
    add(offset_, "int64", false);
    add(timestamp_, "int64", true);
    add(static_, "string", false);
    return ns;
  }

  side side_;
  bool replace_null_;
  std::optional<insert_spec> topic_, partition_, offset_, timestamp_, static_;
  std::optional<std::string> static_value_;
  schema_cache cache_;
};

// --- ReplaceField ---

std::optional<std::string> parse_renames(const std::string& value,
                                         std::vector<std::pair<std::string, std::string>>* out) {
  for (const auto& item : api::split_list(value)) {
    auto colon = item.find(':');
    if (colon == std::string::npos || item.find(':', colon + 1) != std::string::npos) {
      return "Invalid rename mapping: " + item;
    }
    if (out) out->emplace_back(item.substr(0, colon), item.substr(colon + 1));
  }
  return std::nullopt;
}

class replace_field final : public transformation {
 public:
  replace_field(const plugin_config& c, side s)
      : side_(s), replace_null_(c.values().get_bool("replace.null.with.default")) {
    // Kafka's old names stay accepted; the new name wins when both are given.
    const auto& raw = c.values().raw();
    auto list = [&](const char* key, const char* old_key) {
      std::set<std::string> out;
      std::string text = raw.count(key)       ? raw.at(key)
                         : raw.count(old_key) ? raw.at(old_key)
                                              : std::string();
      for (auto& f : api::split_list(text)) out.insert(f);
      return out;
    };
    exclude_ = list("exclude", "blacklist");
    include_ = list("include", "whitelist");
    std::vector<std::pair<std::string, std::string>> renames;
    auto text = c.values().get_string("renames");
    if (auto e = parse_renames(text, &renames)) c.fail("renames", text, *e);
    for (auto& [from, to] : renames) renames_[from] = to;
  }

  bool apply(connect_record& r) override {
    json& v = operating_value(r, side_);
    if (v.is_null()) return true;
    auto& schema = operating_schema(r, side_);
    json out = json::object();
    if (!schema) {
      require_map(v, purpose);
      for (auto& [k, fv] : v.items()) {
        if (keep(k)) out[renamed(k)] = std::move(fv);
      }
      v = std::move(out);
      return true;
    }
    require_struct(v, schema, purpose);
    for (const auto& f : schema_fields(*schema)) {
      const auto& name = f["field"].get_ref<const std::string&>();
      if (keep(name)) out[renamed(name)] = take_field_value(v, f, replace_null_);
    }
    v = std::move(out);
    schema = cache_.get(schema, [&](const json& s) {
      json ns = struct_like(s);
      for (const auto& f : schema_fields(s)) {
        const auto& name = f["field"].get_ref<const std::string&>();
        if (!keep(name)) continue;
        json nf = f;
        nf["field"] = renamed(name);
        ns["fields"].push_back(std::move(nf));
      }
      return ns;
    });
    return true;
  }

 private:
  static constexpr std::string_view purpose = "field replacement";

  bool keep(const std::string& name) const {
    return !exclude_.count(name) && (include_.empty() || include_.count(name));
  }
  const std::string& renamed(const std::string& name) const {
    auto it = renames_.find(name);
    return it == renames_.end() ? name : it->second;
  }

  side side_;
  bool replace_null_;
  std::set<std::string> exclude_, include_;
  std::map<std::string, std::string> renames_;
  schema_cache cache_;
};

// --- ValueToKey ---

class value_to_key final : public transformation {
 public:
  explicit value_to_key(const plugin_config& c)
      : fields_(c.values().get_list("fields")),
        replace_null_(c.values().get_bool("replace.null.with.default")) {}

  bool apply(connect_record& r) override {
    json key = json::object();
    if (!r.value_schema) {
      require_map(r.value, purpose);
      for (const auto& f : fields_) {
        auto it = r.value.find(f);
        key[f] = it == r.value.end() ? json() : *it;
      }
      r.key = std::move(key);
      r.key_schema = nullptr;
      return true;
    }
    require_struct(r.value, r.value_schema, purpose);
    auto key_schema = cache_.get(r.value_schema, [&](const json& s) {
      json ks = {{"type", "struct"}, {"fields", json::array()}, {"optional", false}};
      for (const auto& f : fields_) {
        const json* field = find_field(s, f);
        if (!field) throw data_error("Field does not exist: " + f);
        ks["fields"].push_back(*field);
      }
      return ks;
    });
    for (const auto& f : schema_fields(*key_schema)) {
      key[f["field"].get<std::string>()] = field_value(r.value, f, replace_null_);
    }
    r.key = std::move(key);
    r.key_schema = std::move(key_schema);
    return true;
  }

 private:
  static constexpr std::string_view purpose = "copying fields from value to key";
  std::vector<std::string> fields_;
  bool replace_null_;
  schema_cache cache_;
};

api::config_key string_key(std::string name, std::string default_value, std::string doc,
                           api::importance_level importance = api::importance_level::medium) {
  return {.name = std::move(name),
          .type = api::config_type::string,
          .default_value = std::move(default_value),
          .importance = importance,
          .doc = std::move(doc)};
}

}  // namespace

void register_field_transforms(std::vector<plugin_info>& out) {
  api::config_def extract_def;
  extract_def
      .define({.name = "field",
               .type = api::config_type::string,
               .default_value = std::nullopt,
               .importance = api::importance_level::medium,
               .doc = "Field name to extract."})
      .define({.name = "field.syntax.version",
               .type = api::config_type::string,
               .default_value = "V1",
               .importance = api::importance_level::high,
               .doc = "Defines the version of the syntax to access fields. If set to `V1`, then "
                      "the field paths are limited to access the elements at the root level of "
                      "the struct or map. If set to `V2`, the syntax will support accessing "
                      "nested elements. To access nested elements, dotted notation is used. If "
                      "dots are already included in the field name, then backtick pairs can be "
                      "used to wrap field names containing dots.",
               .validate = api::one_of({"V1", "V2"}, false)})
      .define(replace_null_with_default_key());
  add_keyed_transformation(
      out, transforms_package + "ExtractField",
      "Extract the specified field from a Struct when schema present, or a Map in the case of "
      "schemaless data. Any null values are passed through unmodified.",
      extract_def,
      [](const plugin_config& c, side s) { return std::make_unique<extract_field>(c, s); });

  api::config_def flatten_def;
  flatten_def.define(string_key("delimiter", ".",
                                "Delimiter to insert between field names from the input record "
                                "when generating field names for the output record"));
  add_keyed_transformation(
      out, transforms_package + "Flatten",
      "Flatten a nested data structure, generating names for each field by concatenating the "
      "field names at each level with a configurable delimiter character. Applies to Struct when "
      "schema present, or a Map in the case of schemaless data. Array fields and their contents "
      "are not modified.",
      flatten_def, [](const plugin_config& c, side s) { return std::make_unique<flatten>(c, s); });

  api::config_def hoist_def;
  hoist_def.define({.name = "field",
                    .type = api::config_type::string,
                    .default_value = std::nullopt,
                    .importance = api::importance_level::medium,
                    .doc = "Field name for the single field that will be created in the "
                           "resulting Struct or Map."});
  add_keyed_transformation(
      out, transforms_package + "HoistField",
      "Wrap data using the specified field name in a Struct when schema present, or a Map in the "
      "case of schemaless data.",
      hoist_def,
      [](const plugin_config& c, side s) { return std::make_unique<hoist_field>(c, s); });

  const std::string suffix_doc =
      " Suffix with <code>!</code> to make this a required field, or <code>?</code> to keep it "
      "optional (the default).";
  api::config_def insert_def;
  insert_def.define(string_key("topic.field", "", "Field name for Kafka topic." + suffix_doc))
      .define(string_key("partition.field", "", "Field name for Kafka partition." + suffix_doc))
      .define(string_key(
          "offset.field", "",
          "Field name for Kafka offset - only applicable to sink connectors." + suffix_doc))
      .define(string_key("timestamp.field", "", "Field name for record timestamp." + suffix_doc))
      .define(string_key("static.field", "", "Field name for static data field." + suffix_doc))
      .define(string_key("static.value", "", "Static field value, if field name configured."))
      .define(replace_null_with_default_key());
  add_keyed_transformation(
      out, transforms_package + "InsertField",
      "Insert field(s) using attributes from the record metadata or a configured static value.",
      insert_def,
      [](const plugin_config& c, side s) { return std::make_unique<insert_field>(c, s); });

  api::config_def replace_def;
  replace_def
      .define({.name = "exclude",
               .type = api::config_type::list,
               .default_value = "",
               .importance = api::importance_level::medium,
               .doc = "Fields to exclude. This takes precedence over the fields to include."})
      .define({.name = "include",
               .type = api::config_type::list,
               .default_value = "",
               .importance = api::importance_level::medium,
               .doc = "Fields to include. If specified, only these fields will be used."})
      .define({.name = "renames",
               .type = api::config_type::list,
               .default_value = "",
               .importance = api::importance_level::medium,
               .doc = "Field rename mappings.",
               .validate = [](const std::string& v) { return parse_renames(v, nullptr); }})
      .define(replace_null_with_default_key());
  add_keyed_transformation(
      out, transforms_package + "ReplaceField",
      "Filter or rename fields. Use the concrete transformation type designed for the record key "
      "or value.",
      replace_def,
      [](const plugin_config& c, side s) { return std::make_unique<replace_field>(c, s); });

  api::config_def v2k_def;
  v2k_def
      .define({.name = "fields",
               .type = api::config_type::list,
               .default_value = std::nullopt,
               .importance = api::importance_level::high,
               .doc = "Field names on the record value to extract as the record key.",
               .validate = non_empty_list()})
      .define(replace_null_with_default_key());
  add_transformation(
      out, transforms_package + "ValueToKey",
      "Replace the record key with a new key formed from a subset of fields in the record value.",
      v2k_def, [](const plugin_config& c) { return std::make_unique<value_to_key>(c); });
}

}  // namespace ferry::transforms::detail
