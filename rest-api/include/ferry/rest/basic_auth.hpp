#pragma once

#include <cstddef>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>

namespace ferry::rest {

// HTTP basic authentication against a credentials file of `user:<hash>` lines ('#' comments),
// where <hash> is `$pbkdf2-sha256$<iterations>$<salt base64>$<key base64>` as made by
// `ferry-worker hash-password`. Plain-text passwords are refused when the file is loaded.
// Verifying costs a PBKDF2 run, so headers that verified are remembered (by their SHA-256).
// Thread-safe.
class basic_authenticator {
 public:
  // Loads the file; throws std::runtime_error naming the file and line of any problem.
  explicit basic_authenticator(const std::string& path);

  // True when the Authorization header value carries valid credentials.
  bool check(const std::string& authorization);

  static std::string hash_password(const std::string& password, int iterations = 100000);
  static bool verify(const std::string& password, const std::string& hash);

 private:
  std::map<std::string, std::string> users_;  // user -> hash
  std::mutex mutex_;
  std::set<std::string> verified_;  // SHA-256 of header values that verified
};

}  // namespace ferry::rest
