#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>

#include "../temp_dir.hpp"
#include "ferry/api/errors.hpp"
#include "ferry/core/config_providers.hpp"
#include "ferry/core/log.hpp"

using ferry::api::config_error;
using ferry::api::config_map;
using ferry::core::config_providers;
using ferry::test::temp_dir;
using ferry::test::write_text;

namespace {

constexpr const char* k_file = "org.apache.kafka.common.config.provider.FileConfigProvider";
constexpr const char* k_dir = "org.apache.kafka.common.config.provider.DirectoryConfigProvider";
constexpr const char* k_env = "org.apache.kafka.common.config.provider.EnvVarConfigProvider";

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

std::shared_ptr<const config_providers> all_three(const config_map& extra = {}) {
  config_map props{{"config.providers", "file,directory,env"},
                   {"config.providers.file.class", k_file},
                   {"config.providers.directory.class", k_dir},
                   {"config.providers.env.class", k_env}};
  for (const auto& [k, v] : extra) props[k] = v;
  return config_providers::from_worker_properties(props);
}

}  // namespace

TEST_CASE("config providers: file, directory and env references resolve") {
  temp_dir dir;
  write_text(dir.file("creds.properties"), "user=app\npassword = s3cret-pass\n");
  std::filesystem::create_directory(dir.path() / "secrets");
  write_text((dir.path() / "secrets" / "token").string(), "tok-123\n");
  ::setenv("FERRY_TEST_PROVIDER_VAR", "from-env", 1);

  auto providers = all_three();
  auto r = providers->resolve({
      {"plain", "no references"},
      {"password", "${file:" + dir.file("creds.properties") + ":password}"},
      {"uri", "redis://${file:" + dir.file("creds.properties") +
                  ":user}:${env:FERRY_TEST_PROVIDER_VAR}@h:1"},
      {"token", "${directory:" + (dir.path() / "secrets").string() + ":token}"},
  });
  CHECK(r.values.at("plain") == "no references");
  CHECK(r.values.at("password") == "s3cret-pass");
  CHECK(r.values.at("uri") == "redis://app:from-env@h:1");
  CHECK(r.values.at("token") == "tok-123\n");  // a directory file is taken whole, as Kafka does
  CHECK(r.secrets.size() == 4);
}

TEST_CASE("config providers: unknown aliases and missing keys stay as written (Kafka's rule)") {
  temp_dir dir;
  write_text(dir.file("a.properties"), "x=1\n");
  auto providers = all_three();
  auto r = providers->resolve({{"a", "${vault:secret/x:y}"},
                               {"b", "${file:" + dir.file("a.properties") + ":missing}"},
                               {"c", "${env:FERRY_TEST_SURELY_UNSET_VARIABLE}"},
                               {"d", "${not a reference}"},
                               {"e", "${unterminated:x"}});
  CHECK(r.values.at("a") == "${vault:secret/x:y}");
  CHECK(r.values.at("b") == "${file:" + dir.file("a.properties") + ":missing}");
  CHECK(r.values.at("c") == "${env:FERRY_TEST_SURELY_UNSET_VARIABLE}");
  CHECK(r.values.at("d") == "${not a reference}");
  CHECK(r.values.at("e") == "${unterminated:x");
  CHECK(r.secrets.empty());
}

TEST_CASE("config providers: without config.providers nothing is resolved") {
  auto none = config_providers::from_worker_properties({});
  CHECK(none->empty());
  ::setenv("FERRY_TEST_PROVIDER_VAR", "from-env", 1);
  auto r = none->resolve({{"a", "${env:FERRY_TEST_PROVIDER_VAR}"}});
  CHECK(r.values.at("a") == "${env:FERRY_TEST_PROVIDER_VAR}");
}

TEST_CASE("config providers: an unreadable file is an error naming the reference, not a value") {
  auto providers = all_three();
  try {
    providers->resolve({{"p", "${file:/nonexistent/ferry/creds.properties:password}"}});
    FAIL("expected config_error");
  } catch (const config_error& e) {
    CHECK(contains(e.what(), "/nonexistent/ferry/creds.properties"));
    CHECK(contains(e.what(), "Could not read"));
  }
}

TEST_CASE("config providers: allowed.paths confines file and directory providers") {
  temp_dir dir;
  std::filesystem::create_directory(dir.path() / "ok");
  write_text((dir.path() / "ok" / "c.properties").string(), "k=v\n");
  write_text(dir.file("outside.properties"), "k=v\n");
  auto providers =
      all_three({{"config.providers.file.param.allowed.paths", (dir.path() / "ok").string()}});
  CHECK(
      providers->resolve({{"a", "${file:" + (dir.path() / "ok" / "c.properties").string() + ":k}"}})
          .values.at("a") == "v");
  CHECK_THROWS_AS(providers->resolve({{"a", "${file:" + dir.file("outside.properties") + ":k}"}}),
                  config_error);
  // .. cannot climb out of an allowed directory
  CHECK_THROWS_AS(providers->resolve({{"a", "${file:" + (dir.path() / "ok").string() +
                                                "/../outside.properties:k}"}}),
                  config_error);
  CHECK_THROWS_AS(all_three({{"config.providers.file.param.allowed.paths", "relative/dir"}}),
                  config_error);
}

TEST_CASE("config providers: a directory key cannot name a path out of the directory") {
  temp_dir dir;
  std::filesystem::create_directory(dir.path() / "d");
  write_text(dir.file("secret"), "outside\n");
  auto providers = all_three();
  auto ref = "${directory:" + (dir.path() / "d").string() + ":../secret}";
  CHECK(providers->resolve({{"a", ref}}).values.at("a") == ref);
}

TEST_CASE("config providers: env allowlist.pattern and no path") {
  ::setenv("FERRY_TEST_ALLOWED", "yes", 1);
  ::setenv("FERRY_TEST_DENIED", "no", 1);
  auto providers = all_three({{"config.providers.env.param.allowlist.pattern", "FERRY_TEST_A.*"}});
  auto r =
      providers->resolve({{"a", "${env:FERRY_TEST_ALLOWED}"}, {"b", "${env:FERRY_TEST_DENIED}"}});
  CHECK(r.values.at("a") == "yes");
  CHECK(r.values.at("b") == "${env:FERRY_TEST_DENIED}");
  CHECK_THROWS_AS(providers->resolve({{"a", "${env:/some/path:FERRY_TEST_ALLOWED}"}}),
                  config_error);
  CHECK_THROWS_AS(all_three({{"config.providers.env.param.allowlist.pattern", "(["}}),
                  config_error);
}

TEST_CASE("config providers: bad worker settings are reported together") {
  try {
    config_providers::from_worker_properties(
        {{"config.providers", "a,b"}, {"config.providers.b.class", "com.example.Vault"}});
    FAIL("expected config_error");
  } catch (const config_error& e) {
    CHECK(contains(e.what(), "config.providers.a.class"));
    CHECK(contains(e.what(), "com.example.Vault"));
  }
}

TEST_CASE("config providers: redact replaces resolved values by their references") {
  ::setenv("FERRY_TEST_PW", "hunter22", 1);
  ::setenv("FERRY_TEST_SHORT", "ab", 1);
  auto providers = all_three();
  auto r = providers->resolve({{"p", "${env:FERRY_TEST_PW}"}, {"s", "${env:FERRY_TEST_SHORT}"}});
  CHECK(r.redact("AUTH hunter22 failed; hunter22 again") ==
        "AUTH ${env:FERRY_TEST_PW} failed; ${env:FERRY_TEST_PW} again");
  CHECK(r.redact("about abc") == "about abc");  // too short to redact safely
  CHECK(ferry::log::redact("x hunter22", r.secrets) == "x ${env:FERRY_TEST_PW}");
  // A list joined from two resolutions (task and connector) is not sorted: a value that contains
  // another is still replaced whole.
  ferry::log::redactions joined{{"pass", "${env:A}"}, {"password1", "${env:B}"}};
  CHECK(ferry::log::redact("login password1 failed", joined) == "login ${env:B} failed");
}

TEST_CASE("config providers: task configs get their references back") {
  config_map raw{{"redis.password", "${env:PW}"}, {"topics", "t"}, {"mixed", "a-${env:X}-b"}};
  std::vector<config_map> tasks{
      {{"redis.password", "resolved"}, {"topics", "t"}, {"mixed", "a-1-b"}}, {{"topics", "t"}}};
  config_providers::restore_references(raw, tasks);
  CHECK(tasks[0].at("redis.password") == "${env:PW}");
  CHECK(tasks[0].at("mixed") == "a-${env:X}-b");
  CHECK(tasks[0].at("topics") == "t");
  CHECK(tasks[1].count("redis.password") == 0);
  CHECK(config_providers::has_reference("x${file:/a:b}"));
  CHECK(!config_providers::has_reference("${nocolon}"));
}
