#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "ferry/api/config_def.hpp"
#include "ferry/clients/redis_endpoint.hpp"

namespace ferry::redis {

// Connection keys shared by every Redis connector, named as in redis-kafka-connect 1.x:
// redis.uri (wins over host/port), redis.host, redis.port, redis.username, redis.password,
// redis.database, redis.timeout (seconds), redis.cluster, redis.tls, redis.insecure,
// redis.cacert, redis.key.cert, redis.key.file, redis.key.password.
void define_connection_keys(api::config_def& def);

// The endpoint those keys describe. Throws api::config_error on a malformed URI, or, with TLS
// on, on a TLS file that is missing or does not parse (it reads them: call it at start, not
// from validation).
clients::redis_endpoint endpoint_from(const api::parsed_config& config);

// Deals `items` out to `tasks` comma-separated lists, round-robin, the first item to list
// `first % tasks` (so that two kinds of item can share one deal). Each item lands in one list.
inline void deal_round_robin(const std::vector<std::string>& items, std::vector<std::string>& lists,
                             std::size_t first = 0) {
  for (std::size_t i = 0; i < items.size(); ++i) {
    auto& l = lists[(first + i) % lists.size()];
    l += (l.empty() ? "" : ",") + items[i];
  }
}

}  // namespace ferry::redis
