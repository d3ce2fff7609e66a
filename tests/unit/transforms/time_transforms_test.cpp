#include <doctest/doctest.h>

#include "transform_test_util.hpp"

using namespace transforms_test;
using ferry::api::data_error;

namespace {

json logical(const std::string& type, const std::string& name, bool optional = false) {
  return json{{"type", type},
              {"optional", optional},
              {"name", "org.apache.kafka.connect.data." + name},
              {"version", 1}};
}

constexpr std::int64_t ts = 1'700'000'000'123;  // 2023-11-14T22:13:20.123Z

}  // namespace

TEST_SUITE("transforms") {
  TEST_CASE("TimestampConverter$Value schemaless: unix to string and back") {
    auto to_string = single(
        pkg + "TimestampConverter$Value",
        {{"field", "at"}, {"target.type", "string"}, {"format", "yyyy-MM-dd'T'HH:mm:ss.SSSZ"}});
    auto out = run(to_string, schemaless(json{{"at", ts}, {"x", 1}}));
    CHECK(out.value == json{{"at", "2023-11-14T22:13:20.123+0000"}, {"x", 1}});

    auto to_unix = single(pkg + "TimestampConverter$Value", {{"field", "at"},
                                                             {"target.type", "unix"},
                                                             {"format", "yyyy-MM-dd HH:mm"},
                                                             {"unix.precision", "seconds"}});
    CHECK(run(to_unix, schemaless(json{{"at", "2023-11-14 22:13"}})).value["at"] == 1'699'999'980);
    CHECK_THROWS_WITH_AS(to_unix.apply(schemaless(json{{"at", "Nov 14"}})),
                         "Could not parse timestamp: value (Nov 14) does not match pattern "
                         "(yyyy-MM-dd HH:mm)",
                         data_error);
    CHECK(run(to_unix, schemaless(json{{"x", 1}})).value["at"].is_null());
  }

  TEST_CASE("TimestampConverter whole value, precision, Date and Time") {
    auto micros = single(pkg + "TimestampConverter$Key",
                         {{"target.type", "unix"}, {"unix.precision", "microseconds"}});
    // Read as microseconds, kept as milliseconds: sub-millisecond digits are lost, as in Kafka.
    CHECK(run(micros, schemaless(json(1), json(ts))).key == ts / 1000 * 1000);
    auto date = single(pkg + "TimestampConverter$Value", {{"target.type", "Date"}});
    CHECK(run(date, schemaless(json(ts))).value == 1'699'920'000'000);  // midnight, epoch ms
    auto time = single(pkg + "TimestampConverter$Value", {{"target.type", "Time"}});
    CHECK(run(time, schemaless(json(ts))).value == 80'000'123);
    CHECK(run(time, schemaless(nullptr)).value.is_null());
    CHECK_THROWS_WITH_AS(time.apply(schemaless(json(1.5))),
                         "TimestampConverter does not support java.lang.Double objects as "
                         "timestamps",
                         data_error);
  }

  TEST_CASE("TimestampConverter$Value with a schema uses Connect's logical types") {
    auto chain =
        single(pkg + "TimestampConverter$Value", {{"field", "at"}, {"target.type", "Timestamp"}});
    auto s = struct_schema(json::array({field("at", "int64", true), field("x", "int32")}));
    auto out = run(chain, with_schema(s, json{{"at", ts}, {"x", 1}}));
    CHECK(out.value == json{{"at", ts}, {"x", 1}});
    auto at = *find_field(*out.value_schema, "at");
    CHECK(at["name"] == "org.apache.kafka.connect.data.Timestamp");
    CHECK(at["optional"] == true);
    CHECK(at["type"] == "int64");

    // Timestamp field -> Date (days) -> string, with the whole value.
    auto to_date = single(pkg + "TimestampConverter$Value", {{"target.type", "Date"}});
    auto r = schemaless(json(ts));
    r.value_schema = schema(logical("int64", "Timestamp"));
    auto d = run(to_date, r);
    CHECK(d.value == 19675);
    CHECK(*d.value_schema == logical("int32", "Date"));

    auto to_string = single(pkg + "TimestampConverter$Value",
                            {{"target.type", "string"}, {"format", "dd MMM yyyy"}});
    auto ds = run(to_string, d);
    CHECK(ds.value == "14 Nov 2023");
    CHECK(*ds.value_schema == json{{"type", "string"}, {"optional", false}});

    auto bad = schemaless(json(true));
    bad.value_schema = schema(json{{"type", "boolean"}, {"optional", false}});
    CHECK_THROWS_AS(to_date.apply(bad), ferry::api::connect_error);
  }

  TEST_CASE("TimestampConverter config errors") {
    CHECK(contains(config_error_of(pkg + "TimestampConverter$Value", {{"target.type", "string"}}),
                   "TimestampConverter requires format option to be specified when using string "
                   "timestamps"));
    CHECK(contains(config_error_of(pkg + "TimestampConverter$Value", {{"target.type", "date"}}),
                   "Invalid value date for configuration transforms.t.target.type"));
    CHECK(contains(config_error_of(pkg + "TimestampConverter$Value",
                                   {{"target.type", "string"}, {"format", "yyyy-qq"}}),
                   "Illegal pattern character 'q'"));
    CHECK(contains(config_error_of(pkg + "TimestampConverter$Value",
                                   {{"target.type", "unix"}, {"unix.precision", "hours"}}),
                   "transforms.t.unix.precision"));
    CHECK(contains(config_error_of(pkg + "TimestampConverter$Value"), "transforms.t.target.type"));
  }

  TEST_CASE("TimestampConverter reads and writes SimpleDateFormat patterns in UTC") {
    auto convert = [](const std::string& from_format, const std::string& text) {
      auto chain = single(pkg + "TimestampConverter$Value",
                          {{"target.type", "unix"}, {"format", from_format}});
      return run(chain, schemaless(json(text))).value.get<std::int64_t>();
    };
    auto print = [](const std::string& format, std::int64_t ms) {
      auto chain =
          single(pkg + "TimestampConverter$Value", {{"target.type", "string"}, {"format", format}});
      return run(chain, schemaless(json(ms))).value.get<std::string>();
    };
    CHECK(convert("yyyyMMddHHmmss", "20231114221320") == ts - 123);
    CHECK(convert("yyyy-MM-dd'T'HH:mm:ss.SSSXXX", "2023-11-14T23:13:20.123+01:00") == ts);
    CHECK(convert("yyyy-MM-dd'T'HH:mm:ss.SSSX", "2023-11-14T22:13:20.123Z") == ts);
    CHECK(convert("EEE, dd MMM yyyy hh:mm:ss a z", "Tue, 14 Nov 2023 10:13:20 PM UTC") == ts - 123);
    CHECK(convert("dd/MM/yy", "14/11/23") == 1'699'920'000'000);
    CHECK(convert("yyyy-MM-dd", "1969-12-31") == -86'400'000);
    // Like SimpleDateFormat.parse, trailing text after the pattern is ignored.
    CHECK(convert("yyyy-MM-dd", "2023-11-14 and more") == 1'699'920'000'000);

    CHECK(print("EEEE d MMMM yyyy, h:mm a", ts) == "Tuesday 14 November 2023, 10:13 PM");
    CHECK(print("yyyy-MM-dd'T'HH:mm:ss.SSSZ", -1) == "1969-12-31T23:59:59.999+0000");
    CHECK(print("D 'day' ''yy", ts) == "318 day '23");
  }

  TEST_CASE("TimestampRouter names the topic after the record timestamp") {
    auto chain = single(pkg + "TimestampRouter");
    CHECK(run(chain, schemaless(json(1))).topic == "orders-20231114");
    auto custom = single(pkg + "TimestampRouter", {{"topic.format", "${timestamp}/${topic}/x"},
                                                   {"timestamp.format", "yyyy-MM-dd_HH"}});
    CHECK(run(custom, schemaless(json(1))).topic == "2023-11-14_22/orders/x");
    auto r = schemaless(json(1));
    r.timestamp_ms.reset();
    CHECK_THROWS_AS(chain.apply(r), data_error);
    CHECK(contains(config_error_of(pkg + "TimestampRouter", {{"timestamp.format", "'open"}}),
                   "transforms.t.timestamp.format"));
  }

}  // TEST_SUITE
