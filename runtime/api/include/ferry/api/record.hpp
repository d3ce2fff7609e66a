#pragma once

#include <compare>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ferry/api/json.hpp"

namespace ferry::api {

// Values travel as JSON-like data: null, bool, number, string, binary (bytes), array, object.
// A schema, when known, is Kafka Connect's JSON schema form ({"type":"struct","fields":[...]}),
// shared between records (a connector builds it once); null means "unknown", and converters
// that need one infer it from the value.
using schema_ptr = std::shared_ptr<const json>;
struct header {
  std::string key;
  std::optional<std::string> value;  // raw bytes; nullopt for a null header
};

struct topic_partition {
  std::string topic;
  std::int32_t partition = 0;
  auto operator<=>(const topic_partition&) const = default;
};

std::string to_string(const topic_partition& tp);

// A form a source task may write record values in itself (source_record::value_bytes), offered
// by its context when the worker would write the values in that form anyway.
enum class value_form : std::uint8_t {
  data,             // values go through the converter (and transformations) as data
  schemaless_json,  // JSON text as JsonConverter with schemas.enable=false writes it
};

// A record produced by a source task. source_partition / source_offset are JSON objects of
// primitive values (Kafka Connect's offset format); the runtime commits the offset only after
// Kafka acknowledged this record and every earlier record of the same partition.
struct source_record {
  json source_partition;
  json source_offset;
  std::string topic;
  std::optional<std::int32_t> partition;
  json key;
  schema_ptr key_schema;
  json value;
  schema_ptr value_schema;
  std::vector<header> headers;
  std::optional<std::int64_t> timestamp_ms;
  // Optional, instead of `value` and `value_schema` (left empty): the value already written in
  // the form source_task_context::values() offers. The runtime gives these bytes to Kafka as
  // they are and takes them out of the record, so commit_record() sees it without them.
  std::optional<std::string> value_bytes;
};

// A record consumed from Kafka, converted, handed to a sink task.
struct sink_record {
  std::string topic;
  std::int32_t partition = 0;
  std::int64_t offset = 0;
  json key;
  schema_ptr key_schema;
  json value;
  schema_ptr value_schema;
  std::vector<header> headers;
  std::int64_t timestamp_ms = -1;
  // Where the record was consumed, when a transformation changed its topic or partition
  // (Kafka's originalTopic / originalKafkaPartition); offsets are committed there.
  std::optional<topic_partition> original;

  topic_partition consumed_from() const {
    return original ? *original : topic_partition{topic, partition};
  }
};

// Next offset to consume per partition (Kafka's committed-offset convention: last offset + 1).
using offset_map = std::map<topic_partition, std::int64_t>;

}  // namespace ferry::api
