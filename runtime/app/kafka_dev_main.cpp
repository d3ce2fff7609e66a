// ferry-kafka-dev: librdkafka's mock Kafka cluster as a standalone process, for tests,
// benchmarks and demos. Prints where it listens, then serves until SIGTERM or SIGINT.

#include <algorithm>
#include <charconv>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <optional>
#include <string>
#include <string_view>

#include <pthread.h>

#include "ferry/clients/dev_broker.hpp"
#include "stop_signals.hpp"

namespace {

constexpr int exit_ok = 0;
constexpr int exit_failure = 1;
constexpr int exit_usage = 2;

constexpr std::string_view usage_text = R"(NAME
    ferry-kafka-dev - development Kafka broker (librdkafka mock cluster)

SYNOPSIS
    ferry-kafka-dev [--brokers N] [--topic NAME:PARTITIONS]... [--control-port PORT]
    ferry-kafka-dev --help

DESCRIPTION
    Runs an in-memory Kafka cluster that speaks the real Kafka wire protocol on loopback TCP
    listeners, so any Kafka client (kcat, librdkafka, Python, Java) can produce, consume, join
    consumer groups, commit offsets and use idempotent or transactional producers against it.
    It is librdkafka's mock cluster, meant for tests, benchmarks and demos: never for data you
    want to keep.

    Standard output carries exactly two lines, each flushed as soon as it is known:
        127.0.0.1:PORT[,127.0.0.1:PORT...]     the bootstrap servers
        control=127.0.0.1:PORT                 the control (fault injection) endpoint
    The process then runs until it receives SIGTERM or SIGINT.

OPTIONS
    --brokers N
        Number of brokers, 1..64 (default 1). Broker ids are 1..N.
    --topic NAME:PARTITIONS
        Create topic NAME with PARTITIONS partitions at start. Repeatable.
    --control-port PORT
        TCP port of the control endpoint on 127.0.0.1 (default 0: any free port).
    -h, --help
        Print this text and exit.

CONTROL COMMANDS
    Connect to the control endpoint (e.g. `nc 127.0.0.1 PORT`) and send one command per line;
    each command gets exactly one response line, "OK[ detail]" or "ERR message". Any number
    of clients may be connected. ID is a broker id 1..N, or -1 for every broker.
    ping                                   liveness check
    create-topic NAME PARTITIONS [RF]      create a topic (RF defaults to 1, capped at N)
    broker-down ID                         close the broker's connections and refuse new ones
                                           (its partitions keep their leader)
    broker-up ID                           accept connections again
    rtt ID MS                              delay every response of the broker by MS ms
    request-errors API_KEY ERR[,ERR...]    fail the next requests of that API, one error each,
                                           in order. API_KEY: a number or a name such as
                                           Produce, Fetch, Metadata, OffsetCommit, JoinGroup.
                                           ERR: a Kafka error code or a librdkafka error name
                                           such as NOT_LEADER_FOR_PARTITION; _TRANSPORT
                                           disconnects the client instead
    clear-errors API_KEY                   drop the queued errors of that API
    topic-error TOPIC ERR                  report ERR for TOPIC in Metadata responses
                                           (NO_ERROR clears it)
    leader TOPIC PARTITION BROKER_ID       move the partition's leader (-1: no leader)
    help                                   list the commands

LIMITS
    Memory only: everything is lost when the process exits.
    Each partition keeps only about the last 5 MB or 100000 message sets and silently drops
    older data; keep test partitions below that or consume concurrently.
    No CreateTopics, DeleteTopics or DescribeConfigs: topics are auto-created with 4
    partitions on first use, or created with --topic or create-topic. An Admin client's
    CreateTopics times out ("waiting for controller") instead of failing fast. topic-error and
    leader also create a topic they do not know (leader with PARTITION+1 partitions).
    The replication factor is not honoured: every partition gets min(3, N) replicas.
    No log compaction, no retention by time, no ACLs, no SASL or TLS.

EXIT STATUS
    0   stopped by SIGTERM or SIGINT
    1   the broker could not start (e.g. the control port is in use)
    2   bad command line arguments
)";

struct usage_error {
  std::string message;
};

template <class Int>
std::optional<Int> parse_int(std::string_view s) {
  Int v{};
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc{} || p != s.data() + s.size()) return std::nullopt;
  return v;
}

// Mirrors Kafka's topic name rule (and the broker's own check) so a typo is a usage error (exit 2)
// rather than a start-up failure (exit 1).
bool valid_topic_name(std::string_view name) {
  if (name.empty() || name.size() > 249 || name == "." || name == "..") return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-';
  });
}

struct options {
  ferry::clients::dev_broker_options broker;
  std::uint16_t control_port = 0;
  bool help = false;
};

options parse_args(int argc, char** argv) {
  options opts;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    std::string_view value;
    bool has_value = false;
    // Both "--opt value" and "--opt=value".
    if (auto eq = arg.find('='); arg.starts_with("--") && eq != std::string_view::npos) {
      value = arg.substr(eq + 1);
      arg = arg.substr(0, eq);
      has_value = true;
    }
    auto take_value = [&]() -> std::string_view {
      if (has_value) return value;
      if (i + 1 >= argc) throw usage_error{std::string(arg) + " needs a value"};
      return argv[++i];
    };

    if (arg == "--help" || arg == "-h") {
      opts.help = true;
    } else if (arg == "--brokers") {
      auto v = take_value();
      auto n = parse_int<int>(v);
      if (!n || *n < 1 || *n > 64) {
        throw usage_error{"--brokers must be a number 1..64, got '" + std::string(v) + "'"};
      }
      opts.broker.brokers = *n;
    } else if (arg == "--topic") {
      auto v = take_value();
      auto colon = v.rfind(':');
      auto partitions =
          colon == std::string_view::npos ? std::nullopt : parse_int<int>(v.substr(colon + 1));
      if (!partitions || *partitions < 1 || *partitions > 10000) {
        throw usage_error{"--topic must be NAME:PARTITIONS with PARTITIONS 1..10000, got '" +
                          std::string(v) + "'"};
      }
      auto name = v.substr(0, colon);
      if (!valid_topic_name(name)) {
        throw usage_error{"--topic: invalid topic name '" + std::string(name) +
                          "' (1..249 of ASCII letters, digits, '.', '_', '-')"};
      }
      for (const auto& topic : opts.broker.topics) {
        if (topic.first == name) throw usage_error{"--topic " + std::string(name) + " given twice"};
      }
      opts.broker.topics.emplace_back(std::string(name), *partitions);
    } else if (arg == "--control-port") {
      auto v = take_value();
      auto port = parse_int<std::uint16_t>(v);
      if (!port) throw usage_error{"--control-port must be 0..65535, got '" + std::string(v) + "'"};
      opts.control_port = *port;
    } else {
      throw usage_error{"unknown argument '" + std::string(argv[i]) + "'"};
    }
  }
  return opts;
}

}  // namespace

int main(int argc, char** argv) {
  options opts;
  try {
    opts = parse_args(argc, argv);
  } catch (const usage_error& e) {
    std::fprintf(stderr, "ferry-kafka-dev: %s\nTry 'ferry-kafka-dev --help'.\n", e.message.c_str());
    return exit_usage;
  }
  if (opts.help) {
    std::fwrite(usage_text.data(), 1, usage_text.size(), stdout);
    return exit_ok;
  }

  // Before any thread exists, so librdkafka's and the control threads inherit the mask.
  const sigset_t stop_signals = ferry::app::block_stop_signals();

  try {
    ferry::clients::dev_broker broker(opts.broker);
    std::uint16_t control_port = broker.serve_control(opts.control_port);

    // Tests wait for these lines; flush each so a reader never blocks on our buffer.
    std::printf("%s\n", broker.bootstrap_servers().c_str());
    std::fflush(stdout);
    std::printf("control=127.0.0.1:%u\n", static_cast<unsigned>(control_port));
    std::fflush(stdout);
    std::fprintf(stderr, "ferry-kafka-dev: %d broker(s) at %s, control at 127.0.0.1:%u\n",
                 opts.broker.brokers, broker.bootstrap_servers().c_str(),
                 static_cast<unsigned>(control_port));

    ferry::app::wait_for_stop_signal(stop_signals);
    // The broker is destroyed here, before main returns: threads joined, listeners closed.
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ferry-kafka-dev: %s\n", e.what());
    return exit_failure;
  }
  return exit_ok;
}
