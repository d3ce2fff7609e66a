#include "ferry/clients/dev_broker.hpp"

// rdkafka_mock.h refuses to be included before rdkafka.h.
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <syslog.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string_view>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

namespace ferry::clients {

namespace {

// Bounds that keep one careless command or client from exhausting the process.
constexpr int max_brokers = 64;
constexpr int max_partitions = 10000;
constexpr std::size_t max_errors_per_push = 1000;
constexpr std::size_t max_line_bytes = 4096;
constexpr std::size_t max_clients_per_listener = 128;
// Past this much unsent output, stop reading from a client that sends but never reads.
constexpr std::size_t max_pending_output = std::size_t{64} * 1024;
// See dev_broker::impl::call_mock_op.
constexpr std::chrono::microseconds mock_settle_time{200};

// Kafka protocol API keys, indexed by key. Names follow the Kafka protocol guide.
// clang-format off
constexpr std::array<std::string_view, 68> kafka_api_names = {
    "Produce", "Fetch", "ListOffsets", "Metadata", "LeaderAndIsr", "StopReplica", "UpdateMetadata",
    "ControlledShutdown", "OffsetCommit", "OffsetFetch", "FindCoordinator", "JoinGroup",
    "Heartbeat", "LeaveGroup", "SyncGroup", "DescribeGroups", "ListGroups", "SaslHandshake",
    "ApiVersions", "CreateTopics", "DeleteTopics", "DeleteRecords", "InitProducerId",
    "OffsetForLeaderEpoch", "AddPartitionsToTxn", "AddOffsetsToTxn", "EndTxn", "WriteTxnMarkers",
    "TxnOffsetCommit", "DescribeAcls", "CreateAcls", "DeleteAcls", "DescribeConfigs",
    "AlterConfigs", "AlterReplicaLogDirs", "DescribeLogDirs", "SaslAuthenticate",
    "CreatePartitions", "CreateDelegationToken", "RenewDelegationToken", "ExpireDelegationToken",
    "DescribeDelegationToken", "DeleteGroups", "ElectLeaders", "IncrementalAlterConfigs",
    "AlterPartitionReassignments", "ListPartitionReassignments", "OffsetDelete",
    "DescribeClientQuotas", "AlterClientQuotas", "DescribeUserScramCredentials",
    "AlterUserScramCredentials", "Vote", "BeginQuorumEpoch", "EndQuorumEpoch", "DescribeQuorum",
    "AlterPartition", "UpdateFeatures", "Envelope", "FetchSnapshot", "DescribeCluster",
    "DescribeProducers", "BrokerRegistration", "BrokerHeartbeat", "UnregisterBroker",
    "DescribeTransactions", "ListTransactions", "AllocateProducerIds"};
// clang-format on

// Older names still found in librdkafka logs and Kafka docs.
struct api_alias {
  std::string_view name;
  std::int16_t key;
};
constexpr std::array<api_alias, 5> kafka_api_aliases = {{{"ApiVersion", 18},
                                                         {"Offsets", 2},
                                                         {"GroupCoordinator", 10},
                                                         {"AlterIsr", 56},
                                                         {"ElectPreferredLeaders", 43}}};

// librdkafka 2.0.2 knows only the older spellings; accept the ones current Kafka prints too.
struct error_alias {
  std::string_view name;
  rd_kafka_resp_err_t err;
};
constexpr std::array<error_alias, 2> error_aliases = {
    {{"NOT_LEADER_OR_FOLLOWER", RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION},
     {"UNKNOWN_TOPIC_OR_PARTITION", RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART}}};

constexpr std::string_view help_text =
    "OK commands: ping | create-topic NAME PARTITIONS [RF] | broker-down ID | broker-up ID | "
    "rtt ID MS | request-errors API_KEY ERR[,ERR...] | clear-errors API_KEY | "
    "topic-error TOPIC ERR | leader TOPIC PARTITION BROKER_ID | help";

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    auto lower = [](char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; };
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

std::vector<std::string_view> split(std::string_view s, std::string_view separators) {
  std::vector<std::string_view> parts;
  std::size_t pos = 0;
  while (pos < s.size()) {
    auto start = s.find_first_not_of(separators, pos);
    if (start == std::string_view::npos) break;
    auto end = s.find_first_of(separators, start);
    if (end == std::string_view::npos) end = s.size();
    parts.push_back(s.substr(start, end - start));
    pos = end;
  }
  return parts;
}

// Whole-token decimal parse: "5x", "+5", "" and out-of-range values are all rejected.
template <class Int>
std::optional<Int> parse_int(std::string_view s) {
  Int v{};
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc{} || p != s.data() + s.size()) return std::nullopt;
  return v;
}

std::optional<std::int16_t> parse_api_key(std::string_view s) {
  if (auto n = parse_int<int>(s)) {
    if (*n < 0 || *n >= static_cast<int>(kafka_api_names.size())) return std::nullopt;
    return static_cast<std::int16_t>(*n);
  }
  if (s.ends_with("Request")) s.remove_suffix(7);
  for (std::size_t i = 0; i < kafka_api_names.size(); ++i) {
    if (iequals(s, kafka_api_names[i])) return static_cast<std::int16_t>(i);
  }
  for (const auto& alias : kafka_api_aliases) {
    if (iequals(s, alias.name)) return alias.key;
  }
  return std::nullopt;
}

std::string api_display(std::int16_t key) {
  return std::string(kafka_api_names[static_cast<std::size_t>(key)]) + " (" + std::to_string(key) +
         ")";
}

// Accepts a numeric code or a name from librdkafka's own error table, so the set of names is
// exactly what this librdkafka knows, without a copy that could drift.
std::optional<rd_kafka_resp_err_t> parse_error(std::string_view s) {
  const rd_kafka_err_desc* descs = nullptr;
  std::size_t count = 0;
  rd_kafka_get_err_descs(&descs, &count);
  if (auto n = parse_int<int>(s)) {
    for (std::size_t i = 0; i < count; ++i) {
      if (descs[i].name != nullptr && descs[i].code == *n) return descs[i].code;
    }
    return std::nullopt;
  }
  constexpr std::string_view prefix = "RD_KAFKA_RESP_ERR_";
  if (s.size() > prefix.size() && iequals(s.substr(0, prefix.size()), prefix)) {
    s.remove_prefix(prefix.size());
  }
  for (std::size_t i = 0; i < count; ++i) {
    if (descs[i].name != nullptr && iequals(s, descs[i].name)) return descs[i].code;
  }
  for (const auto& alias : error_aliases) {
    if (iequals(s, alias.name)) return alias.err;
  }
  return std::nullopt;
}

// Kafka's own rule; the mock accepts anything, but a real cluster would not.
std::string topic_name_problem(std::string_view name) {
  if (name.empty()) return "topic name is empty";
  if (name.size() > 249) return "topic name is longer than 249 characters";
  if (name == "." || name == "..") return "topic name cannot be '.' or '..'";
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-';
    if (!ok) return "topic name may contain only ASCII letters, digits, '.', '_' and '-'";
  }
  return {};
}

// A response is one line: never let echoed input or a library message break the framing.
std::string one_line(std::string s) {
  for (char& c : s) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
  }
  return s;
}

std::string err(std::string_view message) {
  return one_line("ERR " + std::string(message));
}

std::string quoted(std::string_view s) {
  return "'" + std::string(s) + "'";
}

// librdkafka's informational chatter (and the hosting handle's complaint that it has no
// bootstrap.servers, which is intended) would drown the dev broker's quiet stderr.
void log_cb(const rd_kafka_t*, int level, const char* facility, const char* message) {
  if (level <= LOG_WARNING)
    std::fprintf(stderr, "dev_broker: librdkafka %s: %s\n", facility, message);
}

class unique_fd {
 public:
  unique_fd() = default;
  explicit unique_fd(int fd) : fd_(fd) {}
  unique_fd(unique_fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  unique_fd& operator=(unique_fd&& other) noexcept {
    if (this != &other) {
      reset();
      fd_ = std::exchange(other.fd_, -1);
    }
    return *this;
  }
  unique_fd(const unique_fd&) = delete;
  unique_fd& operator=(const unique_fd&) = delete;
  ~unique_fd() { reset(); }
  int get() const { return fd_; }
  void reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_ = -1;
};

std::system_error sys_error(const std::string& what) {
  return std::system_error(errno, std::generic_category(), what);
}

}  // namespace

// Owns the hosting rd_kafka_t, the mock cluster on it, and the control listener threads.
// The mock calls are serialized by mock_mutex_; the control threads only call execute().
// Destruction order matters: control threads first (they use the cluster), then the cluster,
// then the handle that hosts it.
struct dev_broker::impl {
  explicit impl(const dev_broker_options& options);
  ~impl();
  impl(const impl&) = delete;
  impl& operator=(const impl&) = delete;

  std::string execute(std::string_view line);  // never throws: errors become "ERR ..."
  std::string run(std::string_view line);
  std::uint16_t serve_control(std::uint16_t port);

  template <class Call>
  rd_kafka_resp_err_t call_mock_op(Call&& call);
  std::string create_topic(std::string_view name, int partitions, int replication_factor);
  std::string broker_id_problem(std::string_view token, std::int32_t& id) const;
  void serve(unique_fd listener);

  std::mutex mock_mutex_;
  rd_kafka_t* rk_ = nullptr;
  rd_kafka_mock_cluster_t* cluster_ = nullptr;
  int broker_count_ = 0;
  std::string bootstrap_;

  // Written once at destruction and never read, so it stays readable for every control thread.
  unique_fd stop_read_;
  unique_fd stop_write_;
  std::mutex threads_mutex_;
  std::vector<std::thread> control_threads_;
};

dev_broker::impl::impl(const dev_broker_options& options) : broker_count_(options.brokers) {
  if (options.brokers < 1 || options.brokers > max_brokers) {
    throw std::runtime_error("dev broker: broker count must be 1.." + std::to_string(max_brokers) +
                             ", got " + std::to_string(options.brokers));
  }
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) throw sys_error("dev broker: pipe2");
  stop_read_ = unique_fd(pipe_fds[0]);
  stop_write_ = unique_fd(pipe_fds[1]);

  char errstr[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  rd_kafka_conf_set_log_cb(conf, log_cb);
  if (rd_kafka_conf_set(conf, "client.id", "ferry-dev-broker", errstr, sizeof errstr) !=
      RD_KAFKA_CONF_OK) {
    rd_kafka_conf_destroy(conf);
    throw std::runtime_error(std::string("dev broker: ") + errstr);
  }
  // rd_kafka_new takes ownership of conf only on success.
  rk_ = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
  if (rk_ == nullptr) {
    rd_kafka_conf_destroy(conf);
    throw std::runtime_error(std::string("dev broker: cannot create librdkafka handle: ") + errstr);
  }
  cluster_ = rd_kafka_mock_cluster_new(rk_, options.brokers);
  if (cluster_ == nullptr) {
    rd_kafka_destroy(rk_);
    throw std::runtime_error("dev broker: cannot create the librdkafka mock cluster");
  }
  bootstrap_ = rd_kafka_mock_cluster_bootstraps(cluster_);

  // The destructor does not run for a constructor that throws, so undo by hand.
  try {
    for (const auto& [name, partitions] : options.topics) {
      std::string result = create_topic(name, partitions, 1);
      if (!result.starts_with("OK")) {
        throw std::runtime_error("dev broker: topic " + quoted(name) + ": " + result.substr(4));
      }
    }
  } catch (...) {
    rd_kafka_mock_cluster_destroy(cluster_);
    rd_kafka_destroy(rk_);
    throw;
  }
}

dev_broker::impl::~impl() {
  {
    std::lock_guard lock(threads_mutex_);
    char byte = 1;
    // A failed write cannot be handled here; the threads would then hang in poll, so retry EINTR.
    while (::write(stop_write_.get(), &byte, 1) < 0 && errno == EINTR) {
    }
    for (auto& t : control_threads_) t.join();
  }
  std::lock_guard lock(mock_mutex_);
  rd_kafka_mock_cluster_destroy(cluster_);
  rd_kafka_destroy(rk_);
}

// Serializes the mock API calls that go through the mock thread's op queue. librdkafka 2.0.2's
// mock loop serves that queue before it drains its wake-up pipe, so an op enqueued in between
// loses its wake-up and waits for the loop's 1 s poll timeout. Concurrent callers hit this often
// (4 threads on 2 cores: p99 2 s); holding the lock a moment after each call lets the mock thread
// drain the pipe before the next op is enqueued (same test: p99 under 40 ms). Not needed for the
// request-error calls, which take the cluster lock directly instead of an op.
template <class Call>
rd_kafka_resp_err_t dev_broker::impl::call_mock_op(Call&& call) {
  std::lock_guard lock(mock_mutex_);
  rd_kafka_resp_err_t e = call();
  std::this_thread::sleep_for(mock_settle_time);
  return e;
}

std::string dev_broker::impl::create_topic(std::string_view name, int partitions,
                                           int replication_factor) {
  if (auto problem = topic_name_problem(name); !problem.empty()) return err(problem);
  if (partitions < 1 || partitions > max_partitions) {
    return err("partitions must be 1.." + std::to_string(max_partitions));
  }
  if (replication_factor < 1) return err("replication factor must be at least 1");
  replication_factor = std::min(replication_factor, broker_count_);
  std::string topic(name);
  auto e = call_mock_op([&] {
    return rd_kafka_mock_topic_create(cluster_, topic.c_str(), partitions, replication_factor);
  });
  if (e == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS)
    return err("topic " + quoted(name) + " already exists");
  if (e != RD_KAFKA_RESP_ERR_NO_ERROR) return err(rd_kafka_err2str(e));
  return "OK";
}

// Broker ids are 1..N as numbered by the mock; -1 addresses every broker (or "no leader").
std::string dev_broker::impl::broker_id_problem(std::string_view token, std::int32_t& id) const {
  auto n = parse_int<std::int32_t>(token);
  if (!n || (*n != -1 && (*n < 1 || *n > broker_count_))) {
    return "no broker " + quoted(token) + " (brokers are 1.." + std::to_string(broker_count_) +
           ", or -1 for all)";
  }
  id = *n;
  return {};
}

std::string dev_broker::impl::execute(std::string_view line) {
  try {
    return run(line);
  } catch (const std::exception& e) {
    return err(std::string("internal error: ") + e.what());
  }
}

std::string dev_broker::impl::run(std::string_view line) {
  auto words = split(line, " \t\r\n\v\f");
  if (words.empty()) return err("empty command; try 'help'");
  std::string_view cmd = words[0];
  std::size_t args = words.size() - 1;
  auto usage = [](std::string_view u) { return err("usage: " + std::string(u)); };

  if (iequals(cmd, "ping")) {
    if (args != 0) return usage("ping");
    return "OK";
  }
  if (iequals(cmd, "help")) return std::string(help_text);

  if (iequals(cmd, "create-topic")) {
    if (args != 2 && args != 3) return usage("create-topic NAME PARTITIONS [RF]");
    auto partitions = parse_int<int>(words[2]);
    if (!partitions) return err("partitions must be a number, got " + quoted(words[2]));
    int rf = 1;
    if (args == 3) {
      auto parsed = parse_int<int>(words[3]);
      if (!parsed) return err("replication factor must be a number, got " + quoted(words[3]));
      rf = *parsed;
    }
    return create_topic(words[1], *partitions, rf);
  }

  if (iequals(cmd, "broker-down") || iequals(cmd, "broker-up")) {
    if (args != 1) return usage(std::string(cmd) + " ID");
    std::int32_t id = 0;
    if (auto problem = broker_id_problem(words[1], id); !problem.empty()) return err(problem);
    bool down = iequals(cmd, "broker-down");
    auto e = call_mock_op([&] {
      return down ? rd_kafka_mock_broker_set_down(cluster_, id)
                  : rd_kafka_mock_broker_set_up(cluster_, id);
    });
    return e ? err(rd_kafka_err2str(e)) : "OK";
  }

  if (iequals(cmd, "rtt")) {
    if (args != 2) return usage("rtt ID MS");
    std::int32_t id = 0;
    if (auto problem = broker_id_problem(words[1], id); !problem.empty()) return err(problem);
    auto ms = parse_int<int>(words[2]);
    // The mock stores microseconds in 64 bits; an hour is already far past any client timeout.
    if (!ms || *ms < 0 || *ms > 3600 * 1000) return err("MS must be 0..3600000");
    auto e = call_mock_op([&] { return rd_kafka_mock_broker_set_rtt(cluster_, id, *ms); });
    return e ? err(rd_kafka_err2str(e)) : "OK";
  }

  if (iequals(cmd, "request-errors")) {
    if (args != 2) return usage("request-errors API_KEY ERR[,ERR...]");
    auto key = parse_api_key(words[1]);
    if (!key)
      return err("unknown API key " + quoted(words[1]) +
                 " (a number 0..67 or a name such as Produce)");
    std::vector<rd_kafka_resp_err_t> errors;
    for (auto token : split(words[2], ",")) {
      auto e = parse_error(token);
      if (!e)
        return err("unknown error " + quoted(token) +
                   " (a Kafka error code or a name such as NOT_LEADER_FOR_PARTITION)");
      errors.push_back(*e);
    }
    if (errors.empty()) return err("no errors given");
    if (errors.size() > max_errors_per_push) {
      return err("at most " + std::to_string(max_errors_per_push) + " errors per command");
    }
    {
      std::lock_guard lock(mock_mutex_);
      rd_kafka_mock_push_request_errors_array(cluster_, *key, errors.size(), errors.data());
    }
    return "OK " + std::to_string(errors.size()) + " error(s) queued for " + api_display(*key);
  }

  if (iequals(cmd, "clear-errors")) {
    if (args != 1) return usage("clear-errors API_KEY");
    auto key = parse_api_key(words[1]);
    if (!key) return err("unknown API key " + quoted(words[1]));
    {
      std::lock_guard lock(mock_mutex_);
      rd_kafka_mock_clear_request_errors(cluster_, *key);
    }
    return "OK";
  }

  if (iequals(cmd, "topic-error")) {
    if (args != 2) return usage("topic-error TOPIC ERR");
    if (auto problem = topic_name_problem(words[1]); !problem.empty()) return err(problem);
    auto e = parse_error(words[2]);
    if (!e) return err("unknown error " + quoted(words[2]));
    std::string topic(words[1]);
    call_mock_op([&] {
      rd_kafka_mock_topic_set_error(cluster_, topic.c_str(), *e);
      return RD_KAFKA_RESP_ERR_NO_ERROR;
    });
    return "OK";
  }

  if (iequals(cmd, "leader")) {
    if (args != 3) return usage("leader TOPIC PARTITION BROKER_ID");
    if (auto problem = topic_name_problem(words[1]); !problem.empty()) return err(problem);
    // The mock indexes its partition array without a lower bound check.
    auto partition = parse_int<std::int32_t>(words[2]);
    if (!partition || *partition < 0 || *partition >= max_partitions) {
      return err("partition must be 0.." + std::to_string(max_partitions - 1));
    }
    std::int32_t id = 0;
    if (auto problem = broker_id_problem(words[3], id); !problem.empty()) return err(problem);
    std::string topic(words[1]);
    auto e = call_mock_op([&] {
      return rd_kafka_mock_partition_set_leader(cluster_, topic.c_str(), *partition, id);
    });
    if (e == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART) {
      return err("topic " + quoted(words[1]) + " has no partition " + std::to_string(*partition));
    }
    return e ? err(rd_kafka_err2str(e)) : "OK";
  }

  return err("unknown command " + quoted(cmd) + "; try 'help'");
}

std::uint16_t dev_broker::impl::serve_control(std::uint16_t port) {
  unique_fd listener(::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (listener.get() < 0) throw sys_error("dev broker control: socket");
  int on = 1;
  ::setsockopt(listener.get(), SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);  // fault injection must not be reachable remotely
  addr.sin_port = htons(port);
  if (::bind(listener.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    throw sys_error("dev broker control: cannot bind 127.0.0.1:" + std::to_string(port));
  }
  if (::listen(listener.get(), 64) != 0) throw sys_error("dev broker control: listen");
  socklen_t len = sizeof addr;
  if (::getsockname(listener.get(), reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    throw sys_error("dev broker control: getsockname");
  }
  std::lock_guard lock(threads_mutex_);
  control_threads_.emplace_back(
      [this, fd = std::move(listener)]() mutable { serve(std::move(fd)); });
  return ntohs(addr.sin_port);
}

// One thread multiplexes all clients of one listener with poll(); commands are short and the
// mock answers them in microseconds, so a thread per client would buy nothing.
void dev_broker::impl::serve(unique_fd listener) try {
  struct client {
    unique_fd fd;
    std::string in;
    std::string out;
    bool closing = false;     // no more input will be read; close once `out` is flushed
    bool discarding = false;  // inside a line that was too long; answered at its newline
  };
  std::vector<client> clients;
  std::vector<pollfd> fds;

  auto handle_lines = [this](client& c) {
    std::size_t start = 0;
    for (auto nl = c.in.find('\n'); nl != std::string::npos; nl = c.in.find('\n', start)) {
      if (c.discarding) {
        c.out += err("line longer than " + std::to_string(max_line_bytes) + " bytes");
        c.discarding = false;
      } else {
        c.out += execute(std::string_view(c.in).substr(start, nl - start));
      }
      c.out += '\n';
      start = nl + 1;
    }
    c.in.erase(0, start);
    // Skip the rest of an overlong line instead of closing: closing with unread input would
    // reset the connection and lose the answer, and the line still gets its one response.
    if (c.in.size() > max_line_bytes) {
      c.in.clear();
      c.discarding = true;
    }
  };

  for (;;) {
    fds.clear();
    fds.push_back({stop_read_.get(), POLLIN, 0});
    bool accepting = clients.size() < max_clients_per_listener;
    fds.push_back({listener.get(), static_cast<short>(accepting ? POLLIN : 0), 0});
    for (const auto& c : clients) {
      short events = 0;
      if (!c.closing && c.out.size() < max_pending_output) events |= POLLIN;
      if (!c.out.empty()) events |= POLLOUT;
      fds.push_back({c.fd.get(), events, 0});
    }
    if (::poll(fds.data(), fds.size(), -1) < 0) {
      if (errno == EINTR) continue;
      throw sys_error("poll");
    }
    if (fds[0].revents != 0) return;

    for (std::size_t i = 0; i < clients.size(); ++i) {
      client& c = clients[i];
      short revents = fds[i + 2].revents;
      if (revents & (POLLIN | POLLHUP | POLLERR)) {
        char buf[4096];
        ssize_t n = ::recv(c.fd.get(), buf, sizeof buf, 0);
        if (n > 0) {
          c.in.append(buf, static_cast<std::size_t>(n));
          handle_lines(c);
        } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
          // A last command without a newline still deserves its answer.
          if (n == 0 && (!c.in.empty() || c.discarding)) {
            c.in += '\n';
            handle_lines(c);
          }
          c.closing = true;
          if (n < 0) c.out.clear();  // the peer is gone; nothing can be delivered
        }
      }
      if (!c.out.empty() && (revents & POLLOUT)) {
        ssize_t n = ::send(c.fd.get(), c.out.data(), c.out.size(), MSG_NOSIGNAL);
        if (n > 0) {
          c.out.erase(0, static_cast<std::size_t>(n));
        } else if (errno != EAGAIN && errno != EINTR) {
          c.out.clear();
          c.closing = true;
        }
      }
    }
    std::erase_if(clients, [](const client& c) { return c.closing && c.out.empty(); });

    if (fds[1].revents & POLLIN) {
      while (clients.size() < max_clients_per_listener) {
        int fd = ::accept4(listener.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) break;  // EAGAIN, or a connection that died in the backlog
        clients.push_back(client{unique_fd(fd), {}, {}, false, false});
      }
    }
  }
} catch (const std::exception& e) {
  // No caller to propagate to: the listener goes away but the broker itself keeps running.
  std::fprintf(stderr, "dev_broker: control listener stopped: %s\n", e.what());
}

dev_broker::dev_broker(const dev_broker_options& options)
    : impl_(std::make_unique<impl>(options)) {}

dev_broker::~dev_broker() = default;

const std::string& dev_broker::bootstrap_servers() const {
  return impl_->bootstrap_;
}

std::string dev_broker::execute(const std::string& command_line) {
  return impl_->execute(command_line);
}

std::uint16_t dev_broker::serve_control(std::uint16_t port) {
  return impl_->serve_control(port);
}

}  // namespace ferry::clients
