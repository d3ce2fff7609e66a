#include "ferry/clients/topic_admin.hpp"

#include <syslog.h>

#include <algorithm>
#include <climits>
#include <mutex>
#include <thread>
#include <vector>

#include "ferry/api/errors.hpp"

namespace ferry::clients {

namespace {

using steady = std::chrono::steady_clock;

std::string quoted(const std::string& s) {
  return "'" + s + "'";
}

struct event_deleter {
  void operator()(rd_kafka_event_t* e) const { rd_kafka_event_destroy(e); }
};
struct options_deleter {
  void operator()(rd_kafka_AdminOptions_t* o) const { rd_kafka_AdminOptions_destroy(o); }
};
using admin_event = std::unique_ptr<rd_kafka_event_t, event_deleter>;
using admin_options = std::unique_ptr<rd_kafka_AdminOptions_t, options_deleter>;

// One short-lived client for one call. librdkafka's own log lines are kept, not printed: the
// last one explains a failure better in the exception or warning than on stderr.
class admin_session {
 public:
  admin_session(const client_config& admin, steady::time_point deadline) : deadline_(deadline) {
    auto config = admin;
    config.try_emplace("client.id", "ferry-admin");
    config["allow.auto.create.topics"] = "false";
    auto conf = make_kafka_conf(config, nullptr);  // Java-only settings do not matter here
    rd_kafka_conf_set_opaque(conf.get(), this);
    rd_kafka_conf_set_log_cb(conf.get(), &admin_session::log_cb);
    rd_kafka_conf_set_error_cb(conf.get(), &admin_session::error_cb);
    rk_ = make_producer(std::move(conf));
    queue_.reset(rd_kafka_queue_new(rk_.get()));
  }
  ~admin_session() {
    queue_.reset();
    rk_.reset();  // before the members its callbacks use
  }
  admin_session(const admin_session&) = delete;
  admin_session& operator=(const admin_session&) = delete;

  rd_kafka_t* rk() const { return rk_.get(); }
  rd_kafka_queue_t* queue() const { return queue_.get(); }
  steady::time_point deadline() const { return deadline_; }
  int left() const { return ms_left(deadline_); }

  std::string hint() const {
    std::lock_guard lock(mutex_);
    return last_error_.empty() ? "" : " (last client error: " + last_error_ + ")";
  }

  admin_options options(rd_kafka_admin_op_t op) const {
    admin_options options(rd_kafka_AdminOptions_new(rk_.get(), op));
    char errstr[256];
    int ms = std::clamp(left(), 1, 3600 * 1000);
    rd_kafka_AdminOptions_set_request_timeout(options.get(), ms, errstr, sizeof errstr);
    return options;
  }

  // The admin result, or nullptr when the deadline passed first (the request's own timeout,
  // set to the same deadline, normally answers a moment before).
  admin_event wait_result() const {
    return admin_event(rd_kafka_queue_poll(queue_.get(), left() + 500));
  }

 private:
  static void log_cb(const rd_kafka_t* rk, int level, const char*, const char* message) {
    if (level <= LOG_WARNING) static_cast<admin_session*>(rd_kafka_opaque(rk))->note(message);
  }
  static void error_cb(rd_kafka_t*, int, const char* reason, void* opaque) {
    static_cast<admin_session*>(opaque)->note(reason);
  }
  void note(const char* message) {
    std::lock_guard lock(mutex_);
    last_error_ = message;
  }

  steady::time_point deadline_;
  mutable std::mutex mutex_;
  std::string last_error_;
  kafka_handle rk_;
  queue_handle queue_;
};

struct topic_metadata {
  bool exists = false;
  int partitions = 0;
  std::vector<std::int32_t> brokers;
};

// All topics, never the one by name: see the header.
topic_metadata read_metadata(const admin_session& s, const std::string& topic) {
  const rd_kafka_metadata_t* md = nullptr;
  auto err = rd_kafka_metadata(s.rk(), 1, nullptr, &md, std::max(s.left(), 1));
  if (err) {
    throw api::connect_error("Cannot read the Kafka cluster's metadata to check topic " +
                             quoted(topic) + ": " + kafka_error_text(err) + s.hint());
  }
  topic_metadata out;
  for (int i = 0; i < md->broker_cnt; ++i) out.brokers.push_back(md->brokers[i].id);
  rd_kafka_resp_err_t topic_err = RD_KAFKA_RESP_ERR_NO_ERROR;
  for (int i = 0; i < md->topic_cnt; ++i) {
    if (topic != md->topics[i].topic) continue;
    topic_err = md->topics[i].err;
    out.exists = topic_err != RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART;
    out.partitions = md->topics[i].partition_cnt;
  }
  rd_kafka_metadata_destroy(md);
  if (topic_err == RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED) {
    throw api::connect_error("Not allowed to describe topic " + quoted(topic) + ": " +
                             kafka_error_text(topic_err));
  }
  return out;
}

// Admin requests go to the controller. librdkafka's mock cluster names controller 0, which is
// none of its brokers (they count from 1), and supports neither CreateTopics nor DescribeConfigs:
// an Admin call would only wait for its timeout. A real cluster always names one of its brokers
// (KRaft brokers name a random one).
std::string admin_api_problem(const admin_session& s, const topic_metadata& md) {
  std::int32_t controller = rd_kafka_controllerid(s.rk(), std::max(s.left(), 1));
  if (controller < 0) return "the cluster named no controller to send Admin API requests to";
  if (std::find(md.brokers.begin(), md.brokers.end(), controller) == md.brokers.end()) {
    return "the cluster names controller " + std::to_string(controller) +
           ", which is none of its brokers, so it offers no Admin API (CreateTopics, "
           "DescribeConfigs); librdkafka's mock cluster, ferry's development broker, does this";
  }
  return {};
}

std::optional<std::string> read_cleanup_policy(const admin_session& s, const std::string& topic,
                                               std::string& problem) {
  if (s.left() <= 0) {
    problem = "no time left for DescribeConfigs";
    return std::nullopt;
  }
  rd_kafka_ConfigResource_t* resource =
      rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, topic.c_str());
  auto options = s.options(RD_KAFKA_ADMIN_OP_DESCRIBECONFIGS);
  rd_kafka_DescribeConfigs(s.rk(), &resource, 1, options.get(), s.queue());
  rd_kafka_ConfigResource_destroy(resource);
  auto event = s.wait_result();
  if (!event) {
    problem = "DescribeConfigs got no answer in time" + s.hint();
    return std::nullopt;
  }
  if (auto err = rd_kafka_event_error(event.get())) {
    const char* text = rd_kafka_event_error_string(event.get());
    problem = "DescribeConfigs failed: " + std::string(text ? text : rd_kafka_err2str(err));
    return std::nullopt;
  }
  const auto* result = rd_kafka_event_DescribeConfigs_result(event.get());
  std::size_t count = 0;
  const auto** resources = rd_kafka_DescribeConfigs_result_resources(result, &count);
  for (std::size_t i = 0; i < count; ++i) {
    if (auto err = rd_kafka_ConfigResource_error(resources[i])) {
      const char* text = rd_kafka_ConfigResource_error_string(resources[i]);
      problem = "DescribeConfigs failed: " + std::string(text ? text : rd_kafka_err2str(err));
      return std::nullopt;
    }
    std::size_t config_count = 0;
    const auto** configs = rd_kafka_ConfigResource_configs(resources[i], &config_count);
    for (std::size_t c = 0; c < config_count; ++c) {
      const char* value = rd_kafka_ConfigEntry_value(configs[c]);
      if (std::string("cleanup.policy") == rd_kafka_ConfigEntry_name(configs[c]) && value)
        return std::string(value);
    }
  }
  problem = "DescribeConfigs did not list cleanup.policy";
  return std::nullopt;
}

topic_description describe(const admin_session& s, const std::string& topic,
                           const topic_metadata& md, std::string& policy_problem) {
  topic_description d;
  d.exists = md.exists;
  d.partitions = md.partitions;
  if (!d.exists) return d;
  policy_problem = admin_api_problem(s, md);
  if (policy_problem.empty()) d.cleanup_policy = read_cleanup_policy(s, topic, policy_problem);
  return d;
}

std::string spec_text(const topic_spec& spec) {
  std::string text = std::to_string(spec.partitions) + " partition(s), replication factor " +
                     (spec.replication_factor < 0 ? std::string("of the broker's default")
                                                  : std::to_string(spec.replication_factor));
  for (const auto& [key, value] : spec.configs) text += ", " + key + "=" + value;
  return text;
}

// Errors that mean "this cluster will not create topics for us", not "the spec is wrong".
bool creation_unavailable(rd_kafka_resp_err_t err) {
  return err == RD_KAFKA_RESP_ERR__TIMED_OUT || err == RD_KAFKA_RESP_ERR__UNSUPPORTED_FEATURE ||
         err == RD_KAFKA_RESP_ERR_UNSUPPORTED_VERSION ||
         err == RD_KAFKA_RESP_ERR_CLUSTER_AUTHORIZATION_FAILED ||
         err == RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED;
}

// "" when created (or created meanwhile by someone else); else why creation was not possible.
// Throws when the broker refuses the spec itself.
std::string create_topic(const admin_session& s, const topic_spec& spec) {
  char errstr[512];
  rd_kafka_NewTopic_t* topic = rd_kafka_NewTopic_new(
      spec.name.c_str(), spec.partitions, spec.replication_factor, errstr, sizeof errstr);
  if (!topic) throw api::connect_error("Cannot create topic " + quoted(spec.name) + ": " + errstr);
  for (const auto& [key, value] : spec.configs) {
    rd_kafka_NewTopic_set_config(topic, key.c_str(), value.c_str());
  }
  auto options = s.options(RD_KAFKA_ADMIN_OP_CREATETOPICS);
  // The broker may wait this long for the new topic to reach every broker before answering.
  rd_kafka_AdminOptions_set_operation_timeout(options.get(), std::max(s.left() / 2, 1), errstr,
                                              sizeof errstr);
  rd_kafka_CreateTopics(s.rk(), &topic, 1, options.get(), s.queue());
  rd_kafka_NewTopic_destroy(topic);
  auto event = s.wait_result();
  if (!event) return "CreateTopics got no answer in time" + s.hint();
  rd_kafka_resp_err_t err = rd_kafka_event_error(event.get());
  std::string text = err ? rd_kafka_event_error_string(event.get()) : "";
  if (!err) {
    std::size_t count = 0;
    const auto* result = rd_kafka_event_CreateTopics_result(event.get());
    const auto** topics = rd_kafka_CreateTopics_result_topics(result, &count);
    for (std::size_t i = 0; i < count && !err; ++i) {
      err = rd_kafka_topic_result_error(topics[i]);
      const char* message = rd_kafka_topic_result_error_string(topics[i]);
      text = message ? message : rd_kafka_err2str(err);
    }
  }
  // REQUEST_TIMED_OUT: created, but not yet everywhere when the operation timeout passed.
  if (!err || err == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS ||
      err == RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT)
    return {};
  if (creation_unavailable(err)) return "CreateTopics failed: " + text + s.hint();
  throw api::connect_error("Cannot create topic " + quoted(spec.name) + " with " + spec_text(spec) +
                           ": " + text);
}

}  // namespace

topic_description describe_topic(const client_config& admin, const std::string& topic,
                                 std::chrono::milliseconds timeout) {
  admin_session s(admin, steady::now() + timeout);
  std::string ignored;
  return describe(s, topic, read_metadata(s, topic), ignored);
}

topic_description ensure_topic(const client_config& admin, const topic_spec& spec,
                               std::chrono::milliseconds timeout,
                               const std::function<void(const std::string&)>& warn) {
  auto say = [&](const std::string& message) {
    if (warn) warn(message);
  };
  admin_session s(admin, steady::now() + timeout);
  std::string policy_problem;
  auto md = read_metadata(s, spec.name);
  if (!md.exists) {
    if (auto problem = admin_api_problem(s, md); !problem.empty()) {
      say("Topic " + quoted(spec.name) + " does not exist and cannot be created: " + problem +
          ". Create it with " + spec_text(spec));
      return {};
    }
    if (auto problem = create_topic(s, spec); !problem.empty()) {
      say("Topic " + quoted(spec.name) + " does not exist and could not be created: " + problem +
          ". Create it with " + spec_text(spec));
      return describe(s, spec.name, read_metadata(s, spec.name), policy_problem);
    }
    // A new topic shows up in metadata a moment after CreateTopics answers.
    for (auto backoff = std::chrono::milliseconds(10); !md.exists && s.left() > backoff.count();
         backoff = std::min(backoff * 2, std::chrono::milliseconds(200))) {
      std::this_thread::sleep_for(backoff);
      md = read_metadata(s, spec.name);
    }
    if (!md.exists) {
      say("Topic " + quoted(spec.name) +
          " was created but does not show in the cluster's metadata yet");
      return {};
    }
  }
  auto d = describe(s, spec.name, md, policy_problem);
  if (d.exists && !d.cleanup_policy) {
    say("Cannot check the cleanup.policy of topic " + quoted(spec.name) + ": " + policy_problem);
  }
  return d;
}

}  // namespace ferry::clients
