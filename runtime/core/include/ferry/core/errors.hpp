#pragma once

#include <stdexcept>
#include <string>

namespace ferry::core {

// Errors the herder reports to its callers; the REST layer maps http_status() onto the response
// and {"error_code","message"} body, the way Kafka Connect's ConnectExceptionMapper does.
class herder_error : public std::runtime_error {
 public:
  herder_error(int status, const std::string& message)
      : std::runtime_error(message), status_(status) {}
  int http_status() const { return status_; }

 private:
  int status_;
};

class not_found_error : public herder_error {
 public:
  explicit not_found_error(const std::string& m) : herder_error(404, m) {}
};

class already_exists_error : public herder_error {
 public:
  explicit already_exists_error(const std::string& m) : herder_error(409, m) {}
};

class bad_request_error : public herder_error {
 public:
  explicit bad_request_error(const std::string& m) : herder_error(400, m) {}
};

class request_timeout_error : public herder_error {
 public:
  explicit request_timeout_error(const std::string& m) : herder_error(500, m) {}
};

}  // namespace ferry::core
