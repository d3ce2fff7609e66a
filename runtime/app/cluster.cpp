#include "cluster.hpp"

#include <algorithm>

#include "ferry/api/errors.hpp"
#include "ferry/clients/topic_admin.hpp"
#include "ferry/core/log.hpp"

namespace ferry::app {

namespace {

constexpr const char* k_log = "cluster";
constexpr auto k_admin_timeout = std::chrono::seconds(30);
constexpr auto k_read_timeout = std::chrono::seconds(60);

// Creates the topic when missing (compacted) and checks what Kafka Connect checks. Returns its
// partition count.
int ensure_internal_topic(const core::worker_config& config, const std::string& key,
                          const std::string& topic, int partitions, int replication) {
  clients::topic_spec spec{.name = topic,
                           .partitions = partitions,
                           .replication_factor = replication,
                           .configs = {{"cleanup.policy", "compact"}}};
  auto warn = [](const std::string& m) { log::warn(k_log, m); };
  auto d = clients::ensure_topic(config.admin_config(), spec, k_admin_timeout, warn);
  if (!d.exists) {
    throw api::config_error("Invalid worker configuration:\n  - " + key + ": the topic " + topic +
                            " does not exist and could not be created; create it (compacted, " +
                            std::to_string(partitions) + " partition(s)) and start again");
  }
  if (d.cleanup_policy && d.cleanup_policy->find("delete") != std::string::npos) {
    throw api::config_error("Invalid worker configuration:\n  - " + key + ": the topic " + topic +
                            " has cleanup.policy=" + *d.cleanup_policy +
                            "; internal topics must be compacted only (cleanup.policy=compact), "
                            "or old records would be deleted");
  }
  return d.partitions;
}

storage::kafka_store_options store_options(const core::worker_config& config,
                                           const std::string& topic, const char* name) {
  storage::kafka_store_options o;
  o.topic = topic;
  o.producer = config.internal_config();
  o.consumer = config.internal_config();
  o.write_timeout = std::max(config.offset_flush_timeout, std::chrono::milliseconds(30000));
  o.warn = [name](const std::string& m) { log::warn(name, m); };
  return o;
}

}  // namespace

cluster::cluster(std::shared_ptr<const core::worker_config> config,
                 std::shared_ptr<const core::config_providers> providers,
                 const api::plugin_registry& registry) {
  const auto& d = config->distributed;
  int config_partitions = ensure_internal_topic(*config, "config.storage.topic", d.config_topic, 1,
                                                d.config_replication);
  if (config_partitions != 1) {
    throw api::config_error("Invalid worker configuration:\n  - config.storage.topic: the topic " +
                            d.config_topic + " has " + std::to_string(config_partitions) +
                            " partitions; it must have exactly 1, so that every worker reads "
                            "connector configs in the same order");
  }
  ensure_internal_topic(*config, "offset.storage.topic", d.offset_topic, d.offset_partitions,
                        d.offset_replication);
  ensure_internal_topic(*config, "status.storage.topic", d.status_topic, d.status_partitions,
                        d.status_replication);
  int slots = ensure_internal_topic(*config, "slots.storage.topic", d.slots_topic, d.slots,
                                    d.config_replication);
  offsets_ = std::make_shared<storage::kafka_offset_store>(
      store_options(*config, d.offset_topic, "offset-log"));
  statuses_ = std::make_shared<storage::kafka_status_store>(
      store_options(*config, d.status_topic, "status-log"));
  herder_ = std::make_unique<core::distributed_herder>(
      registry, core::task_environment{config, offsets_, statuses_, std::move(providers)}, slots);
}

cluster::~cluster() {
  stop();
}

void cluster::start() {
  offsets_->start(k_read_timeout);
  statuses_->start(k_read_timeout);
  herder_->start();
  started_ = true;
}

void cluster::stop() {
  if (!started_) return;
  started_ = false;
  herder_->stop();
  statuses_->stop();
  offsets_->stop();
}

}  // namespace ferry::app
