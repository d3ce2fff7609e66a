// An example plug-in with a converter and a predicate, and its own version:
// - com.example.ferry.CsvConverter reads a Kafka key or value holding one line of comma-separated
//   text as a record whose fields `fields` names ("id,name" reads "7,ada" as
//   {"id": "7", "name": "ada"}), and writes such a record back as one line. No quoting: a value
//   holds no comma. Use it as key.converter / value.converter, with value.converter.fields=...
// - com.example.ferry.FieldEquals is true for records whose value has the string field `field`
//   equal to `value` (any value when `value` is not set), so that a transformation applies to
//   those records only.
#include <memory>
#include <string>
#include <vector>

#include "ferry/api/converter.hpp"
#include "ferry/api/errors.hpp"
#include "ferry/api/plugin_abi.hpp"
#include "ferry/transforms/transformation.hpp"

namespace {

using namespace ferry;

std::vector<std::string> split(const std::string& line) {
  std::vector<std::string> out(1);
  for (char c : line) {
    if (c == ',') {
      out.emplace_back();
    } else {
      out.back() += c;
    }
  }
  return out;
}

class csv_converter final : public api::converter {
 public:
  explicit csv_converter(const api::config_map& settings) {
    api::config_def def;
    def.define({.name = "fields",
                .type = api::config_type::list,
                .importance = api::importance_level::high,
                .doc = "Names of the columns, in order."});
    fields_ = api::parsed_config(def, settings).get_list("fields");  // throws when missing
    if (fields_.empty()) throw api::config_error("CsvConverter: fields must name a column");
  }

  std::optional<std::string> from_connect(const std::string&, const json& value,
                                          const json*) override {
    if (value.is_null()) return std::nullopt;
    if (!value.is_object()) throw api::data_error("CsvConverter writes records (maps) only");
    std::string line;
    for (std::size_t i = 0; i < fields_.size(); ++i) {
      if (i > 0) line += ',';
      auto it = value.find(fields_[i]);
      if (it != value.end() && !it->is_null()) {
        line += it->is_string() ? it->get<std::string>() : it->dump();
      }
    }
    return line;
  }

  api::connect_data to_connect(const std::string&, const char* data, std::size_t size) override {
    if (!data) return {};  // a null key or value stays null
    auto columns = split(std::string(data, size));
    if (columns.size() != fields_.size()) {
      throw api::data_error("CsvConverter: expected " + std::to_string(fields_.size()) +
                            " columns, got " + std::to_string(columns.size()));
    }
    json record = json::object();
    for (std::size_t i = 0; i < columns.size(); ++i) record[fields_[i]] = columns[i];
    return {.value = std::move(record), .schema = nullptr};
  }

 private:
  std::vector<std::string> fields_;
};

api::config_def field_equals_config() {
  api::config_def d;
  d.define({.name = "field",
            .type = api::config_type::string,
            .importance = api::importance_level::high,
            .doc = "Name of the string field of the record value to compare."});
  d.define({.name = "value",
            .type = api::config_type::string,
            .importance = api::importance_level::medium,
            .doc = "The text it must equal; not set: any value matches.",
            .default_null = true});  // optional, without a default
  return d;
}

class field_equals final : public transforms::predicate {
 public:
  explicit field_equals(const transforms::plugin_config& config)
      : field_(config.values().get_string("field")),
        value_(config.values().get_optional("value")) {}

  bool test(const transforms::connect_record& record) const override {
    if (!record.value.is_object()) return false;
    auto it = record.value.find(field_);
    if (it == record.value.end() || !it->is_string()) return false;
    return !value_ || it->get_ref<const std::string&>() == *value_;
  }

 private:
  std::string field_;
  std::optional<std::string> value_;
};

void register_csv(api::plugin_host& host) {
  host.add_converter({.class_name = "com.example.ferry.CsvConverter",
                      .make = [](const api::config_map& settings, bool) {
                        return std::make_unique<csv_converter>(settings);
                      }});
  transforms::plugin_info info;
  info.class_name = "com.example.ferry.FieldEquals";
  info.kind = transforms::plugin_kind::predicate;
  info.doc = "True for records whose value field `field` equals `value`.";
  info.config = field_equals_config();
  info.make_predicate = [](const transforms::plugin_config& c) {
    return std::make_unique<field_equals>(c);
  };
  host.add_transform(info);
}

}  // namespace

FERRY_PLUGIN(register_csv)
FERRY_PLUGIN_VERSION("2.1.0")
