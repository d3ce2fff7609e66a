#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "ferry/api/connector.hpp"
#include "ferry/clients/redis_connection.hpp"
#include "list_source/list_source_config.hpp"
#include "list_source/processing_window.hpp"

namespace ferry::redis {

// Reads its lists as reliable queues. Each poll moves up to batch.size elements per list from
// the list into the list's processing list (atomically: a Lua script, or LMOVEs), and only when
// every list is empty waits with BLMOVE. An element leaves the processing list (LTRIM of the
// acknowledged prefix) only after Kafka acknowledged its record (commit_record(), or the
// committed source offset for records the runtime dropped without one), so a crash loses
// nothing: at start, and after any broken Redis connection (when what the server did with the
// last commands is unknown), the elements in the processing list are delivered again first.
// At-least-once. Record: key = list key, value = the element (strings), partition {"list"},
// offset {"epoch", "position"} (positions count per epoch; the epoch changes at every start
// and resync, so acknowledgements and offsets from an earlier epoch are ignored).
// All calls come from the task's thread; commit_record() and commit() may come after stop().
class list_source_task final : public api::source_task {
 public:
  void start(const api::config_map& config, api::source_task_context& context) override;
  std::vector<api::source_record> poll() override;
  void commit_record(const api::source_record& record) override;
  void commit() override;
  void stop() override {}

 private:
  struct list_state {
    std::string list;
    std::string processing;
    std::string topic;
    json partition;  // {"list": key}
    processing_window window;
  };

  void resync();
  std::vector<api::source_record> move_batch();
  void add_trims(std::vector<std::size_t>& trimmed);
  void check_trims(const std::vector<clients::redis_reply>& replies, std::size_t& at,
                   const std::vector<std::size_t>& trimmed);
  void append_record(std::vector<api::source_record>& out, list_state& l, std::int64_t position,
                     std::string_view element);

  list_source_config config_;
  api::source_task_context* context_ = nullptr;
  std::unique_ptr<clients::redis_client> connection_;
  std::vector<list_state> lists_;
  std::unordered_map<std::string, std::size_t> by_list_;
  std::string epoch_base_;
  std::string epoch_;
  std::uint64_t epochs_ = 0;
  bool need_resync_ = true;
  std::size_t block_next_ = 0;  // the list BLMOVE waits on next (round-robin)
  clients::redis_pipeline pipeline_;
};

}  // namespace ferry::redis
