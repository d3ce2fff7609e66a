#pragma once

#include <string>
#include <vector>

#include "ferry/api/plugin_registry.hpp"

namespace ferry::app {

// Loads the plug-in shared objects of plugin.path (see README.md, "External plug-ins") and adds
// their classes to `registry`, the converter factory and the transforms catalog. Runs once in the
// composition root, on the main thread, after the built-ins are registered and before the herder
// exists. A plug-in that cannot be loaded, was built for another API, throws while registering, or
// brings a class name that is taken is logged and skipped; the worker keeps starting. Loaded
// plug-ins stay mapped for the life of the process. Returns the files whose classes were added.
std::vector<std::string> load_plugins(const std::vector<std::string>& plugin_path,
                                      api::plugin_registry& registry);

}  // namespace ferry::app
