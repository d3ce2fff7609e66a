#pragma once

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

}  // namespace ferry::redis
