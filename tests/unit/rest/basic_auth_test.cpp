#include <doctest/doctest.h>

#include <stdexcept>
#include <string>

#include "../temp_dir.hpp"
#include "ferry/core/converters.hpp"
#include "ferry/rest/basic_auth.hpp"
#include "ferry/storage/atomic_file.hpp"

using ferry::rest::basic_authenticator;

namespace {

std::string header(const std::string& user, const std::string& password) {
  return "Basic " + ferry::core::base64_encode(user + ":" + password);
}

}  // namespace

TEST_CASE("hash_password makes salted PBKDF2 hashes that verify only the right password") {
  auto a = basic_authenticator::hash_password("s3cret", 1000);
  auto b = basic_authenticator::hash_password("s3cret", 1000);
  CHECK(a.starts_with("$pbkdf2-sha256$1000$"));
  CHECK(a != b);  // a fresh salt each time
  CHECK(basic_authenticator::verify("s3cret", a));
  CHECK(basic_authenticator::verify("s3cret", b));
  CHECK_FALSE(basic_authenticator::verify("s3cret!", a));
  CHECK_FALSE(basic_authenticator::verify("s3cret", "s3cret"));  // plain text is no hash
  CHECK_FALSE(basic_authenticator::verify("s3cret", "$pbkdf2-sha256$1000$bad$bad"));
}

TEST_CASE("basic_authenticator checks Authorization headers against the file") {
  ferry::test::temp_dir dir;
  auto path = (dir.path() / "credentials").string();
  ferry::storage::write_file_atomically(
      path, "# users\nalice:" + basic_authenticator::hash_password("pw-a", 1000) + "\n\n" +
                "bob: " + basic_authenticator::hash_password("pw-b", 1000) + "\n");
  basic_authenticator auth(path);
  CHECK(auth.check(header("alice", "pw-a")));
  CHECK(auth.check(header("alice", "pw-a")));  // remembered
  CHECK(auth.check(header("bob", "pw-b")));
  CHECK_FALSE(auth.check(header("alice", "pw-b")));
  CHECK_FALSE(auth.check(header("carol", "pw-a")));
  CHECK_FALSE(auth.check(""));
  CHECK_FALSE(auth.check("Bearer abc"));
  CHECK_FALSE(auth.check("Basic !!!"));
  CHECK(auth.check("basic " + ferry::core::base64_encode("alice:pw-a")));  // scheme is case-free
}

TEST_CASE("basic_authenticator refuses files with plain-text passwords or no user") {
  ferry::test::temp_dir dir;
  auto path = (dir.path() / "credentials").string();
  ferry::storage::write_file_atomically(path, "alice:pw-a\n");
  try {
    basic_authenticator auth(path);
    FAIL("a plain-text password was accepted");
  } catch (const std::runtime_error& e) {
    CHECK(std::string(e.what()).find("line 1") != std::string::npos);
    CHECK(std::string(e.what()).find("hash-password") != std::string::npos);
  }
  ferry::storage::write_file_atomically(path, "# nobody\n");
  CHECK_THROWS_AS(basic_authenticator{path}, std::runtime_error);
  CHECK_THROWS_AS(basic_authenticator{(dir.path() / "missing").string()}, std::runtime_error);
}
