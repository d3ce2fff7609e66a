#include <doctest/doctest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <functional>
#include <sstream>

#include "../temp_dir.hpp"
#include "ferry/api/json.hpp"
#include "ferry/core/log.hpp"

namespace flog = ferry::log;

namespace {

// Lines this thread logs while `fn` runs, read back from stderr redirected to a file.
std::string captured_stderr(const std::function<void()>& fn) {
  ferry::test::temp_dir dir;
  auto path = dir.path() / "stderr";
  std::fflush(stderr);
  int saved = dup(fileno(stderr));
  REQUIRE(std::freopen(path.c_str(), "w", stderr) != nullptr);
  fn();
  std::fflush(stderr);
  dup2(saved, fileno(stderr));
  close(saved);
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

TEST_CASE("log: passwords in URIs are hidden, the rest of the URI stays") {
  CHECK(flog::hide_uri_passwords("Redis URI redis://ferry:pa:ss@h:1/0 bad") ==
        "Redis URI redis://ferry:[hidden]@h:1/0 bad");
  CHECK(flog::hide_uri_passwords("rediss://:pw@h:6380") == "rediss://:[hidden]@h:6380");
  CHECK(flog::hide_uri_passwords("\"redis://a:b@x\", \"redis://c:d@y\"") ==
        "\"redis://a:[hidden]@x\", \"redis://c:[hidden]@y\"");
  // No password, or no user info: unchanged.
  CHECK(flog::hide_uri_passwords("redis://user@h:1 and http://127.0.0.1:8083/x@y") ==
        "redis://user@h:1 and http://127.0.0.1:8083/x@y");
  CHECK(flog::hide_uri_passwords("mail a@b at http://h:1") == "mail a@b at http://h:1");
}

TEST_CASE("log: context fields and secret key names") {
  using fields = std::vector<std::pair<std::string, std::string>>;
  CHECK(flog::parse_context("connector=orders task=0") ==
        fields{{"connector", "orders"}, {"task", "0"}});
  CHECK(flog::parse_context("connector=a b c task=12") ==
        fields{{"connector", "a b c"}, {"task", "12"}});
  CHECK(flog::parse_context("group=g1") == fields{{"group", "g1"}});
  CHECK(flog::parse_context("") == fields{});
  CHECK(flog::is_secret_key("redis.password"));
  CHECK(flog::is_secret_key("listeners.https.ssl.keystore.password"));
  CHECK(flog::is_secret_key("producer.sasl.jaas.config"));
  CHECK(flog::is_secret_key("config.providers.vault.param.secret.id"));
  CHECK_FALSE(flog::is_secret_key("redis.uri"));
  flog::format f = flog::format::text;
  CHECK(flog::parse_format("JSON", f));
  CHECK(f == flog::format::json);
  CHECK_FALSE(flog::parse_format("xml", f));
}

TEST_CASE("log: JSON strings escape quotes, control characters and bad UTF-8") {
  CHECK(flog::json_quote("a\"b\\c\n\t\x01") == "\"a\\\"b\\\\c\\n\\t\\u0001\"");
  CHECK(flog::json_quote("caf\xc3\xa9") == "\"caf\xc3\xa9\"");
  CHECK(flog::json_quote("bad\xff!") == "\"bad\\ufffd!\"");
  CHECK(flog::json_quote("cut\xc3") == "\"cut\\ufffd\"");
}

TEST_CASE("log: JSON lines carry time, level, logger, context fields and a redacted message") {
  flog::set_thread_context("connector=my \"conn\" task=3");
  flog::add_global_secrets({"GlobalSecret42", "ab"});
  flog::set_format(flog::format::json);
  auto text = captured_stderr([] {
    flog::warn("unit", "login with GlobalSecret42 to redis://u:pw1@h:1 failed\n(next line)");
  });
  flog::set_format(flog::format::text);
  auto plain = captured_stderr([] { flog::warn("unit", "plain GlobalSecret42"); });
  flog::set_thread_context("");

  REQUIRE(!text.empty());
  CHECK(text.back() == '\n');
  CHECK(text.find('\n') == text.size() - 1);  // one line
  auto doc = ferry::json::parse(text);
  CHECK(doc["level"] == "WARN");
  CHECK(doc["logger"] == "unit");
  CHECK(doc["connector"] == "my \"conn\"");
  CHECK(doc["task"] == "3");
  CHECK(doc["message"] == "login with [hidden] to redis://u:[hidden]@h:1 failed\n(next line)");
  CHECK(doc["time"].get<std::string>().size() == 24);
  CHECK(plain.find("WARN  [unit] plain [hidden] (connector=my \"conn\" task=3)") !=
        std::string::npos);
}
