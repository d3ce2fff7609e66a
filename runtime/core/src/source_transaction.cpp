#include "source_transaction.hpp"

#include <thread>

#include "ferry/api/errors.hpp"
#include "ferry/core/log.hpp"
#include "ferry/storage/connect_records.hpp"

namespace ferry::core {

namespace {

constexpr const char* k_log = "source";

struct error_owner {
  rd_kafka_error_t* e;
  ~error_owner() {
    if (e) rd_kafka_error_destroy(e);
  }
};

int ms(std::chrono::milliseconds d) {
  return static_cast<int>(std::max<std::int64_t>(d.count(), 1));
}

}  // namespace

source_transaction::source_transaction(rd_kafka_t* producer, exactly_once_settings settings)
    : producer_(producer), settings_(std::move(settings)) {
  // Offsets records are keyed ["<connector>",{partition}] and must land where Kafka Connect's
  // (and ferry's kafka_log) writer puts the same key, or compaction would keep two latest values.
  rd_kafka_topic_conf_t* tconf = rd_kafka_topic_conf_new();
  char errstr[256];
  if (rd_kafka_topic_conf_set(tconf, "partitioner", "murmur2_random", errstr, sizeof errstr) !=
      RD_KAFKA_CONF_OK) {
    rd_kafka_topic_conf_destroy(tconf);
    throw api::connect_error(std::string("Cannot configure the offsets topic handle: ") + errstr);
  }
  offsets_topic_ = rd_kafka_topic_new(producer_, settings_.offsets_topic.c_str(), tconf);
  if (!offsets_topic_) {
    throw api::connect_error("Cannot open topic " + settings_.offsets_topic + ": " +
                             rd_kafka_err2str(rd_kafka_last_error()));
  }
}

source_transaction::~source_transaction() {
  if (offsets_topic_) rd_kafka_topic_destroy(offsets_topic_);
}

std::string source_transaction::describe(const std::string& what, const std::string& error) const {
  std::string out = what + " (transactional.id=" + settings_.transactional_id + "): " + error;
  char reason[512];
  auto fatal = rd_kafka_fatal_error(producer_, reason, sizeof reason);
  if (fatal == RD_KAFKA_RESP_ERR__FENCED || fatal == RD_KAFKA_RESP_ERR_PRODUCER_FENCED ||
      fatal == RD_KAFKA_RESP_ERR_INVALID_PRODUCER_EPOCH) {
    out +=
        ". This instance of the task was fenced: a newer instance with the same transactional.id "
        "started (on this or another worker), so this one writes nothing more; its open "
        "transaction is aborted";
  } else if (fatal) {
    out += std::string(". The producer hit a fatal error: ") + reason;
  }
  return out;
}

void source_transaction::fail(const std::string& what, rd_kafka_error_t* error) {
  error_owner owner{error};
  throw api::connect_error(describe(what, rd_kafka_error_string(error)));
}

void source_transaction::init(const std::function<bool()>& stopping,
                              std::chrono::milliseconds timeout) {
  auto backoff = std::chrono::milliseconds(100);
  for (;;) {
    rd_kafka_error_t* error = rd_kafka_init_transactions(producer_, ms(timeout));
    if (!error) break;
    if (!rd_kafka_error_is_retriable(error) || stopping()) {
      fail("Cannot initialise the transactional producer", error);
    }
    log::warn(k_log, "Initialising the transactional producer (transactional.id=",
              settings_.transactional_id, ") failed, retrying in ", backoff.count(),
              " ms: ", rd_kafka_error_string(error));
    rd_kafka_error_destroy(error);
    std::this_thread::sleep_for(backoff);
    backoff = std::min(backoff * 2, std::chrono::milliseconds(5000));
  }
  log::info(k_log, "Exactly-once: transactional producer ready (transactional.id=",
            settings_.transactional_id, ", offsets in ", settings_.offsets_topic, ", one ",
            settings_.boundary == transaction_boundary::poll
                ? std::string("transaction per poll")
                : "transaction every " + std::to_string(settings_.interval.count()) + " ms",
            ")");
}

void source_transaction::begin_if_needed() {
  if (open_) return;
  if (rd_kafka_error_t* error = rd_kafka_begin_transaction(producer_)) {
    fail("Cannot begin a transaction", error);
  }
  open_ = true;
  began_ = std::chrono::steady_clock::now();
}

void source_transaction::commit(const std::string& connector,
                                const std::vector<storage::source_offset>& offsets,
                                std::chrono::milliseconds timeout) {
  if (!open_) return;
  for (const auto& o : offsets) {
    auto key = storage::offset_key(connector, o.partition);
    std::string value;
    if (!o.offset.is_null()) value = storage::records::offset_value(o.offset);
    for (;;) {
      auto err = rd_kafka_producev(producer_, RD_KAFKA_V_RKT(offsets_topic_),
                                   RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                   RD_KAFKA_V_KEY(key.data(), key.size()),
                                   RD_KAFKA_V_VALUE(o.offset.is_null() ? nullptr : value.data(),
                                                    o.offset.is_null() ? 0 : value.size()),
                                   RD_KAFKA_V_OPAQUE(nullptr), RD_KAFKA_V_END);
      if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
        rd_kafka_poll(producer_, 50);
        continue;
      }
      if (err) {
        abort(timeout);
        throw api::connect_error(describe(
            "Cannot write source offsets to " + settings_.offsets_topic + " in the transaction",
            rd_kafka_err2str(err)));
      }
      break;
    }
  }
  for (;;) {
    rd_kafka_error_t* error = rd_kafka_commit_transaction(producer_, ms(timeout));
    if (!error) break;
    if (rd_kafka_error_is_retriable(error)) {
      log::warn(k_log,
                "Committing the transaction failed, retrying: ", rd_kafka_error_string(error));
      rd_kafka_error_destroy(error);
      continue;
    }
    if (rd_kafka_error_txn_requires_abort(error)) abort(timeout);
    open_ = false;
    fail("Cannot commit the transaction", error);
  }
  open_ = false;
}

void source_transaction::abort(std::chrono::milliseconds timeout) noexcept {
  if (!open_) return;
  open_ = false;
  if (rd_kafka_fatal_error(producer_, nullptr, 0)) return;  // fenced: the broker aborts it
  if (rd_kafka_error_t* error = rd_kafka_abort_transaction(producer_, ms(timeout))) {
    log::warn(k_log, "Aborting the transaction failed: ", rd_kafka_error_string(error),
              "; the broker aborts it when it times out or the next instance starts");
    rd_kafka_error_destroy(error);
  }
}

}  // namespace ferry::core
