#include <doctest/doctest.h>

#include <stdexcept>

#include "ferry/api/plugin_abi.hpp"
#include "ferry/core/converters.hpp"
#include "ferry/transforms/transformation.hpp"

using namespace ferry;

namespace {

class null_transformation final : public transforms::transformation {
 public:
  bool apply(transforms::connect_record&) override { return true; }
};

transforms::plugin_info transformation_named(const std::string& class_name) {
  transforms::plugin_info p;
  p.class_name = class_name;
  p.kind = transforms::plugin_kind::transformation;
  p.make_transformation = [](const transforms::plugin_config&) {
    return std::make_unique<null_transformation>();
  };
  return p;
}

}  // namespace

TEST_CASE("plugin ABI: what a plug-in reports is what the worker was compiled with") {
  constexpr auto abi = api::current_plugin_abi();
  CHECK(abi.api_version == api::plugin_api_version);
  CHECK(abi.cxx_abi == __GXX_ABI_VERSION);
  CHECK(abi.libstdcxx == _GLIBCXX_RELEASE * 100 + _GLIBCXX_USE_CXX11_ABI);
  // The layout fingerprint notices a changed struct size and the order of the sizes.
  CHECK(api::fold_layout({8, 16}) != api::fold_layout({8, 24}));
  CHECK(api::fold_layout({8, 16}) != api::fold_layout({16, 8}));
}

TEST_CASE("plugin converters: a built-in's class or simple name is refused") {
  const auto before = core::converter_classes();
  REQUIRE(before.size() >= 3);
  CHECK(before[0] == "org.apache.kafka.connect.json.JsonConverter");
  auto make = [](const api::config_map&, bool) { return std::unique_ptr<api::converter>(); };
  CHECK_THROWS_AS(core::register_converter({"org.apache.kafka.connect.json.JsonConverter", make}),
                  std::logic_error);
  CHECK_THROWS_AS(core::register_converter({"com.example.StringConverter", make}),
                  std::logic_error);
  CHECK_THROWS_AS(core::register_converter({"com.example.NoFactory", nullptr}), std::logic_error);
  CHECK(core::converter_classes() == before);
  CHECK_FALSE(core::is_known_converter("com.example.NoFactory"));
}

TEST_CASE("plugin transforms: clashing or incomplete entries are refused") {
  const auto size = transforms::catalog().size();
  CHECK_THROWS_AS(transforms::register_plugin(
                      transformation_named("org.apache.kafka.connect.transforms.RegexRouter")),
                  std::logic_error);
  // Same simple name: "RegexRouter" would no longer name one class.
  CHECK_THROWS_AS(transforms::register_plugin(transformation_named("com.example.RegexRouter")),
                  std::logic_error);
  auto incomplete = transformation_named("com.example.Incomplete");
  incomplete.kind = transforms::plugin_kind::predicate;  // a predicate without make_predicate
  CHECK_THROWS_AS(transforms::register_plugin(incomplete), std::logic_error);
  CHECK(transforms::catalog().size() == size);
  CHECK(transforms::find_plugin("RegexRouter") != nullptr);
}
