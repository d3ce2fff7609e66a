#pragma once

#include <memory>

#include "ferry/api/plugin_registry.hpp"
#include "ferry/core/config_providers.hpp"
#include "ferry/core/distributed_herder.hpp"
#include "ferry/core/worker_config.hpp"
#include "ferry/storage/kafka_stores.hpp"

namespace ferry::app {

// Distributed mode's parts, in the order they start: the internal topics (checked, created when
// missing and the brokers allow it), the Kafka-backed offset and status stores, the herder.
class cluster {
 public:
  // Checks or creates the internal topics; throws api::config_error when one is unusable (a
  // config topic with several partitions, a delete cleanup policy, a topic that is missing and
  // cannot be created) and api::connect_error when Kafka cannot be reached.
  cluster(std::shared_ptr<const core::worker_config> config,
          std::shared_ptr<const core::config_providers> providers,
          const api::plugin_registry& registry);
  ~cluster();

  void start();
  void stop();
  core::distributed_herder& herder() { return *herder_; }

 private:
  std::shared_ptr<storage::kafka_offset_store> offsets_;
  std::shared_ptr<storage::kafka_status_store> statuses_;
  std::unique_ptr<core::distributed_herder> herder_;
  bool started_ = false;
};

}  // namespace ferry::app
