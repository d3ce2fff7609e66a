#pragma once

#include <optional>
#include <span>
#include <string>
#include <vector>

#include "ferry/api/config_def.hpp"
#include "ferry/api/record.hpp"

namespace ferry::api {

// Base of every plug-in interface: not copyable, not movable, destroyed through the base.
class plugin_object {
 public:
  plugin_object() = default;
  plugin_object(const plugin_object&) = delete;
  plugin_object& operator=(const plugin_object&) = delete;
  virtual ~plugin_object() = default;
};

// A connector instance: takes the user's config and splits the work into task configs.
// Lifecycle: start() -> task_configs() (any number of times) -> stop(). Called from one thread
// owned by the worker; start() may do I/O and may take time without blocking anything else.
class connector : public plugin_object {
 public:
  virtual void start(const config_map& config) = 0;
  virtual std::vector<config_map> task_configs(int max_tasks) = 0;
  virtual void stop() = 0;
};

class source_connector : public connector {};
class sink_connector : public connector {};

// What a source task may ask of the runtime.
class source_task_context {
 public:
  virtual ~source_task_context() = default;
  // The last committed offset for a source partition, if any.
  virtual std::optional<json> offset(const json& source_partition) = 0;
  // The form in which the task may hand over values already written (source_record::value_bytes):
  // schemaless_json when the value converter is JsonConverter with schemas.enable=false and the
  // connector has no transformations; `data` (the default) means values travel as data only.
  virtual value_form values() const { return value_form::data; }
};

// Reads from an external system. poll() runs on the task's own thread and must return within
// about a second (empty is fine) so the task can be stopped. commit_record() runs on the same
// thread once Kafka acknowledged the record; commit() after its offsets were stored.
class source_task : public plugin_object {
 public:
  virtual void start(const config_map& config, source_task_context& context) = 0;
  virtual std::vector<source_record> poll() = 0;
  virtual void commit_record(const source_record& /*record*/) {}
  virtual void commit() {}
  virtual void stop() = 0;
};

// What a sink task may ask of the runtime.
class sink_task_context {
 public:
  virtual ~sink_task_context() = default;
  virtual std::vector<topic_partition> assignment() const = 0;
  virtual void request_commit() = 0;
  // Kafka's SinkTaskContext.offset(): consume these partitions from these offsets next. Called
  // from open() it positions newly assigned partitions before their first record (a sink that
  // keeps its offsets in the destination, atomically with the data, resumes exactly there);
  // later it seeks assigned partitions. The offsets are committed to Kafka as well.
  virtual void offset(const offset_map& offsets) = 0;
};

// Writes to an external system. All calls come from the task's own thread.
// put() may buffer; flush()/pre_commit() must make everything put so far durable, and the
// runtime commits Kafka offsets only for what pre_commit() returns. put() throws
// retriable_error when the same batch may succeed later; the runtime then redelivers it.
class sink_task : public plugin_object {
 public:
  virtual void start(const config_map& config, sink_task_context& context) = 0;
  virtual void open(std::span<const topic_partition> /*partitions*/) {}
  virtual void put(std::span<const sink_record> records) = 0;
  virtual void flush(const offset_map& /*current*/) {}
  virtual offset_map pre_commit(const offset_map& current) {
    flush(current);
    return current;
  }
  virtual void close(std::span<const topic_partition> /*partitions*/) {}
  virtual void stop() = 0;
};

}  // namespace ferry::api
