#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "ferry/clients/kafka_log.hpp"
#include "ferry/core/control_queue.hpp"
#include "ferry/core/herder_base.hpp"
#include "ferry/core/slot_placement.hpp"
#include "ferry/core/worker.hpp"
#include "ferry/storage/config_topic_state.hpp"
#include "ferry/storage/kafka_stores.hpp"

namespace ferry::core {

// The herder of a distributed worker (see runtime/core/README.md, "Distributed mode").
//  - Desired state: the config topic, replayed in order into config_topic_state by every worker.
//    REST writes from any worker append records and answer after reading them back.
//  - Who runs what: every connector and task sits in a slot (slot_placement, computed from the
//    same replay); the slots are the partitions of the slot topic, handed out to the workers of
//    the group by Kafka's group coordinator (roundrobin). A worker runs what is in its slots.
//  - Threads: the config log's reader applies records under mutex_; a membership thread polls
//    the group; the control thread (control_queue) starts and stops work to match (reconcile()).
//    REST reads take mutex_ only.
class distributed_herder final : public herder_base {
 public:
  // env.statuses and env.offsets must be the Kafka-backed stores; they are started by the
  // composition root before start().
  // `slots`: the partition count of the slot topic.
  distributed_herder(const api::plugin_registry& registry, task_environment env, int slots);
  ~distributed_herder() override;

  // Reads the config topic to its end and joins the group. Throws api::connect_error.
  void start();
  // Stops every connector and task here, leaves the group.
  void stop();

  bool ready() override;
  void check_responsive(std::chrono::milliseconds timeout) override {
    control_.submit("answering a health check", timeout, [] { return true; });
  }
  std::vector<std::string> connectors() override;
  put_result put_connector_config(const std::string& name, const api::config_map& config,
                                  bool allow_replace,
                                  std::optional<storage::target_state> initial_state) override;
  put_result patch_connector_config(const std::string& name, const json& patch) override;
  void delete_connector(const std::string& name) override;
  void pause_connector(const std::string& name) override;
  void resume_connector(const std::string& name) override;
  void stop_connector(const std::string& name) override;
  void restart_connector(const std::string& name) override;
  void restart_task(const std::string& name, int task) override;
  json alter_connector_offsets(const std::string& name, const json& offsets) override;
  json reset_connector_offsets(const std::string& name) override;

 protected:
  connector_view view(const std::string& name) override;

 private:
  using record = std::pair<std::string, std::optional<std::string>>;

  // REST threads: appends the records in order, then reads the topic back to its end (so the
  // answer reflects the write). Throws request_timeout_error past rest.request.timeout.ms.
  void write(const std::vector<record>& records, const std::string& what);
  void sync();  // read the config topic to its end
  std::chrono::milliseconds request_timeout() const;

  // Config log reader thread.
  void on_config_record(const clients::log_record& r);
  // Membership thread.
  void membership_loop();
  void set_assignment(std::optional<std::set<int>> slots);  // nullopt: revoked
  static void on_rebalance(rd_kafka_t* rk, rd_kafka_resp_err_t err,
                           rd_kafka_topic_partition_list_t* partitions, void* opaque);

  // Control thread.
  void request_reconcile();
  void reconcile();
  void on_task_configs(const std::string& name, int generation,
                       std::vector<api::config_map> configs);
  void restart_here(const std::string& name, bool include_tasks, bool only_failed);
  void restart_task_here(const std::string& name, int task);

  const distributed_settings& settings_;
  std::unique_ptr<clients::kafka_log> config_log_;
  std::unique_ptr<worker> worker_;
  control_queue control_{"herder"};

  mutable std::mutex mutex_;  // guards the desired state below
  storage::config_topic_state state_;
  slot_placement placement_;
  std::set<int> owned_slots_;
  bool assigned_ = false;  // the group gave this worker its first assignment
  // Between a revocation and the next assignment: every task here is held (not reading), so a
  // task that moves cannot read on its old and its new worker at once.
  bool rebalancing_ = false;
  std::atomic<bool> config_read_{false};
  std::atomic<bool> reconcile_pending_{false};
  std::atomic<std::uint64_t> creates_{0};  // numbers this worker's create tokens

  clients::kafka_handle membership_;
  std::thread membership_thread_;
  std::atomic<bool> stopping_{false};

  // Control thread only: what runs here, and with what.
  struct running_connector {
    api::config_map config;
    storage::target_state state;
    int generation = 0;
    bool regenerating = false;  // started to replace incomplete task configs
  };
  struct running_task {
    api::config_map config, connector_config;
    storage::target_state state;
  };
  std::map<std::string, running_connector> connectors_here_;
  std::map<std::pair<std::string, int>, running_task> tasks_here_;
  int generation_ = 0;
};

}  // namespace ferry::core
