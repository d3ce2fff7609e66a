#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "ferry/api/json.hpp"
#include "ferry/api/record.hpp"

namespace ferry::transforms {

// The record a transformation chain works on: the part of Kafka Connect's ConnectRecord that
// transformations may read or change. Source and sink records are moved in and out of it (no
// copies), so running the chain costs what the transformations themselves do.
struct connect_record {
  std::string topic;
  std::optional<std::int32_t> partition;
  json key;
  api::schema_ptr key_schema;
  json value;
  api::schema_ptr value_schema;
  std::vector<api::header> headers;
  std::optional<std::int64_t> timestamp_ms;
  // Kafka offset of a sink record (InsertField's offset.field); nullopt for source records.
  std::optional<std::int64_t> kafka_offset;
};

// Moves the transformable parts out of `r` (which keeps its source partition and offset).
connect_record take_record(api::source_record& r);
// Moves a transformed record back into `r`, the record it was taken from.
void put_record(connect_record&& c, api::source_record& r);

connect_record take_record(api::sink_record& r);
// A partition or timestamp the chain removed falls back to the sink record's own (-1 for none).
void put_record(connect_record&& c, api::sink_record& r);

}  // namespace ferry::transforms
