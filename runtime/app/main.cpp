#include "worker_main.hpp"

int main(int argc, char** argv) {
  return ferry::app::worker_main(argc, argv, nullptr);
}
