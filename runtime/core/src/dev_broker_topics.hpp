#pragma once

#include <string>

#include "ferry/clients/topic_admin.hpp"

namespace ferry::core {

// Creates a topic through the control channel of ferry-kafka-dev ("host:port", its
// `create-topic NAME PARTITIONS RF` command): the development broker (librdkafka's mock
// cluster) has no CreateTopics, so this is the only way a source's topic.creation.* settings
// can give a topic its partition count there. Used only when the worker names the channel
// (dev.broker.control) and the Admin API could not create the topic. Topic configs cannot be
// applied there. Returns "" on success, else why not; bounded by a 5 s deadline.
std::string create_topic_on_dev_broker(const std::string& control, const clients::topic_spec& spec);

}  // namespace ferry::core
