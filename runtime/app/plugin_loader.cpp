#include "plugin_loader.hpp"

#include <dlfcn.h>

#include <algorithm>
#include <filesystem>
#include <stdexcept>
#include <system_error>

#include "ferry/api/plugin_abi.hpp"
#include "ferry/core/converters.hpp"
#include "ferry/core/log.hpp"
#include "ferry/transforms/transformation.hpp"

namespace ferry::app {

namespace {

namespace fs = std::filesystem;

constexpr const char* k_log = "plugins";

// Kafka scans each plugin.path directory for plug-ins directly in it and in its subdirectories.
std::vector<fs::path> plugin_files(const std::vector<std::string>& plugin_path) {
  std::vector<fs::path> out;
  auto is_shared_object = [](const fs::directory_entry& e) {
    std::error_code ec;
    return e.is_regular_file(ec) && e.path().extension() == ".so";
  };
  for (const auto& dir : plugin_path) {
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) {
      log::warn(k_log, "plugin.path entry ", dir, " is not a directory; ignoring it");
      continue;
    }
    std::vector<fs::path> found;
    for (const auto& e : fs::directory_iterator(dir, ec)) {
      if (is_shared_object(e)) {
        found.push_back(e.path());
      } else if (e.is_directory(ec)) {
        for (const auto& n : fs::recursive_directory_iterator(e.path(), ec)) {
          if (is_shared_object(n)) found.push_back(n.path());
        }
      }
    }
    std::sort(found.begin(), found.end());
    out.insert(out.end(), found.begin(), found.end());
  }
  return out;
}

// Which part of the ABI differs, or empty when the plug-in matches this worker.
std::string abi_mismatch(const api::plugin_abi_info& theirs) {
  const auto ours = api::current_plugin_abi();
  auto text = [](std::uint32_t v) { return std::to_string(v); };
  if (theirs.api_version != ours.api_version) {
    return "it was built for ferry plug-in API version " + text(theirs.api_version) +
           ", this worker provides version " + text(ours.api_version);
  }
  if (theirs.cxx_abi != ours.cxx_abi || theirs.libstdcxx != ours.libstdcxx) {
    return "it was built with another C++ ABI (compiler ABI " + text(theirs.cxx_abi) +
           ", libstdc++ " + text(theirs.libstdcxx) + "; this worker: " + text(ours.cxx_abi) + ", " +
           text(ours.libstdcxx) + ")";
  }
  if (theirs.json_version != ours.json_version) {
    return "it was built with nlohmann_json " + text(theirs.json_version) + ", this worker with " +
           text(ours.json_version);
  }
  if (theirs.layout != ours.layout) {
    return "its API structs have another layout than this worker's (different headers)";
  }
  return {};
}

// Collects what one plug-in's register function adds, so nothing of a plug-in that throws
// halfway reaches the worker.
class staging_host final : public api::plugin_host {
 public:
  void add_connector(api::connector_plugin plugin) override {
    connectors.push_back(std::move(plugin));
  }
  void add_converter(api::converter_plugin plugin) override {
    converters.push_back(std::move(plugin));
  }
  void add_transform(const transforms::plugin_info& plugin) override {
    transforms.push_back(plugin);
  }

  void clear() {
    connectors.clear();
    converters.clear();
    transforms.clear();
  }

  std::vector<api::connector_plugin> connectors;
  std::vector<api::converter_plugin> converters;
  std::vector<transforms::plugin_info> transforms;
};

// Adds one staged class; a taken name is refused with a log line. Returns whether it was added.
template <typename Add>
bool commit(const fs::path& file, const std::string& class_name, Add&& add) {
  try {
    add();
    log::info(k_log, "Added plug-in class ", class_name, " from ", file.string());
    return true;
  } catch (const std::logic_error& e) {
    log::error(k_log, "Refusing class ", class_name, " of plug-in ", file.string(), ": ", e.what(),
               ". Rename the class in the plug-in; built-in classes keep their names.");
    return false;
  }
}

bool load_one(const fs::path& file, api::plugin_registry& registry) {
  const auto name = file.string();
  void* handle = dlopen(name.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!handle) {
    log::error(k_log, "Skipping plug-in ", name, ": cannot load it: ", dlerror(),
               ". Build it with ferry_add_plugin() against this ferry's installed package.");
    return false;
  }
  auto skip = [&](const std::string& why, const std::string& what_to_do) {
    log::error(k_log, "Skipping plug-in ", name, ": ", why, ". ", what_to_do);
    dlclose(handle);
    return false;
  };
  auto abi = reinterpret_cast<ferry_plugin_abi_function>(dlsym(handle, FERRY_PLUGIN_ABI_SYMBOL));
  auto reg =
      reinterpret_cast<ferry_plugin_register_function>(dlsym(handle, FERRY_PLUGIN_REGISTER_SYMBOL));
  if (!abi || !reg) {
    return skip("it is not a ferry plug-in (no " FERRY_PLUGIN_ABI_SYMBOL
                " / " FERRY_PLUGIN_REGISTER_SYMBOL " entry points)",
                "Define them with FERRY_PLUGIN(...) from ferry/api/plugin_abi.hpp, or remove the "
                "file from plugin.path.");
  }
  const auto* info = abi();
  if (!info) return skip("its " FERRY_PLUGIN_ABI_SYMBOL "() returned nothing", "Rebuild it.");
  if (auto why = abi_mismatch(*info); !why.empty()) {
    return skip(why, "Rebuild it against this ferry's installed package (find_package(ferry)).");
  }

  // Kafka Connect reports "undefined" for a class that does not say its version.
  std::string version = "undefined";
  if (auto v = reinterpret_cast<ferry_plugin_version_function>(
          dlsym(handle, FERRY_PLUGIN_VERSION_SYMBOL))) {
    if (const char* text = v(); text && *text) version = text;
  }

  int added = 0;
  {
    staging_host host;
    // The exception and the staged factories may hold code of the plug-in: both are gone before
    // skip() unmaps it.
    std::string failure;
    try {
      reg(host);
    } catch (const std::exception& e) {
      failure = std::string("its register function threw: ") + e.what();
    } catch (...) {
      failure = "its register function threw a non-standard exception";
    }
    if (!failure.empty()) {
      host.clear();
      return skip(failure, "Fix the plug-in; none of its classes were added.");
    }
    for (auto& c : host.connectors) {
      const auto cls = c.class_name;
      if (c.version.empty()) c.version = version;
      added += commit(file, cls, [&] { registry.add(std::move(c)); });
    }
    for (auto& c : host.converters) {
      const auto cls = c.class_name;
      if (commit(file, cls, [&] { core::register_converter(std::move(c)); })) {
        registry.set_class_version(cls, version);
        ++added;
      }
    }
    for (auto& t : host.transforms) {
      const auto cls = t.class_name;
      if (commit(file, cls, [&] { transforms::register_plugin(std::move(t)); })) {
        registry.set_class_version(cls, version);
        ++added;
      }
    }
  }
  if (added == 0) return skip("it added no class", "Check its register function.");
  // Kept mapped: the registered factories point into it.
  return true;
}

}  // namespace

std::vector<std::string> load_plugins(const std::vector<std::string>& plugin_path,
                                      api::plugin_registry& registry) {
  std::vector<std::string> loaded;
  for (const auto& file : plugin_files(plugin_path)) {
    if (load_one(file, registry)) loaded.push_back(file.string());
  }
  if (!plugin_path.empty()) {
    log::info(k_log, "Loaded ", loaded.size(), " plug-in(s) from plugin.path");
  }
  return loaded;
}

}  // namespace ferry::app
