// An example transformation plug-in: UpperCase$Value upper-cases one string field of a record
// value (a struct with a schema or a schemaless map); other fields and values pass unchanged.
#include <algorithm>
#include <cctype>
#include <memory>

#include "ferry/api/errors.hpp"
#include "ferry/api/plugin_abi.hpp"
#include "ferry/transforms/transformation.hpp"

namespace {

using namespace ferry;

api::config_def upper_case_config() {
  api::config_def d;
  d.define({.name = "field",
            .type = api::config_type::string,
            .importance = api::importance_level::high,
            .doc = "Name of the string field to upper-case."});
  return d;
}

class upper_case final : public transforms::transformation {
 public:
  explicit upper_case(const transforms::plugin_config& config)
      : field_(config.values().get_string("field")) {
    if (field_.empty()) config.fail("field", field_, "must not be empty");
  }

  bool apply(transforms::connect_record& record) override {
    if (!record.value.is_object()) return true;
    auto it = record.value.find(field_);
    if (it == record.value.end() || !it->is_string()) return true;
    auto& text = it->get_ref<std::string&>();
    std::transform(text.begin(), text.end(), text.begin(),
                   [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
    return true;
  }

 private:
  std::string field_;
};

void register_upper_case(api::plugin_host& host) {
  transforms::plugin_info info;
  info.class_name = "com.example.ferry.UpperCase$Value";
  info.kind = transforms::plugin_kind::transformation;
  info.doc = "Upper-cases one string field of the record value.";
  info.config = upper_case_config();
  info.make_transformation = [](const transforms::plugin_config& c) {
    return std::make_unique<upper_case>(c);
  };
  host.add_transform(info);
}

}  // namespace

FERRY_PLUGIN(register_upper_case)
