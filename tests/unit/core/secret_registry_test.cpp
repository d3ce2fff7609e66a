#include <doctest/doctest.h>

#include <string>

#include "ferry/api/config_def.hpp"
#include "ferry/api/plugin_registry.hpp"
#include "ferry/core/config_providers.hpp"
#include "ferry/core/connector_config.hpp"
#include "ferry/core/log.hpp"

// The process-wide secret registry is append-only: every case uses values of its own.

namespace {

// A sink plug-in with a PASSWORD-typed key whose name matches no secret pattern.
ferry::api::connector_plugin token_plugin() {
  ferry::api::connector_plugin p;
  p.class_name = "test.TokenSinkConnector";
  p.type = ferry::api::connector_type::sink;
  p.config = [] {
    ferry::api::config_def d;
    d.define({.name = "auth.token",
              .type = ferry::api::config_type::password,
              .default_value = "",
              .importance = ferry::api::importance_level::high,
              .doc = "A token."});
    d.define({.name = "auth.user",
              .type = ferry::api::config_type::string,
              .default_value = "",
              .importance = ferry::api::importance_level::high,
              .doc = "A user."});
    return d;
  };
  return p;
}

}  // namespace

TEST_CASE("secrets: a connector config's PASSWORD-typed and secret-named values are registered") {
  auto plugin = token_plugin();
  CHECK(ferry::log::hide_secrets("token TokReg-1a2b") == "token TokReg-1a2b");  // not yet
  ferry::core::register_config_secrets(&plugin,
                                       {{"connector.class", "test.TokenSinkConnector"},
                                        {"auth.token", "TokReg-1a2b"},
                                        {"auth.user", "UserReg-3c4d"},
                                        {"redis.password", "RedisReg-5e6f"},
                                        {"producer.override.sasl.jaas.config", "JaasReg-77"},
                                        {"transforms", ""}});
  // By type (whatever the name), and by name; a plain setting stays.
  CHECK(ferry::log::hide_secrets("auth TokReg-1a2b as UserReg-3c4d with RedisReg-5e6f") ==
        "auth [hidden] as UserReg-3c4d with [hidden]");
  CHECK(ferry::log::hide_secrets("jaas JaasReg-77") == "jaas [hidden]");
  // Inside any text, e.g. a config quoted whole; URI passwords too.
  CHECK(ferry::log::hide_secrets("{\"auth.token\":\"TokReg-1a2b\"} redis://u:pw9@h:1") ==
        "{\"auth.token\":\"[hidden]\"} redis://u:[hidden]@h:1");
}

TEST_CASE("secrets: without a plug-in only the names decide; references and short values stay") {
  ferry::core::register_config_secrets(nullptr, {{"auth.token", "TokNoPlugin-99"},
                                                 {"my.secret.id", "SecretNamed-42"},
                                                 {"redis.password", "${env:REDIS_PW}"},
                                                 {"other.password", "ab"},
                                                 {"third.password", ""}});
  CHECK(ferry::log::hide_secrets("TokNoPlugin-99 SecretNamed-42") == "TokNoPlugin-99 [hidden]");
  // A provider reference is no secret (the value it resolves to is); 2 characters are too short.
  CHECK(ferry::log::hide_secrets("${env:REDIS_PW} ab about") == "${env:REDIS_PW} ab about");
}

TEST_CASE("secrets: registered values are hidden in every log line and resolved-config text") {
  auto plugin = token_plugin();
  ferry::core::register_config_secrets(&plugin, {{"auth.token", "LoggedTok-8f8f"}});
  ferry::core::resolved_config resolved;
  resolved.values = {{"redis.password", "ResolvedPw-1234"}, {"redis.username", "ResolvedUser"}};
  resolved.secrets = {{"ResolvedPw-1234", "${env:PW}"}, {"ResolvedUser", "${env:USER}"}};
  ferry::core::register_resolved_secrets(&plugin, resolved);
  // A resolved_config shows its own values as their references, other secrets as [hidden].
  CHECK(resolved.redact("failed with LoggedTok-8f8f and ResolvedPw-1234") ==
        "failed with [hidden] and ${env:PW}");
  // Elsewhere (another thread, a REST answer) the resolved password is [hidden] too; what a
  // provider resolved for a plain key (a user name) is no secret there.
  CHECK(ferry::log::hide_secrets("ResolvedPw-1234 ResolvedUser") == "[hidden] ResolvedUser");
  // Repeats and "[hidden]" itself are not added twice / at all.
  ferry::log::add_global_secrets({"LoggedTok-8f8f", "[hidden]"});
  CHECK(ferry::log::hide_secrets("x LoggedTok-8f8f [hidden] y") == "x [hidden] [hidden] y");
}

TEST_CASE("secrets: PEM private keys are secret by name, paths and certificates are not") {
  CHECK(ferry::log::is_secret_key("ssl.keystore.key"));
  CHECK(ferry::log::is_secret_key("producer.override.ssl.key.pem"));
  CHECK_FALSE(ferry::log::is_secret_key("ssl.keystore.certificate.chain"));
  CHECK_FALSE(ferry::log::is_secret_key("redis.key"));
}
