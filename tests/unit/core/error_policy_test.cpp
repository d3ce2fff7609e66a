#include <doctest/doctest.h>

#include "ferry/api/errors.hpp"
#include "ferry/core/error_handling.hpp"

using ferry::core::error_policy;

TEST_CASE("error policy defaults are Kafka Connect's") {
  auto p = error_policy::from({});
  CHECK_FALSE(p.tolerate_all);
  CHECK(p.retry_timeout.count() == 0);
  CHECK(p.retry_delay_max.count() == 60000);
  CHECK_FALSE(p.log);
  CHECK(p.dlq_topic.empty());
  CHECK(p.dlq_replication_factor == 3);
  CHECK_FALSE(p.dlq_context_headers);
}

TEST_CASE("error policy reads every errors.* key") {
  auto p = error_policy::from({{"errors.tolerance", "ALL"},
                               {"errors.retry.timeout", "-1"},
                               {"errors.log.enable", "true"},
                               {"errors.log.include.messages", "true"},
                               {"errors.deadletterqueue.topic.name", " dlq "},
                               {"errors.deadletterqueue.topic.replication.factor", "1"},
                               {"errors.deadletterqueue.context.headers.enable", "true"}});
  CHECK(p.tolerate_all);
  CHECK(p.retry_timeout.count() == -1);
  CHECK(p.log);
  CHECK(p.log_include_messages);
  CHECK(p.dlq_topic == "dlq");
  CHECK(p.dlq_replication_factor == 1);
  CHECK(p.dlq_context_headers);
}

TEST_CASE("error policy refuses bad values naming the key") {
  auto message = [](ferry::api::config_map c) {
    try {
      error_policy::from(c);
    } catch (const ferry::api::config_error& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  CHECK(message({{"errors.tolerance", "some"}}).find("errors.tolerance") != std::string::npos);
  CHECK(message({{"errors.retry.timeout", "-2"}}).find("errors.retry.timeout") !=
        std::string::npos);
  CHECK(message({{"errors.log.enable", "yes please"}}).find("errors.log.enable") !=
        std::string::npos);
}

TEST_CASE("error stages have Kafka's names") {
  CHECK(std::string(ferry::core::stage_name(ferry::core::error_stage::value_converter)) ==
        "VALUE_CONVERTER");
  CHECK(std::string(ferry::core::stage_name(ferry::core::error_stage::kafka_produce)) ==
        "KAFKA_PRODUCE");
}
