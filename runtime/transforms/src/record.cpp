#include "ferry/transforms/record.hpp"

namespace ferry::transforms {

connect_record take_record(api::source_record& r) {
  return connect_record{.topic = std::move(r.topic),
                        .partition = r.partition,
                        .key = std::move(r.key),
                        .key_schema = std::move(r.key_schema),
                        .value = std::move(r.value),
                        .value_schema = std::move(r.value_schema),
                        .headers = std::move(r.headers),
                        .timestamp_ms = r.timestamp_ms,
                        .kafka_offset = std::nullopt};
}

void put_record(connect_record&& c, api::source_record& r) {
  r.topic = std::move(c.topic);
  r.partition = c.partition;
  r.key = std::move(c.key);
  r.key_schema = std::move(c.key_schema);
  r.value = std::move(c.value);
  r.value_schema = std::move(c.value_schema);
  r.headers = std::move(c.headers);
  r.timestamp_ms = c.timestamp_ms;
}

connect_record take_record(api::sink_record& r) {
  return connect_record{.topic = std::move(r.topic),
                        .partition = r.partition,
                        .key = std::move(r.key),
                        .key_schema = std::move(r.key_schema),
                        .value = std::move(r.value),
                        .value_schema = std::move(r.value_schema),
                        .headers = std::move(r.headers),
                        .timestamp_ms = r.timestamp_ms >= 0
                                            ? std::optional<std::int64_t>(r.timestamp_ms)
                                            : std::nullopt,
                        .kafka_offset = r.offset};
}

void put_record(connect_record&& c, api::sink_record& r) {
  r.topic = std::move(c.topic);
  if (c.partition) r.partition = *c.partition;
  r.key = std::move(c.key);
  r.key_schema = std::move(c.key_schema);
  r.value = std::move(c.value);
  r.value_schema = std::move(c.value_schema);
  r.headers = std::move(c.headers);
  r.timestamp_ms = c.timestamp_ms.value_or(-1);
}

}  // namespace ferry::transforms
