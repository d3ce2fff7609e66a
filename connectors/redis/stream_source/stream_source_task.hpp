#pragma once

#include <memory>
#include <string>
#include <vector>

#include "ferry/api/connector.hpp"
#include "ferry/clients/redis_connection.hpp"
#include "stream_source/stream_source_config.hpp"

namespace ferry::redis {

// Reads its streams with XREAD from the last delivered entry id of each stream. The source
// offset of a record is {"offset": "<entry id>"} in partition {"stream": "<key>"}, so after a
// restart (or a crash) reading resumes right after the last entry Kafka acknowledged.
// Record layout as redis-kafka-connect's: key = entry id, value = {id, stream, body}.
class stream_source_task final : public api::source_task {
 public:
  void start(const api::config_map& config, api::source_task_context& context) override;
  std::vector<api::source_record> poll() override;
  void stop() override;

 private:
  void resolve_start_ids();

  stream_source_config config_;
  std::unique_ptr<clients::redis_client> connection_;
  std::vector<std::string> last_ids_;  // per stream, the id to read after
  std::vector<std::string> topics_;    // per stream
  std::vector<bool> resolved_;         // "$" start ids are turned into real ids once
  clients::redis_pipeline pipeline_;
};

// The schema of the value record, in Kafka Connect's JSON schema form.
const api::schema_ptr& stream_value_schema();

}  // namespace ferry::redis
