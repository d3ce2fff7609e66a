#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ferry/api/record.hpp"
#include "ferry/clients/redis_connection.hpp"
#include "sink/command_template.hpp"
#include "sink/redis_sink_config.hpp"

namespace ferry::redis {

// Turns a put() batch into Redis commands, in record (= offset) order, so a tombstone after a
// write of the same key deletes it and a write after a tombstone stays (unlike
// redis-kafka-connect, which sends a batch's deletes first, issue #47). No I/O: the commands go
// into a pipeline the task sends. Templates are parsed once, in the constructor; argument
// buffers are reused across records. Owned by one task, used by its thread only.
//
// Atomicity: a TTL is part of the write (SET ... EX, or MULTI / write / EXPIRE / EXEC), never a
// later EXPIRE. redis.multiexec wraps the whole batch in one MULTI/EXEC on a single server; on
// a Redis Cluster (endpoint.cluster) a transaction may only touch one slot, so there every run
// of consecutive records for the same key gets its own MULTI/EXEC instead, and a MULTI block
// never holds commands for two keys. With redis.exactly.once build() emits the writes only (no
// MULTI/EXEC, no WAIT): the task wraps them, with the offsets, in its own MULTI/EXEC, and may
// call build() several times for one transaction.
class command_builder {
 public:
  explicit command_builder(const redis_sink_config& config);  // throws api::config_error

  // Appends the batch's commands (and the WAIT, when configured) to `out`. Throws
  // api::data_error for a record that cannot be written as configured.
  void build(std::span<const api::sink_record> records, clients::redis_pipeline& out);

  // Whether the last command build() added is WAIT.
  bool waits() const { return config_.wait_replicas > 0 && !config_.exactly_once; }

 private:
  // What one record writes; filled by plan(), written by emit().
  struct plan_t {
    bool skip = false;       // nothing to write (e.g. a stream tombstone)
    bool tombstone = false;  // a delete
    std::int64_t ttl = -1;   // seconds, > 0 when the write sets one
  };

  plan_t plan(const api::sink_record& r);
  void emit(const api::sink_record& r, const plan_t& p, clients::redis_pipeline& out);
  void emit_write(const api::sink_record& r, clients::redis_pipeline& out);
  void emit_fields(const json& object, clients::redis_pipeline& out);
  void emit_template(const command_template& t, clients::redis_pipeline& out);
  bool write_sets_ttl_itself() const;
  std::int64_t ttl_of(const api::sink_record& r);
  const json& object_of(const api::sink_record& r, const char* what);
  std::string_view member_of(const api::sink_record& r);
  void render_key(const api::sink_record& r);

  redis_sink_config config_;
  command_template keyspace_;
  std::optional<command_template> command_;
  std::optional<command_template> delete_command_;
  bool cluster_tx_ = false;  // per-key MULTI/EXEC (cluster) instead of one per batch
  template_renderer renderer_;
  std::string key_;        // the record's Redis key (or channel)
  std::string open_key_;   // cluster_tx_: the key of the open MULTI block
  bool open_ = false;      // cluster_tx_: a MULTI block is open
  std::string value_buf_;  // text of a non-text value
  std::string member_buf_;
  std::string extra_buf_;  // score, stream id
  std::string ttl_buf_;
  std::vector<std::string> ttl_path_, score_path_, id_path_;
  std::string maxlen_arg_;
  std::string wait_args_[2];
};

}  // namespace ferry::redis
