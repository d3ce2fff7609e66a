#include <doctest/doctest.h>

#include <algorithm>

#include "ferry/api/errors.hpp"
#include "ferry/core/source_connector_config.hpp"

using ferry::api::config_map;
using ferry::api::config_value;
using namespace ferry::core;

namespace {

std::vector<config_value> validate(const config_map& config, const worker_config* worker) {
  std::vector<config_value> values;
  validate_source_keys(values, config, worker);
  return values;
}

std::string all_errors(const std::vector<config_value>& values) {
  std::string out;
  for (const auto& v : values)
    for (const auto& e : v.errors) out += v.name + ": " + e + "\n";
  return out;
}

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

worker_config distributed_worker(const std::string& eos) {
  return worker_config::parse({{"group.id", "g"},
                               {"config.storage.topic", "c"},
                               {"offset.storage.topic", "o"},
                               {"status.storage.topic", "s"},
                               {"exactly.once.source.support", eos}},
                              false);
}

}  // namespace

TEST_CASE("exactly.once.support=required needs a worker with exactly-once source support") {
  auto off = distributed_worker("disabled");
  auto on = distributed_worker("enabled");
  auto standalone = worker_config::parse({}, true);
  config_map required{{"exactly.once.support", "required"}};
  CHECK(contains(all_errors(validate(required, &off)),
                 "exactly.once.support: This worker does not have exactly-once source support "
                 "enabled: set exactly.once.source.support=enabled"));
  CHECK(contains(all_errors(validate(required, &standalone)), "a standalone worker never has it"));
  CHECK(all_errors(validate(required, &on)).empty());
  CHECK(all_errors(validate({{"exactly.once.support", "requested"}}, &off)).empty());
  CHECK(contains(all_errors(validate({{"transaction.boundary", "connector"}}, &on)),
                 "use transaction.boundary=poll or interval"));
}

TEST_CASE("a standalone worker refuses exactly.once.source.support=enabled") {
  CHECK_THROWS_WITH_AS(worker_config::parse({{"exactly.once.source.support", "enabled"}}, true),
                       doctest::Contains("needs a distributed worker"), ferry::api::config_error);
  CHECK_THROWS_AS(worker_config::parse({{"exactly.once.source.support", "yes"}}, true),
                  ferry::api::config_error);
  CHECK(distributed_worker("preparing").exactly_once_source == "preparing");
}

TEST_CASE("exactly-once settings: transactional id, boundary, offsets topic") {
  auto w = distributed_worker("enabled");
  auto s = exactly_once_settings::from({}, w, "orders", 1);
  CHECK(s.enabled);
  CHECK(s.transactional_id == "g-orders-1");
  CHECK(s.boundary == transaction_boundary::poll);
  CHECK(s.offsets_topic == "o");
  auto i = exactly_once_settings::from({{"transaction.boundary", "interval"},
                                        {"transaction.boundary.interval.ms", "250"},
                                        {"offsets.storage.topic", "orders-offsets"}},
                                       w, "orders", 0);
  CHECK(i.boundary == transaction_boundary::interval);
  CHECK(i.interval == std::chrono::milliseconds(250));
  CHECK(i.offsets_topic == "orders-offsets");
  CHECK_FALSE(exactly_once_settings::from({}, distributed_worker("preparing"), "x", 0).enabled);
}

TEST_CASE("topic creation: groups in order, exclude wins, default last") {
  config_map c{{"topic.creation.default.partitions", "3"},
               {"topic.creation.default.replication.factor", "1"},
               {"topic.creation.groups", "compacted,big"},
               {"topic.creation.compacted.include", "state-.*,config"},
               {"topic.creation.compacted.exclude", "state-tmp"},
               {"topic.creation.compacted.cleanup.policy", "compact"},
               {"topic.creation.big.include", "state-.*,events-.*"},
               {"topic.creation.big.partitions", "12"},
               {"topic.creation.big.replication.factor", "-1"}};
  CHECK(all_errors(validate(c, nullptr)).empty());
  auto rules = topic_creation_rules::from(c, true);
  REQUIRE(rules.enabled());
  auto compacted = *rules.spec_for("state-users");
  CHECK(compacted.partitions == 3);  // inherited from the default group
  CHECK(compacted.replication_factor == 1);
  CHECK(compacted.configs == std::map<std::string, std::string>{{"cleanup.policy", "compact"}});
  CHECK(rules.group_for("config")->name == "compacted");
  CHECK(rules.group_for("state-tmp")->name == "big");  // excluded from compacted, next group
  auto big = *rules.spec_for("events-1");
  CHECK(big.partitions == 12);
  CHECK(big.replication_factor == -1);
  CHECK(big.configs.empty());
  CHECK(rules.group_for("other")->name == "default");
  CHECK(rules.group_for("configs")->name == "default");  // the whole name must match

  CHECK_FALSE(topic_creation_rules::from(c, false).enabled());      // topic.creation.enable=false
  CHECK_FALSE(topic_creation_rules::from({}, true).enabled());      // nothing asked
  CHECK_FALSE(topic_creation_rules::from({}, true).spec_for("x"));  // so nothing created
}

TEST_CASE("topic creation: bad values are refused with the key named") {
  auto errors = all_errors(validate({{"topic.creation.default.partitions", "0"},
                                     {"topic.creation.default.replication.factor", "abc"},
                                     {"topic.creation.groups", "g,default"},
                                     {"topic.creation.g.include", "("},
                                     {"topic.creation.g.partitions", "-2"}},
                                    nullptr));
  CHECK(contains(errors, "topic.creation.default.partitions: Invalid value 0"));
  CHECK(contains(errors, "topic.creation.default.replication.factor: Invalid value abc"));
  CHECK(contains(errors, "topic.creation.groups: topic.creation.groups must not list 'default'"));
  CHECK(contains(errors, "topic.creation.g.include: Invalid value ( "));
  CHECK(contains(errors, "topic.creation.g.partitions: Invalid value -2"));
  // A group without the default group's counts.
  auto missing = all_errors(
      validate({{"topic.creation.groups", "g"}, {"topic.creation.g.include", "a"}}, nullptr));
  CHECK(contains(missing, "topic.creation.default.partitions must be set"));
  CHECK(contains(missing, "topic.creation.default.replication.factor must be set"));
  CHECK_THROWS_AS(topic_creation_rules::from({{"topic.creation.default.partitions", "x"},
                                              {"topic.creation.default.replication.factor", "1"}},
                                             true),
                  ferry::api::config_error);
}
