#include <doctest/doctest.h>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "ferry/api/errors.hpp"
#include "ferry/clients/dev_broker.hpp"
#include "ferry/clients/kafka_log.hpp"
#include "ferry/clients/topic_admin.hpp"

using ferry::clients::dev_broker;
using ferry::clients::kafka_log;
using ferry::clients::kafka_log_options;
using ferry::clients::log_record;
using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

namespace {

// What a log's reader delivered, safe to read from the test thread.
struct record_sink {
  std::mutex mutex;
  std::vector<log_record> records;
  void add(const log_record& r) {
    std::lock_guard lock(mutex);
    records.push_back(r);
  }
  std::vector<log_record> snapshot() {
    std::lock_guard lock(mutex);
    return records;
  }
};

// Keeps librdkafka's complaints (expected when a broker is down) out of the test output.
struct warning_sink {
  std::mutex mutex;
  std::vector<std::string> lines;
  void add(const std::string& s) {
    std::lock_guard lock(mutex);
    lines.push_back(s);
  }
};

kafka_log_options log_options(const std::string& bootstrap, const std::string& topic,
                              record_sink& records, warning_sink& warnings) {
  kafka_log_options o;
  o.topic = topic;
  o.producer = {{"bootstrap.servers", bootstrap}};
  o.consumer = o.producer;
  o.on_record = [&records](const log_record& r) { records.add(r); };
  o.warn = [&warnings](const std::string& s) { warnings.add(s); };
  return o;
}

// One broker for the tests that leave it as it is, each on topics of its own: librdkafka 2.0.2's
// mock cluster sometimes takes a second to shut down (a lost wake-up of its thread).
dev_broker& shared_broker() {
  static dev_broker broker(ferry::clients::dev_broker_options{});
  return broker;
}

const std::string& create_topic(const std::string& name, int partitions) {
  REQUIRE(shared_broker().execute("create-topic " + name + " " + std::to_string(partitions)) ==
          "OK");
  return shared_broker().bootstrap_servers();
}

template <class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const ferry::api::connect_error& e) {
    return e.what();
  }
  return "";
}

long long ms_since(steady::time_point start) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(steady::now() - start).count();
}

// A loopback port nobody listens on (bound, then released).
int free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

// Java's org.apache.kafka.common.utils.Utils.murmur2, written out independently of librdkafka.
std::int32_t java_murmur2(const std::string& data) {
  const std::uint32_t m = 0x5bd1e995;
  const auto length = static_cast<std::uint32_t>(data.size());
  std::uint32_t h = 0x9747b28c ^ length;
  auto byte = [&](std::size_t i) {
    return static_cast<std::uint32_t>(static_cast<unsigned char>(data[i]));
  };
  for (std::size_t i = 0; i + 4 <= data.size(); i += 4) {
    std::uint32_t k = byte(i) | byte(i + 1) << 8 | byte(i + 2) << 16 | byte(i + 3) << 24;
    k *= m;
    k ^= k >> 24;
    k *= m;
    h *= m;
    h ^= k;
  }
  std::size_t tail = data.size() & ~std::size_t{3};
  switch (data.size() % 4) {
    case 3:
      h ^= byte(tail + 2) << 16;
      [[fallthrough]];
    case 2:
      h ^= byte(tail + 1) << 8;
      [[fallthrough]];
    case 1:
      h ^= byte(tail);
      h *= m;
  }
  h ^= h >> 13;
  h *= m;
  h ^= h >> 15;
  return static_cast<std::int32_t>(h);
}

int java_partition(const std::string& key, int partitions) {
  return static_cast<int>((static_cast<std::uint32_t>(java_murmur2(key)) & 0x7fffffffu) %
                          static_cast<std::uint32_t>(partitions));
}

}  // namespace

TEST_CASE("kafka_log: a second log replays keys, values and tombstones in order") {
  const auto& bootstrap = create_topic("replay", 1);
  record_sink first_records, second_records;
  warning_sink warnings;
  const std::string binary_key("k\0\xff", 3);

  kafka_log first(log_options(bootstrap, "replay", first_records, warnings));
  first.start(2s);
  CHECK(first.partitions() == 1);
  CHECK(first_records.snapshot().empty());
  first.send("connector-a", std::string(R"({"properties":{"name":"a"}})"), 2s);
  first.send("connector-b", std::string("b1"), 2s);
  first.send("connector-a", std::nullopt, 2s);  // tombstone
  first.send("empty", std::string(), 2s);       // an empty value is not a tombstone
  first.send(binary_key, std::string("bytes\0kept", 10), 2s);
  first.read_to_end(2s);
  CHECK(first_records.snapshot().size() == 5);

  kafka_log second(log_options(bootstrap, "replay", second_records, warnings));
  second.start(2s);  // returns with everything already delivered
  auto r = second_records.snapshot();
  REQUIRE(r.size() == 5);
  for (std::size_t i = 0; i < r.size(); ++i) {
    CHECK(r[i].offset == static_cast<std::int64_t>(i));
    CHECK(r[i].partition == 0);
    CHECK(r[i].timestamp_ms > 0);
  }
  CHECK(r[0].key == "connector-a");
  CHECK(r[0].value == std::optional<std::string>(R"({"properties":{"name":"a"}})"));
  CHECK(r[1].key == "connector-b");
  CHECK(r[1].value == std::optional<std::string>("b1"));
  CHECK(r[2].key == "connector-a");
  CHECK_FALSE(r[2].value.has_value());
  CHECK(r[3].key == "empty");
  REQUIRE(r[3].value.has_value());
  CHECK(r[3].value->empty());
  CHECK(r[4].key == binary_key);
  CHECK(r[4].value == std::optional<std::string>(std::string("bytes\0kept", 10)));
}

TEST_CASE("kafka_log: read_to_end sees records another log instance wrote") {
  const auto& bootstrap = create_topic("status", 1);
  record_sink writer_records, reader_records;
  warning_sink warnings;
  kafka_log writer(log_options(bootstrap, "status", writer_records, warnings));
  kafka_log reader(log_options(bootstrap, "status", reader_records, warnings));
  writer.start(2s);
  reader.start(2s);

  writer.send("status-connector-a", std::string(R"({"state":"RUNNING"})"), 2s);
  reader.read_to_end(2s);
  auto r = reader_records.snapshot();
  REQUIRE(r.size() == 1);
  CHECK(r[0].key == "status-connector-a");

  // send_async: `done` reports the acknowledgement; read_to_end then has the record.
  std::mutex mutex;
  std::condition_variable cv;
  std::optional<std::string> result;
  writer.send_async("status-task-a-0", std::string(R"({"state":"FAILED"})"),
                    [&](const std::string& error) {
                      std::lock_guard lock(mutex);
                      result = error;
                      cv.notify_all();
                    });
  {
    std::unique_lock lock(mutex);
    REQUIRE(cv.wait_for(lock, 2s, [&] { return result.has_value(); }));
  }
  CHECK(*result == "");
  reader.read_to_end(2s);
  r = reader_records.snapshot();
  REQUIRE(r.size() == 2);
  CHECK(r[1].key == "status-task-a-0");
  CHECK(r[1].offset == 1);
}

TEST_CASE("kafka_log: Java's partitioner on a multi-partition topic keeps each key in order") {
  // Kafka's own test vectors for Utils.murmur2 (clients UtilsTest.testMurmur2).
  CHECK(java_murmur2("21") == -973932308);
  CHECK(java_murmur2("foobar") == -790332482);
  CHECK(java_murmur2("a-little-bit-long-string") == -985981536);
  CHECK(java_murmur2("a-little-bit-longer-string") == -1486304829);
  CHECK(java_murmur2("lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8") == -58897971);
  CHECK(java_murmur2("abc") == 479470107);

  const auto& bootstrap = create_topic("offsets", 5);
  record_sink writer_records, reader_records;
  warning_sink warnings;
  kafka_log writer(log_options(bootstrap, "offsets", writer_records, warnings));
  writer.start(2s);
  CHECK(writer.partitions() == 5);

  std::vector<std::string> keys = {R"(["redis-source",{"stream":"orders"}])",
                                   R"(["redis-source",{"stream":"users"}])",
                                   R"(["other",{"stream":"orders"}])",
                                   "foobar",
                                   "21",
                                   "abc"};
  constexpr int rounds = 8;
  std::mutex mutex;
  std::condition_variable cv;
  int acked = 0;
  std::vector<std::string> errors;
  for (int round = 0; round < rounds; ++round) {
    for (const auto& key : keys) {
      writer.send_async(key, std::to_string(round), [&](const std::string& error) {
        std::lock_guard lock(mutex);
        ++acked;
        if (!error.empty()) errors.push_back(error);
        cv.notify_all();
      });
    }
  }
  {
    std::unique_lock lock(mutex);
    REQUIRE(cv.wait_for(lock, 3s, [&] { return acked == rounds * static_cast<int>(keys.size()); }));
    CHECK(errors.empty());
  }

  kafka_log reader(log_options(bootstrap, "offsets", reader_records, warnings));
  reader.start(2s);
  auto r = reader_records.snapshot();
  REQUIRE(r.size() == rounds * keys.size());
  std::map<std::string, std::vector<int>> values_by_key;
  std::map<int, std::int64_t> last_offset;
  for (const auto& rec : r) {
    CHECK(rec.partition == java_partition(rec.key, 5));
    values_by_key[rec.key].push_back(std::stoi(rec.value.value()));
    // Offset order within a partition.
    if (last_offset.count(rec.partition)) CHECK(rec.offset > last_offset[rec.partition]);
    last_offset[rec.partition] = rec.offset;
  }
  CHECK(last_offset.size() > 1);  // the keys really are spread over several partitions
  for (const auto& [key, values] : values_by_key) {
    INFO("key " << key);
    CHECK(values.size() == rounds);
    CHECK(std::is_sorted(values.begin(), values.end()));
  }
}

TEST_CASE("kafka_log: send and read_to_end fail clearly and quickly when the broker is down") {
  dev_broker broker(ferry::clients::dev_broker_options{1, {{"configs", 1}}});  // taken down
  record_sink records;
  warning_sink warnings;
  auto options = log_options(broker.bootstrap_servers(), "configs", records, warnings);
  options.stop_timeout = 100ms;
  kafka_log log(options);
  log.start(2s);
  log.send("before", std::string("1"), 2s);

  REQUIRE(broker.execute("broker-down 1") == "OK");
  auto start = steady::now();
  auto error = error_of([&] { log.send("during", std::string("2"), 300ms); });
  MESSAGE("send with the broker down: " << error);
  CHECK(error.find("Timed out after 300 ms waiting for Kafka to acknowledge") != std::string::npos);
  CHECK(error.find("'configs'") != std::string::npos);
  CHECK(ms_since(start) < 1500);

  start = steady::now();
  error = error_of([&] { log.read_to_end(300ms); });
  MESSAGE("read_to_end with the broker down: " << error);
  CHECK(!error.empty());
  CHECK(ms_since(start) < 1500);

  // A record never acknowledged still gets its answer when the log stops.
  std::string async_error;
  bool called = false;
  log.send_async("lost", std::string("3"), [&](const std::string& e) {
    async_error = e;
    called = true;
  });
  start = steady::now();
  log.stop();
  MESSAGE("stop with the broker down took " << ms_since(start) << " ms");
  CHECK(ms_since(start) < 2000);
  CHECK(called);
  CHECK(async_error.find("stopped before Kafka acknowledged") != std::string::npos);
  CHECK(error_of([&] { log.send("after", std::string("4"), 100ms); }).find("not running") !=
        std::string::npos);
}

TEST_CASE("kafka_log: start times out on an unreachable cluster") {
  record_sink records;
  warning_sink warnings;
  kafka_log log(
      log_options("127.0.0.1:" + std::to_string(free_port()), "configs", records, warnings));
  auto start = steady::now();
  auto error = error_of([&] { log.start(500ms); });
  MESSAGE("start against nothing: " << error);
  CHECK(error.find("Cannot start the log of topic 'configs'") != std::string::npos);
  CHECK(ms_since(start) < 1500);
  CHECK(log.partitions() == 0);
}

TEST_CASE("kafka_log: start refuses a missing topic and does not create it") {
  const auto& bootstrap = shared_broker().bootstrap_servers();
  record_sink records;
  warning_sink warnings;
  kafka_log log(log_options(bootstrap, "missing", records, warnings));
  auto start = steady::now();
  auto error = error_of([&] { log.start(300ms); });
  CHECK(error.find("does not exist") != std::string::npos);
  CHECK(ms_since(start) < 1500);
  ferry::clients::client_config admin = {{"bootstrap.servers", bootstrap}};
  CHECK_FALSE(ferry::clients::describe_topic(admin, "missing", 1s).exists);
}

TEST_CASE("kafka_log: read_to_end from on_record is refused instead of deadlocking") {
  const auto& bootstrap = create_topic("reentrant", 1);
  warning_sink warnings;
  record_sink unused;
  kafka_log* self = nullptr;
  std::string inner_error;
  auto options = log_options(bootstrap, "reentrant", unused, warnings);
  options.on_record = [&](const log_record&) {
    inner_error = error_of([&] { self->read_to_end(1s); });
  };
  kafka_log log(options);
  self = &log;
  log.start(2s);
  log.send("k", std::string("v"), 2s);
  log.read_to_end(2s);
  CHECK(inner_error.find("would wait for itself") != std::string::npos);
}

TEST_CASE("kafka_log: send + read_to_end round trip latency") {
  const auto& bootstrap = create_topic("latency", 1);
  record_sink writer_records, reader_records;
  warning_sink warnings;
  kafka_log writer(log_options(bootstrap, "latency", writer_records, warnings));
  kafka_log reader(log_options(bootstrap, "latency", reader_records, warnings));
  writer.start(2s);
  reader.start(2s);

  constexpr int rounds = 50;
  std::vector<double> own, other, send_only;
  for (int i = 0; i < rounds; ++i) {
    auto t0 = steady::now();
    writer.send("connector-" + std::to_string(i), std::string(200, 'x'), 2s);
    auto t1 = steady::now();
    writer.read_to_end(2s);  // the write path of a REST request: write, then read it back
    auto t2 = steady::now();
    reader.read_to_end(2s);  // another worker catching up
    auto t3 = steady::now();
    send_only.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
    own.push_back(std::chrono::duration<double, std::milli>(t2 - t0).count());
    other.push_back(std::chrono::duration<double, std::milli>(t3 - t0).count());
  }
  auto median = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
  };
  auto p90 = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() * 9 / 10];
  };
  MESSAGE("send alone: median " << median(send_only) << " ms, p90 " << p90(send_only) << " ms");
  MESSAGE("send + read_to_end (same log): median " << median(own) << " ms, p90 " << p90(own)
                                                   << " ms");
  MESSAGE("send + read_to_end on another log instance: median " << median(other) << " ms, p90 "
                                                                << p90(other) << " ms");
  CHECK(reader_records.snapshot().size() == rounds);
  // Generous: the suite also runs under ASan on small machines.
  CHECK(median(own) < 200);
}
