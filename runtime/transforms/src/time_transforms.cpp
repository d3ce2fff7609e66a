// TimestampConverter$Key/$Value and TimestampRouter.
#include <stdexcept>

#include "date_format.hpp"
#include "plugins.hpp"

namespace ferry::transforms::detail {

namespace {

using api::data_error;

enum class ts_type { string, unix, date, time, timestamp };
enum class precision { seconds, milliseconds, microseconds, nanoseconds };

std::optional<ts_type> parse_ts_type(const std::string& s) {
  if (s == "string") return ts_type::string;
  if (s == "unix") return ts_type::unix;
  if (s == "Date") return ts_type::date;
  if (s == "Time") return ts_type::time;
  if (s == "Timestamp") return ts_type::timestamp;
  return std::nullopt;
}

// Java's TimeUnit conversions truncate toward zero.
class timestamp_converter final : public transformation {
 public:
  timestamp_converter(const plugin_config& c, side s)
      : side_(s),
        field_(c.values().get_string("field")),
        target_(*parse_ts_type(c.values().get_string("target.type"))),
        replace_null_(c.values().get_bool("replace.null.with.default")) {
    auto p = c.values().get_string("unix.precision");
    precision_ = p == "seconds"        ? precision::seconds
                 : p == "microseconds" ? precision::microseconds
                 : p == "nanoseconds"  ? precision::nanoseconds
                                       : precision::milliseconds;
    auto pattern = c.values().get_string("format");
    if (target_ == ts_type::string && api::trim(pattern).empty()) {
      c.fail(
          "TimestampConverter requires format option to be specified when using string "
          "timestamps");
    }
    if (!api::trim(pattern).empty()) {
      try {
        format_.emplace(pattern);
      } catch (const std::invalid_argument& e) {
        c.fail("format", pattern,
               "TimestampConverter requires a SimpleDateFormat-compatible pattern for string "
               "timestamps: " +
                   pattern + " (" + e.what() + ")");
      }
    }
  }

  bool apply(connect_record& r) override {
    json& v = operating_value(r, side_);
    auto& schema = operating_schema(r, side_);
    if (!schema) {
      if (v.is_null() || field_.empty()) {
        v = convert(v, std::nullopt, false);
        return true;
      }
      require_map(v, purpose);
      auto it = v.find(field_);
      if (it == v.end()) {
        v[field_] = nullptr;
      } else {
        *it = convert(*it, std::nullopt, false);
      }
      return true;
    }
    if (field_.empty()) {
      auto source = type_from_schema(*schema);
      v = convert(v, source, true);
      schema = cache_.get(schema, [&](const json& s) { return target_schema(is_optional(s)); });
      return true;
    }
    require_struct_or_null(v, schema, purpose);
    auto updated = cache_.get(schema, [&](const json& s) {
      json ns = struct_like(s);
      for (const auto& f : schema_fields(s)) {
        if (f["field"] == field_) {
          ns["fields"].push_back(make_field(field_, target_schema(is_optional(f))));
        } else {
          ns["fields"].push_back(f);
        }
      }
      return ns;
    });
    if (!v.is_null()) {
      json out = json::object();
      for (const auto& f : schema_fields(*schema)) {
        const auto& name = f["field"].get_ref<const std::string&>();
        json fv = take_field_value(v, f, replace_null_);
        out[name] = name == field_ ? convert(fv, type_from_schema(f), true) : std::move(fv);
      }
      v = std::move(out);
    }
    schema = std::move(updated);
    return true;
  }

 private:
  static constexpr std::string_view purpose = "converting timestamp formats";

  json target_schema(bool optional) const {
    // JsonConverter's key order: type, optional, name, version.
    auto make = [&](const char* type, std::string_view name) {
      json s = {{"type", type}, {"optional", optional}};
      if (!name.empty()) {
        s["name"] = name;
        s["version"] = 1;
      }
      return s;
    };
    switch (target_) {
      case ts_type::string:
        return make("string", {});
      case ts_type::unix:
        return make("int64", {});
      case ts_type::date:
        return make("int32", date_logical);
      case ts_type::time:
        return make("int32", time_logical);
      case ts_type::timestamp:
        break;
    }
    return make("int64", timestamp_logical);
  }

  static ts_type type_from_schema(const json& s) {
    auto name = schema_name(s);
    if (name == timestamp_logical) return ts_type::timestamp;
    if (name == date_logical) return ts_type::date;
    if (name == time_logical) return ts_type::time;
    auto type = schema_type(s);
    if (type == "string") return ts_type::string;
    if (type == "int64") return ts_type::unix;
    throw api::connect_error("Schema " + field_schema(s).dump() +
                             " does not correspond to a known timestamp type format");
  }

  // Epoch milliseconds of a timestamp in `source` form.
  std::int64_t to_raw(const json& v, ts_type source) const {
    switch (source) {
      case ts_type::string: {
        if (!v.is_string()) {
          throw data_error("Expected string timestamp to be a String, but found " + class_name(v));
        }
        const auto& s = v.get_ref<const std::string&>();
        auto ms = format_ ? format_->parse(s) : std::nullopt;
        if (!ms) {
          throw data_error("Could not parse timestamp: value (" + s + ") does not match pattern (" +
                           (format_ ? format_->pattern() : std::string()) + ")");
        }
        return *ms;
      }
      case ts_type::unix: {
        if (!v.is_number_integer()) {
          throw data_error("Expected Unix timestamp to be a Long, but found " + class_name(v));
        }
        auto n = v.get<std::int64_t>();
        switch (precision_) {
          case precision::seconds:
            return n * 1000;
          case precision::microseconds:
            return n / 1000;
          case precision::nanoseconds:
            return n / 1'000'000;
          default:
            return n;
        }
      }
      case ts_type::date:
        if (!v.is_number_integer()) {
          throw data_error("Expected Date to be a java.util.Date, but found " + class_name(v));
        }
        return v.get<std::int64_t>() * millis_per_day;
      case ts_type::time:
      case ts_type::timestamp:
        if (!v.is_number_integer()) {
          throw data_error(std::string("Expected ") +
                           (source == ts_type::time ? "Time" : "Timestamp") +
                           " to be a java.util.Date, but found " + class_name(v));
        }
        return v.get<std::int64_t>();
    }
    return 0;
  }

  static std::int64_t floor_mod_day(std::int64_t ms) {
    std::int64_t r = ms % millis_per_day;
    return r < 0 ? r + millis_per_day : r;
  }

  // `with_schema`: Date and Time take Connect's encodings (days, millis of day); without a
  // schema there is no Date object, so they stay epoch milliseconds.
  json convert(const json& v, std::optional<ts_type> source, bool with_schema) const {
    if (v.is_null()) return v;
    if (!source) {
      if (v.is_number_integer()) {
        source = ts_type::unix;
      } else if (v.is_string()) {
        source = ts_type::string;
      } else {
        throw data_error("TimestampConverter does not support " + class_name(v) +
                         " objects as timestamps");
      }
    }
    std::int64_t ms = to_raw(v, *source);
    switch (target_) {
      case ts_type::string:
        return format_->format(ms);
      case ts_type::unix:
        switch (precision_) {
          case precision::seconds:
            return ms / 1000;
          case precision::microseconds:
            return ms * 1000;
          case precision::nanoseconds:
            return ms * 1'000'000;
          default:
            return ms;
        }
      case ts_type::date: {
        std::int64_t midnight = ms - floor_mod_day(ms);
        return with_schema ? json(midnight / millis_per_day) : json(midnight);
      }
      case ts_type::time:
        return floor_mod_day(ms);
      case ts_type::timestamp:
        return ms;
    }
    return v;
  }

  side side_;
  std::string field_;
  ts_type target_;
  precision precision_ = precision::milliseconds;
  std::optional<date_format> format_;
  bool replace_null_;
  schema_cache cache_;
};

class timestamp_router final : public transformation {
 public:
  explicit timestamp_router(const plugin_config& c)
      : topic_format_(c.values().get_string("topic.format")), format_([&] {
          auto pattern = c.values().get_string("timestamp.format");
          try {
            return date_format(pattern);
          } catch (const std::invalid_argument& e) {
            c.fail("timestamp.format", pattern, e.what());
          }
        }()) {}

  bool apply(connect_record& r) override {
    if (!r.timestamp_ms) {
      throw data_error("Timestamp missing on record: topic " + r.topic);
    }
    auto ts = format_.format(*r.timestamp_ms);
    std::string out;
    out.reserve(topic_format_.size() + r.topic.size() + ts.size());
    for (std::size_t i = 0; i < topic_format_.size();) {
      if (topic_format_.compare(i, 8, "${topic}") == 0) {
        out += r.topic;
        i += 8;
      } else if (topic_format_.compare(i, 12, "${timestamp}") == 0) {
        out += ts;
        i += 12;
      } else {
        out += topic_format_[i++];
      }
    }
    r.topic = std::move(out);
    return true;
  }

 private:
  std::string topic_format_;
  date_format format_;
};

api::validator valid_date_format() {
  return [](const std::string& v) -> std::optional<std::string> {
    try {
      date_format f(v);
    } catch (const std::invalid_argument& e) {
      return e.what();
    }
    return std::nullopt;
  };
}

}  // namespace

void register_time_transforms(std::vector<plugin_info>& out) {
  api::config_def converter_def;
  converter_def
      .define({.name = "field",
               .type = api::config_type::string,
               .default_value = "",
               .importance = api::importance_level::high,
               .doc = "The field containing the timestamp, or empty if the entire value is a "
                      "timestamp"})
      .define({.name = "target.type",
               .type = api::config_type::string,
               .default_value = std::nullopt,
               .importance = api::importance_level::high,
               .doc = "The desired timestamp representation: string, unix, Date, Time, or "
                      "Timestamp",
               .validate = api::one_of({"string", "unix", "Date", "Time", "Timestamp"}, false)})
      .define({.name = "format",
               .type = api::config_type::string,
               .default_value = "",
               .importance = api::importance_level::medium,
               .doc = "A SimpleDateFormat-compatible format for the timestamp. Used to generate "
                      "the output when type=string or used to parse the input if the input is a "
                      "string.",
               .validate = [](const std::string& v) -> std::optional<std::string> {
                 if (api::trim(v).empty()) return std::nullopt;
                 return valid_date_format()(v);
               }})
      .define({.name = "unix.precision",
               .type = api::config_type::string,
               .default_value = "milliseconds",
               .importance = api::importance_level::low,
               .doc = "The desired Unix precision for the timestamp: seconds, milliseconds, "
                      "microseconds, or nanoseconds. Used to generate the output when type=unix "
                      "or used to parse the input if the input is a Long.Note: This SMT will "
                      "cause precision loss during conversions from, and to, values with "
                      "sub-millisecond components.",
               .validate =
                   api::one_of({"nanoseconds", "microseconds", "milliseconds", "seconds"}, false)})
      .define(replace_null_with_default_key());
  add_keyed_transformation(
      out, transforms_package + "TimestampConverter",
      "Convert timestamps between different formats such as Unix epoch, strings, and Connect "
      "Date/Timestamp types.Applies to individual fields or to the entire value.",
      converter_def,
      [](const plugin_config& c, side s) { return std::make_unique<timestamp_converter>(c, s); });

  api::config_def router_def;
  router_def
      .define({.name = "topic.format",
               .type = api::config_type::string,
               .default_value = "${topic}-${timestamp}",
               .importance = api::importance_level::high,
               .doc = "Format string which can contain <code>${topic}</code> and "
                      "<code>${timestamp}</code> as placeholders for the topic and timestamp, "
                      "respectively."})
      .define({.name = "timestamp.format",
               .type = api::config_type::string,
               .default_value = "yyyyMMdd",
               .importance = api::importance_level::high,
               .doc = "Format string for the timestamp that is compatible with "
                      "<code>java.text.SimpleDateFormat</code>.",
               .validate = valid_date_format()});
  add_transformation(
      out, transforms_package + "TimestampRouter",
      "Update the record's topic field as a function of the original topic value and the record "
      "timestamp. This is mainly useful for sink connectors, since the topic field is often used "
      "to determine the equivalent entity name in the destination system(e.g. database table or "
      "search index name).",
      router_def, [](const plugin_config& c) { return std::make_unique<timestamp_router>(c); });
}

}  // namespace ferry::transforms::detail
