#pragma once

#include <stdexcept>
#include <string>

namespace ferry::api {

// The connector-facing error taxonomy. Tasks throw these; the task runner catches them at the task
// boundary. A retriable_error means "the same call may succeed later" (the runner backs off and
// retries the same batch); every other exception fails the task with its message as the trace.
class connect_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class retriable_error : public connect_error {
 public:
  using connect_error::connect_error;
};

// Bad user-supplied configuration, found by validation or while parsing a config.
class config_error : public connect_error {
 public:
  using connect_error::connect_error;
};

// A record that cannot be converted or written as it is: retrying will not help.
class data_error : public connect_error {
 public:
  using connect_error::connect_error;
};

}  // namespace ferry::api
