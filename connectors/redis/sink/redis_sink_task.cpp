#include "sink/redis_sink_task.hpp"

#include "ferry/api/errors.hpp"
#include "sink/sink_replies.hpp"

namespace ferry::redis {

void redis_sink_task::start(const api::config_map& config, api::sink_task_context&) {
  config_ = redis_sink_config::parse(config);
  builder_.emplace(config_);  // parses the templates once
  connection_ = clients::make_redis_client(config_.endpoint);
  // Reachability problems surface on the first put() as retriable errors; try early so the
  // log says so at start.
  try {
    connection_->connect();
  } catch (const clients::redis_io_error&) {
  }
}

void redis_sink_task::put(std::span<const api::sink_record> records) {
  if (records.empty()) return;
  pipeline_.clear();
  builder_->build(records, pipeline_);
  if (pipeline_.empty()) return;
  auto replies = connection_->execute(pipeline_);
  check_replies(replies, config_.multiexec, config_.wait_replicas, config_.wait_timeout_ms);
}

void redis_sink_task::stop() {
  connection_.reset();
}

}  // namespace ferry::redis
