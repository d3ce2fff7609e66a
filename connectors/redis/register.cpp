#include "ferry/redis/register.hpp"

#include "keys_source/keys_source_config.hpp"
#include "keys_source/keys_source_connector.hpp"
#include "keys_source/keys_source_task.hpp"
#include "pubsub_source/pubsub_source_config.hpp"
#include "pubsub_source/pubsub_source_connector.hpp"
#include "pubsub_source/pubsub_source_task.hpp"
#include "list_source/list_source_config.hpp"
#include "list_source/list_source_connector.hpp"
#include "list_source/list_source_task.hpp"
#include "sink/redis_sink_config.hpp"
#include "sink/redis_sink_connector.hpp"
#include "sink/redis_sink_task.hpp"
#include "stream_source/stream_source_config.hpp"
#include "stream_source/stream_source_connector.hpp"
#include "stream_source/stream_source_task.hpp"

#ifndef FERRY_VERSION
#define FERRY_VERSION "0.0.0"
#endif

namespace ferry::redis {

void register_redis_connectors(api::plugin_registry& registry) {
  registry.add({.class_name = "ferry.redis.RedisSinkConnector",
                .aliases = {"com.redis.kafka.connect.RedisSinkConnector"},
                .type = api::connector_type::sink,
                .version = FERRY_VERSION,
                .config = [] { return redis_sink_config_def(); },
                .make_connector = [] { return std::make_unique<redis_sink_connector>(); },
                .make_source_task = nullptr,
                .make_sink_task = [] { return std::make_unique<redis_sink_task>(); }});
  registry.add({.class_name = "ferry.redis.RedisStreamSourceConnector",
                .aliases = {"com.redis.kafka.connect.RedisStreamSourceConnector"},
                .type = api::connector_type::source,
                .version = FERRY_VERSION,
                .config = [] { return stream_source_config_def(); },
                .make_connector = [] { return std::make_unique<stream_source_connector>(); },
                .make_source_task = [] { return std::make_unique<stream_source_task>(); },
                .make_sink_task = nullptr});
  registry.add({.class_name = "ferry.redis.RedisListSourceConnector",
                .aliases = {},
                .type = api::connector_type::source,
                .version = FERRY_VERSION,
                .config = [] { return list_source_config_def(); },
                .make_connector = [] { return std::make_unique<list_source_connector>(); },
                .make_source_task = [] { return std::make_unique<list_source_task>(); },
                .make_sink_task = nullptr});
  registry.add({.class_name = "ferry.redis.RedisKeysSourceConnector",
                .aliases = {"com.redis.kafka.connect.RedisKeysSourceConnector"},
                .type = api::connector_type::source,
                .version = FERRY_VERSION,
                .config = [] { return keys_source_config_def(); },
                .make_connector = [] { return std::make_unique<keys_source_connector>(); },
                .make_source_task = [] { return std::make_unique<keys_source_task>(); },
                .make_sink_task = nullptr});
  registry.add({.class_name = "ferry.redis.RedisPubSubSourceConnector",
                .aliases = {},
                .type = api::connector_type::source,
                .version = FERRY_VERSION,
                .config = [] { return pubsub_source_config_def(); },
                .make_connector = [] { return std::make_unique<pubsub_source_connector>(); },
                .make_source_task = [] { return std::make_unique<pubsub_source_task>(); },
                .make_sink_task = nullptr});
}

}  // namespace ferry::redis
