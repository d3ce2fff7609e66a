// ferry-worker with the test suite's instrumented connectors added.
#include "test_connectors.hpp"
#include "worker_main.hpp"

int main(int argc, char** argv) {
  return ferry::app::worker_main(argc, argv, ferry::test::register_test_connectors);
}
