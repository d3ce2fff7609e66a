#pragma once

#include <functional>

#include "ferry/api/plugin_registry.hpp"

namespace ferry::app {

// Registers plug-ins beyond the built-in ones (the test suite's instrumented connectors).
using plugin_hook = std::function<void(api::plugin_registry&)>;

// The whole ferry-worker program: command line, configuration, wiring, run until SIGTERM.
int worker_main(int argc, char** argv, const plugin_hook& extra_plugins);

}  // namespace ferry::app
