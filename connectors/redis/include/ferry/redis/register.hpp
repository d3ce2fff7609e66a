#pragma once

#include "ferry/api/plugin_registry.hpp"

namespace ferry::redis {

// Adds the Redis connectors (ferry.redis.* and their redis-kafka-connect aliases).
void register_redis_connectors(api::plugin_registry& registry);

}  // namespace ferry::redis
