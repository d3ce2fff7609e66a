#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "ferry/api/connector.hpp"
#include "ferry/clients/redis_connection.hpp"
#include "ferry/clients/redis_subscriber.hpp"
#include "keys_source/key_state.hpp"
#include "keys_source/keys_source_config.hpp"

namespace ferry::redis {

// Key change capture. Subscribes to the keyspace notifications of the pattern on the server (on
// every master of a Redis Cluster: notifications are node-local), optionally SCANs the
// matching keys first, and for every key notified or scanned reads its whole state atomically
// (keys::read_script) and writes one record when that state differs from the last one written.
//
// Source partition {"key": <key>}, offset {"digest": <hex of the state's digest>}: after a
// restart the snapshot writes only keys whose digest differs from the stored one. In memory:
// the digest of every present matching key (known_), plus the keys whose records are not yet
// stored in the offset store (in_flight_), so a key deleted and re-created before the offsets
// were flushed is still compared with what was written last.
//
// A broken subscriber connection (CLIENT KILL, Redis restart, silent peer found by PING)
// throws redis_io_error from poll() (the runtime retries with backoff); the next poll()
// subscribes again and then SCANs everything once more (reconciling): changes made while
// unsubscribed show up as records, and known keys the SCAN no longer finds are read again and
// written as deletions. All calls come from the task's thread.
class keys_source_task final : public api::source_task {
 public:
  void start(const api::config_map& config, api::source_task_context& context) override;
  std::vector<api::source_record> poll() override;
  void commit_record(const api::source_record& record) override;
  void commit() override;
  void stop() override;

 private:
  // One server whose notifications are captured: the server itself, or one cluster master.
  struct node {
    clients::redis_endpoint endpoint;
    std::unique_ptr<clients::redis_connection> control;  // CONFIG, SCAN
    std::unique_ptr<clients::redis_subscriber> subscriber;
    std::string cursor = "0";
    bool scanning = false;
  };
  struct known_key {
    std::uint64_t digest = 0;
    std::uint32_t generation = 0;  // of the last scan that saw the key (or a later read)
  };
  struct in_flight_key {
    std::uint64_t digest = 0;  // of the last record written
    std::uint32_t count = 0;   // records written and not yet in the offset store
  };

  void discover_nodes();
  void ensure_connected();
  void check_notifications(node& n);
  void start_scan();
  void scan_step();
  void read_notifications(std::chrono::steady_clock::time_point deadline);
  void read_keys(std::vector<api::source_record>& out);
  std::optional<std::uint64_t> last_written(const std::string& key);
  void enqueue(std::string key, const std::string& event);
  node make_node(std::string host, int port) const;

  keys_source_config config_;
  api::source_task_context* context_ = nullptr;
  std::string prefix_;  // __keyspace@<db>__:
  std::vector<node> nodes_;
  std::unique_ptr<clients::redis_client> reader_;  // reads key states (cluster-aware)
  std::unordered_map<std::string, known_key> known_;
  std::unordered_map<std::string, in_flight_key> in_flight_;
  std::vector<std::string> acked_;  // keys of records acknowledged since the last commit()
  std::deque<std::string> queue_;   // keys to read, in notification order, each once
  std::unordered_map<std::string, std::string> pending_;  // queued key -> its last event
  std::uint32_t generation_ = 0;
  bool reconciling_ = false;  // a scan is running; known keys it misses are read at its end
  bool scan_due_ = false;
  bool subscribed_once_ = false;
  bool rediscover_ = false;
  std::chrono::steady_clock::time_point next_discovery_{};
  std::vector<clients::pubsub_message> messages_;
  clients::redis_pipeline pipeline_;
};

}  // namespace ferry::redis
