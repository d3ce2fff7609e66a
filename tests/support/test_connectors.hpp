#pragma once

#include "ferry/api/plugin_registry.hpp"

namespace ferry::test {

// Instrumented connectors for tests, registered only in ferry-worker-test:
// ferry.test.HangingSourceConnector hangs, for `hang.ms`, in the step named by `hang.in`
// (connector.start, connector.stop, task.start, task.poll or task.stop); otherwise its task
// polls nothing. It shows that a hung plug-in never blocks the REST API or shutdown.
// ferry.test.FileSinkConnector appends the records it gets to a file. The transformation
// ferry.test.FlakyTransform fails chosen records with retriable errors (errors.retry.* tests).
void register_test_connectors(api::plugin_registry& registry);

}  // namespace ferry::test
