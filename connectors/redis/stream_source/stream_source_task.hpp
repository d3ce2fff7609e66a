#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "ferry/api/connector.hpp"
#include "ferry/clients/redis_connection.hpp"
#include "stream_source/stream_source_config.hpp"

namespace ferry::redis {

// Reads its streams (named ones, plus those of redis.stream.pattern that hash to this task) and
// turns each entry into a record. Source partition {"stream": key}, offset {"offset": entry id}
// in both modes, so a restart resumes after the last entry Kafka acknowledged.
//
// XREAD mode: one XREAD per poll for all streams (per hash slot on a Redis Cluster), after the
// last id handed out per stream.
// Group mode: XGROUP CREATE ... MKSTREAM where the group is missing (at the last acknowledged or
// stored id), then this consumer's own pending entries (XREADGROUP from 0), then new ones
// (XREADGROUP >). Entries pending for other consumers longer than redis.stream.claim.idle.ms
// are claimed (XPENDING IDLE + XCLAIM) and delivered. commit_record() only notes the id;
// the XACKs go out with the next poll (or commit()), so an entry is acknowledged in Redis only
// after Kafka acknowledged its record. A group that vanished (NOGROUP) is created again at the
// last id Kafka acknowledged.
//
// Every call comes from the task's thread. The runtime may call commit_record() and commit()
// after stop() (its final flush); stop() therefore keeps the connection, the destructor closes it.
class stream_source_task final : public api::source_task {
 public:
  // Makes the Redis client for an endpoint; tests pass a fake.
  using client_factory =
      std::function<std::unique_ptr<clients::redis_client>(const clients::redis_endpoint&)>;
  stream_source_task() : make_client_(clients::make_redis_client) {}
  explicit stream_source_task(client_factory make_client) : make_client_(std::move(make_client)) {}

  void start(const api::config_map& config, api::source_task_context& context) override;
  std::vector<api::source_record> poll() override;
  void commit_record(const api::source_record& record) override;
  void commit() override;
  void stop() override;

 private:
  struct stream_state {
    std::string key;
    std::string topic;
    json partition;        // {"stream": key}
    std::string next_id;   // XREAD mode: read after this id ("$" until pinned)
    std::string high_id;   // highest id handed out (the offset of later records)
    std::string acked_id;  // highest id Kafka acknowledged, else the stored offset
    bool listed = true;    // named in redis.stream.name (else found by the pattern)
    bool active = true;    // false: found by the pattern, since deleted
    bool group_ready = false;
    std::optional<std::string> pending_from;  // group mode: own pending entries left, after id
    std::string claim_from = "-";             // XPENDING position of the next claim round
    std::vector<std::string> to_ack;
    // Written values: `,"stream":<key>,"body":` as JSON text; empty when the key is not UTF-8
    // (its values then go through the converter, which reports that).
    std::string value_middle;
  };

  void add_stream(const std::string& key, bool listed);
  void rebuild_groups();
  void scan_step();
  void pin_new_only_ids();
  void ensure_groups();
  void read_own_pending(std::vector<api::source_record>& out);
  void claim_idle(std::vector<api::source_record>& out);
  void read_new(std::vector<api::source_record>& out);
  // XREAD mode with one XREAD per poll (one server): the next XREAD, without BLOCK, goes out
  // before this reply's entries become records (redis_client::send_ahead), so Redis reads on
  // while the task and Kafka work; the next poll() takes its reply first.
  void send_read_ahead(clients::redis_reply_view reply);
  // Throws for an error reply to the read of these streams (positions in streams_), naming them.
  void check_read(clients::redis_reply_view reply, const std::vector<std::size_t>& streams) const;
  void take_read_ahead(clients::redis_reply_view reply, std::vector<api::source_record>& out);
  void add_acks(clients::redis_pipeline& p);
  std::size_t ack_count() const;
  void acks_sent();
  // Appends records for an array of entries ([id, [field, value, ...]] each) of stream s.
  void take_entries(std::size_t s, clients::redis_reply_view entries,
                    std::vector<api::source_record>& out);
  void take_stream_replies(clients::redis_reply_view reply, std::vector<api::source_record>& out,
                           bool pending_pass);
  api::source_record make_record(stream_state& st, std::string id, json body);
  // The record of an entry with its value written as schemaless JSON (the converter's text for
  // make_record()'s value), or nullopt when only the converter can write it: a field that is
  // not UTF-8, a field name given twice.
  std::optional<api::source_record> make_written_record(stream_state& st, const std::string& id,
                                                        clients::redis_reply_view fields);
  // What make_record() and make_written_record() share: partition, offset, topic, key layouts
  // but body_field.
  api::source_record record_for(stream_state& st, const std::string& id);
  std::vector<std::string> cluster_masters();

  client_factory make_client_;
  stream_source_config config_;
  api::source_task_context* context_ = nullptr;
  bool write_values_ = false;  // the context offers schemaless JSON values (value_bytes)
  std::unique_ptr<clients::redis_client> connection_;
  std::string consumer_;
  std::vector<stream_state> streams_;
  std::unordered_map<std::string, std::size_t> index_;  // stream key -> position in streams_
  std::vector<std::vector<std::size_t>> read_groups_;   // per XREAD command, stream positions
  bool last_read_empty_ = true;
  bool read_ahead_ = false;  // an XREAD was sent ahead and its reply not taken yet
  clients::redis_pipeline pipeline_;

  // redis.stream.pattern scanning, a few SCAN calls per poll.
  struct scan_state {
    bool active = false;
    bool completed_once = false;
    std::vector<std::string> nodes;  // cluster masters still to scan ("" = the client itself)
    std::string cursor = "0";
    std::vector<std::string> found;
    std::chrono::steady_clock::time_point next;
  } scan_;
  std::map<std::string, std::unique_ptr<clients::redis_client>> scan_connections_;

  std::chrono::steady_clock::time_point next_claim_{};
};

// The schema of the value record ({id, stream, body}), in Kafka Connect's JSON schema form.
const api::schema_ptr& stream_value_schema();

}  // namespace ferry::redis
