#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/fnv1a.hpp"
#include "ferry/api/record.hpp"
#include "ferry/clients/redis_connection.hpp"

namespace ferry::redis::keys {

// The Lua script that reads one key's whole state in one atomic step: {type, expire-at, value},
// or {"none"} when the key does not exist. Expire-at is PEXPIRETIME (Unix ms, -1 without expiry;
// computed from TIME + PTTL on servers older than 7.0). Sent with EVAL <script> 1 <key>.
std::string_view read_script();

// One key as read by read_script(), turned into the record value redis-kafka-connect's keys
// source writes (struct com.redis.kafka.connect.keys.Value: key, ttl, type and one of hash,
// string, json, list, set, zset) plus ferry's `stream` field. Sets, hashes and sorted sets are
// in a canonical order (sorted), so one state always gives the same value and digest.
struct key_state {
  bool exists = false;
  json value;                // the record value, without the "event" field
  std::uint64_t digest = 0;  // of `value`: equal digests mean an unchanged key
};

// Decodes the script's reply for `key`. Throws api::connect_error on an error reply other than
// WRONGTYPE (a key whose type changed under the script: the caller reads it again).
key_state decode_state(const std::string& key, clients::redis_reply_view reply);

// The reply is -WRONGTYPE (or another reply worth one more read).
bool is_retry_reply(clients::redis_reply_view reply);

using redis::fnv1a64;
std::string digest_hex(std::uint64_t digest);
std::optional<std::uint64_t> parse_digest(const json& offset);

// `text` as valid UTF-8: each byte that is not part of a well-formed sequence becomes U+FFFD
// (what Java's UTF-8 decoding, and so redis-kafka-connect, does). JSON text must be UTF-8.
std::string to_utf8(std::string_view text);

// The keyspace channel prefix of a database ("__keyspace@0__:") and the key a channel names,
// or nullopt when the channel is not one of that database's keyspace channels.
std::string keyspace_prefix(int database);
std::optional<std::string_view> key_of_channel(std::string_view channel, std::string_view prefix);

// What is missing from a notify-keyspace-events value for key capture: empty when it has K and
// every event class (A, or g$lshzxet); otherwise the missing flags, e.g. "K" or "xe".
std::string missing_notify_flags(std::string_view flags);

// Whether an event removes the key (del, expired, evicted, ...), so an absent key is reported
// with it; other events that find the key gone are reported as "del".
bool is_removal_event(std::string_view event);

// The value schema, in Kafka Connect's JSON schema form.
const api::schema_ptr& key_value_schema();

}  // namespace ferry::redis::keys
