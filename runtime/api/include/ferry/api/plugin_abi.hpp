#pragma once

// The binary contract between ferry-worker and a plug-in shared object from plugin.path.
//
// A plug-in is C++ compiled against these headers and loaded into the worker's process, so it
// shares the worker's classes (std::string, std::function, nlohmann::json, ferry's API types)
// byte for byte. The worker refuses a plug-in unless everything that decides those layouts
// matches: the plug-in API version below, the compiler's C++ ABI, the libstdc++ release and the
// sizes of the API structs. A plug-in defines its entry points with FERRY_PLUGIN(function), and
// may declare its version with FERRY_PLUGIN_VERSION("1.2.0"): GET /connector-plugins shows it for
// each of its classes (a connector's own connector_plugin::version wins; "undefined", as in
// Kafka Connect, when neither is given).

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <string>

#include "ferry/api/converter.hpp"
#include "ferry/api/plugin_registry.hpp"

// Raised whenever a header a plug-in compiles against changes incompatibly. -D overrides it only
// to test the refusal. 2: config_key::default_null. 3: source_record::value_bytes, value_form.
#ifndef FERRY_PLUGIN_API_VERSION
#define FERRY_PLUGIN_API_VERSION 3
#endif

namespace ferry::transforms {
struct plugin_info;
}

namespace ferry::api {

inline constexpr std::uint32_t plugin_api_version = FERRY_PLUGIN_API_VERSION;

// What a plug-in was built with; compared field by field by the worker.
struct plugin_abi_info {
  std::uint32_t api_version;
  std::uint32_t cxx_abi;       // __GXX_ABI_VERSION
  std::uint32_t libstdcxx;     // _GLIBCXX_RELEASE * 100 + _GLIBCXX_USE_CXX11_ABI
  std::uint32_t layout;        // sizes of the API structs, folded together
  std::uint32_t json_version;  // NLOHMANN_JSON_VERSION_MAJOR * 10000 + MINOR * 100 + PATCH
};

constexpr std::uint32_t fold_layout(std::initializer_list<std::size_t> sizes) {
  std::uint32_t h = 2166136261u;  // FNV-1a over the sizes
  for (auto s : sizes) h = (h ^ static_cast<std::uint32_t>(s)) * 16777619u;
  return h;
}

constexpr plugin_abi_info current_plugin_abi() {
  return {
    .api_version = plugin_api_version, .cxx_abi = __GXX_ABI_VERSION,
#if defined(_GLIBCXX_RELEASE)
    .libstdcxx = _GLIBCXX_RELEASE * 100 + _GLIBCXX_USE_CXX11_ABI,
#else
    .libstdcxx = 0,
#endif
    .layout = fold_layout({sizeof(std::string), sizeof(json), sizeof(config_key),
                           sizeof(config_def), sizeof(source_record), sizeof(sink_record),
                           sizeof(connector_plugin), sizeof(converter_plugin)}),
    .json_version = NLOHMANN_JSON_VERSION_MAJOR * 10000 + NLOHMANN_JSON_VERSION_MINOR * 100 +
                    NLOHMANN_JSON_VERSION_PATCH,
  };
}

// What a plug-in's register function adds its classes through. The worker checks every class
// against the built-ins (and other plug-ins) after the function returns and refuses clashing ones.
// Used only during start-up, from the main thread.
class plugin_host {
 public:
  plugin_host() = default;
  plugin_host(const plugin_host&) = delete;
  plugin_host& operator=(const plugin_host&) = delete;
  virtual ~plugin_host() = default;

  virtual void add_connector(connector_plugin plugin) = 0;
  virtual void add_converter(converter_plugin plugin) = 0;
  // A transformation or predicate; include "ferry/transforms/transformation.hpp" to build one.
  virtual void add_transform(const transforms::plugin_info& plugin) = 0;
};

}  // namespace ferry::api

// Entry point names the worker looks up with dlsym.
#define FERRY_PLUGIN_ABI_SYMBOL "ferry_plugin_abi"
#define FERRY_PLUGIN_REGISTER_SYMBOL "ferry_plugin_register"
#define FERRY_PLUGIN_VERSION_SYMBOL "ferry_plugin_version"  // optional

extern "C" {
using ferry_plugin_abi_function = const ferry::api::plugin_abi_info* (*)();
using ferry_plugin_register_function = void (*)(ferry::api::plugin_host&);
using ferry_plugin_version_function = const char* (*)();
}

// Defines the two entry points of a plug-in; `register_function` is a
// void(ferry::api::plugin_host&) that adds the plug-in's classes. Use once per shared object.
#define FERRY_PLUGIN(register_function)                                                   \
  extern "C" __attribute__((visibility("default"))) const ferry::api::plugin_abi_info*    \
  ferry_plugin_abi() {                                                                    \
    static constexpr ferry::api::plugin_abi_info info = ferry::api::current_plugin_abi(); \
    return &info;                                                                         \
  }                                                                                       \
  extern "C" __attribute__((visibility("default"))) void ferry_plugin_register(           \
      ferry::api::plugin_host& host) {                                                    \
    register_function(host);                                                              \
  }

// Declares the plug-in's version (a string literal), reported for each of its classes by
// GET /connector-plugins. Optional; use at most once per shared object, next to FERRY_PLUGIN.
#define FERRY_PLUGIN_VERSION(version_text)                                               \
  extern "C" __attribute__((visibility("default"))) const char* ferry_plugin_version() { \
    return version_text;                                                                 \
  }
