#include <doctest/doctest.h>

#include "transform_test_util.hpp"

using namespace transforms_test;

namespace {

// A chain that inserts header "hit" when predicate `cls` with `settings` matches.
transform_chain marked_when(const std::string& cls, const config_map& settings = {},
                            bool negate = false) {
  config_map c{{"transforms", "mark"},
               {"transforms.mark.type", pkg + "InsertHeader"},
               {"transforms.mark.header", "hit"},
               {"transforms.mark.value.literal", "1"},
               {"transforms.mark.predicate", "p"},
               {"transforms.mark.negate", negate ? "true" : "false"},
               {"predicates", "p"},
               {"predicates.p.type", pkg + "predicates." + cls}};
  for (const auto& [k, v] : settings) c["predicates.p." + k] = v;
  return transform_chain::from_config(c);
}

bool hit(transform_chain& chain, connect_record r) {
  return !run(chain, r).headers.empty();
}

std::string predicate_error(const std::string& cls, const config_map& settings = {}) {
  try {
    marked_when(cls, settings);
  } catch (const ferry::api::config_error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_SUITE("transforms") {
  TEST_CASE("TopicNameMatches matches the whole topic name") {
    auto chain = marked_when("TopicNameMatches", {{"pattern", "ord.*"}});
    CHECK(hit(chain, schemaless(json(1))));
    auto other = schemaless(json(1));
    other.topic = "my-orders";
    CHECK_FALSE(hit(chain, other));
    auto negated = marked_when("TopicNameMatches", {{"pattern", "ord.*"}}, true);
    CHECK(hit(negated, other));
    CHECK(contains(predicate_error("TopicNameMatches"),
                   "Missing required configuration \"predicates.p.pattern\""));
    CHECK(contains(predicate_error("TopicNameMatches", {{"pattern", "[x"}}),
                   "predicates.p.pattern: Invalid regex"));
  }

  TEST_CASE("HasHeaderKey is true when any header has the name") {
    auto chain = marked_when("HasHeaderKey", {{"name", "trace"}});
    auto r = schemaless(json(1));
    CHECK_FALSE(hit(chain, r));
    r.headers = {{"other", "x"}, {"trace", std::nullopt}};
    CHECK(hit(chain, r));
    CHECK(contains(predicate_error("HasHeaderKey", {{"name", ""}}),
                   "predicates.p.name: String must be non-empty"));
  }

  TEST_CASE("RecordIsTombstone is true for a null value") {
    auto chain = marked_when("RecordIsTombstone");
    CHECK(hit(chain, schemaless(nullptr, json("key"))));
    CHECK_FALSE(hit(chain, schemaless(json(0))));
    CHECK_FALSE(hit(chain, schemaless(json(""))));
  }

}  // TEST_SUITE
