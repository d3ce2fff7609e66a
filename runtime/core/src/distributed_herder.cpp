#include "ferry/core/distributed_herder.hpp"

#include "ferry/api/errors.hpp"
#include "ferry/core/errors.hpp"
#include "ferry/core/log.hpp"

namespace ferry::core {

namespace {

constexpr const char* k_log = "herder";
constexpr auto k_start_timeout = std::chrono::seconds(60);

namespace records = storage::records;
using change_kind = storage::config_topic_state::change::kind;

// At least 1 ms: a zero timeout would mean "do not wait at all" to some librdkafka calls.
std::chrono::milliseconds left_until(std::chrono::steady_clock::time_point deadline) {
  return std::chrono::milliseconds(std::max(clients::ms_left(deadline), 1));
}

}  // namespace

distributed_herder::distributed_herder(const api::plugin_registry& registry, task_environment env,
                                       int slots)
    : herder_base(registry, env),
      settings_(env_.worker->distributed),
      worker_(std::make_unique<worker>(env_)),
      placement_(slots) {
  clients::kafka_log_options o;
  o.topic = settings_.config_topic;
  o.producer = env_.worker->internal_config();
  o.consumer = env_.worker->internal_config();
  o.on_record = [this](const clients::log_record& r) { on_config_record(r); };
  o.warn = [](const std::string& m) { log::warn("config-log", m); };
  config_log_ = std::make_unique<clients::kafka_log>(std::move(o));
}

distributed_herder::~distributed_herder() {
  stop();
}

// ---- start and stop ----

void distributed_herder::start() {
  control_.start();
  config_log_->start(k_start_timeout);
  config_read_.store(true);
  {
    std::lock_guard lock(mutex_);
    log::info(k_log, "Read ", state_.connectors().size(), " connector(s) from ",
              settings_.config_topic);
  }

  auto config = env_.worker->internal_config();
  config["group.id"] = settings_.group_id;
  config["client.id"] = "ferry-worker-" + env_.worker->worker_id();
  config["partition.assignment.strategy"] = "roundrobin";
  config["session.timeout.ms"] = std::to_string(settings_.session_timeout.count());
  config["heartbeat.interval.ms"] = std::to_string(settings_.heartbeat_interval.count());
  config["enable.auto.commit"] = "false";
  config["auto.offset.reset"] = "latest";
  std::vector<std::string> ignored;
  auto conf = clients::make_kafka_conf(config, &ignored);
  rd_kafka_conf_set_rebalance_cb(conf.get(), &distributed_herder::on_rebalance);
  rd_kafka_conf_set_opaque(conf.get(), this);
  membership_ = clients::make_consumer(std::move(conf));
  clients::topic_partition_list topics(rd_kafka_topic_partition_list_new(1));
  rd_kafka_topic_partition_list_add(topics.get(), settings_.slots_topic.c_str(),
                                    RD_KAFKA_PARTITION_UA);
  if (auto err = rd_kafka_subscribe(membership_.get(), topics.get())) {
    throw api::connect_error("Cannot join group " + settings_.group_id + ": " +
                             clients::kafka_error_text(err));
  }
  membership_thread_ = std::thread([this] { membership_loop(); });
  log::info(k_log, "Joining cluster ", settings_.group_id, " (", placement_.slots(), " slots in ",
            settings_.slots_topic, ")");
}

void distributed_herder::stop() {
  if (stopping_.exchange(true)) return;
  if (membership_thread_.joinable()) membership_thread_.join();  // leaves the group
  control_.stop([this] {
    herder_stage::scope busy(control_.stage(), "stopping every connector and task to shut down");
    worker_->stop_all();
    // The work is up for grabs: say so until its next owner reports.
    for (const auto& [name, c] : connectors_here_) {
      env_.statuses->put_connector(name, own_status(storage::connector_state::unassigned));
    }
    for (const auto& [key, t] : tasks_here_) {
      env_.statuses->put_task(key.first, key.second,
                              own_status(storage::connector_state::unassigned));
    }
    connectors_here_.clear();
    tasks_here_.clear();
  });
  config_log_->stop();
}

bool distributed_herder::ready() {
  std::lock_guard lock(mutex_);
  return config_read_.load() && assigned_;
}

// ---- membership (its own thread) ----

void distributed_herder::membership_loop() {
  log::set_thread_context("group=" + settings_.group_id);
  while (!stopping_.load()) {
    if (auto* m = rd_kafka_consumer_poll(membership_.get(), 100)) {
      if (m->err && m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
        log::warn(k_log, "Group membership: ", rd_kafka_message_errstr(m));
      }
      rd_kafka_message_destroy(m);
    }
  }
  rd_kafka_consumer_close(membership_.get());  // leaves the group; its slots move on
  membership_.reset();
}

void distributed_herder::on_rebalance(rd_kafka_t* rk, rd_kafka_resp_err_t err,
                                      rd_kafka_topic_partition_list_t* partitions, void* opaque) {
  auto* self = static_cast<distributed_herder*>(opaque);
  if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
    rd_kafka_assign(rk, partitions);
    std::set<int> slots;
    for (int i = 0; i < partitions->cnt; ++i) slots.insert(partitions->elems[i].partition);
    self->set_assignment(std::move(slots));
    return;
  }
  // Revoked: hold every task (no new reads) until the next assignment says what moves; what
  // stays then resumes without a restart. The group hands out no new assignment before every
  // member has rejoined, and a member rejoins only after this callback returns, so a moved task
  // is held here before its new owner starts it. If the membership itself was lost, others may
  // own it all already: stop everything.
  bool lost = rd_kafka_assignment_lost(rk);
  {
    std::lock_guard lock(self->mutex_);
    self->rebalancing_ = true;
    self->worker_->hold_tasks(true);
  }
  log::info(k_log, "The group is rebalancing; holding this worker's tasks until it is done");
  rd_kafka_assign(rk, nullptr);
  if (lost) {
    log::warn(k_log,
              "Lost the group membership; stopping all work until the group takes "
              "this worker back");
    self->set_assignment(std::set<int>{});
  }
}

void distributed_herder::set_assignment(std::optional<std::set<int>> slots) {
  {
    std::lock_guard lock(mutex_);
    if (slots) owned_slots_ = std::move(*slots);
    assigned_ = true;
    rebalancing_ = false;
    env_.metrics->count_rebalance();
    log::info(k_log, "This worker owns ", owned_slots_.size(), " of ", placement_.slots(),
              " slots");
  }
  request_reconcile();
}

// ---- the config topic (reader thread) ----

void distributed_herder::on_config_record(const clients::log_record& r) {
  auto record = records::parse_config_record(r.key, r.value);
  if (auto* ignored = std::get_if<records::ignored_record>(&record)) {
    log::debug(k_log, "Config topic record ", ignored->key, " skipped: ", ignored->reason);
    return;
  }
  storage::config_topic_state::change change;
  {
    std::lock_guard lock(mutex_);
    change = state_.apply(record);
    switch (change.what) {
      case change_kind::connector_config:
        placement_.add_connector(change.connector);
        break;
      case change_kind::connector_removed:
        placement_.remove_connector(change.connector);
        break;
      case change_kind::tasks:
        if (const auto* c = state_.find(change.connector); c && !c->inconsistent) {
          placement_.set_tasks(change.connector, static_cast<int>(c->tasks.size()));
        }
        break;
      default:
        break;
    }
  }
  switch (change.what) {
    case change_kind::none:
      return;
    case change_kind::restart:
      control_.post([this, change] {
        restart_here(change.connector, change.restart.include_tasks, change.restart.only_failed);
      });
      return;
    case change_kind::restart_task:
      control_.post([this, change] { restart_task_here(change.connector, change.task); });
      return;
    default:
      request_reconcile();
  }
}

// ---- the control thread ----

void distributed_herder::request_reconcile() {
  if (reconcile_pending_.exchange(true)) return;  // one queued pass sees every change
  control_.post([this] {
    reconcile_pending_.store(false);
    reconcile();
  });
}

void distributed_herder::reconcile() {
  if (stopping_.load()) return;
  struct wanted_connector {
    api::config_map config;
    storage::target_state state;
    const api::connector_plugin* plugin;
    bool inconsistent;  // its last commit lacked task records: generate them again
  };
  struct wanted_task {
    api::config_map config, connector_config;
    storage::target_state state;
    const api::connector_plugin* plugin;
  };
  std::map<std::string, wanted_connector> want_connectors;
  std::map<std::pair<std::string, int>, wanted_task> want_tasks;
  {
    std::lock_guard lock(mutex_);
    if (!assigned_) return;
    for (const auto& unit : placement_.units_in(owned_slots_)) {
      const auto* c = state_.find(unit.connector);
      if (!c) continue;
      const auto* plugin = plugin_of(c->config);
      if (!plugin) {
        auto cls = c->config.find("connector.class");
        if (unit.task < 0 && !env_.statuses->connector(unit.connector)) {
          env_.statuses->put_connector(
              unit.connector,
              own_status(storage::connector_state::failed,
                         "This worker has no connector class " +
                             (cls == c->config.end() ? std::string("(none given)") : cls->second)));
        }
        continue;
      }
      if (unit.task < 0) {
        want_connectors[unit.connector] = {c->config, c->state, plugin, c->inconsistent};
      } else if (c->state != storage::target_state::stopped &&
                 unit.task < static_cast<int>(c->tasks.size())) {
        want_tasks[{unit.connector, unit.task}] = {c->tasks[static_cast<std::size_t>(unit.task)],
                                                   c->config, c->state, plugin};
      }
    }
  }

  // Stop what no longer belongs here, or runs with an old config: tasks first, all at once.
  std::vector<std::pair<std::string, int>> to_stop;
  for (auto it = tasks_here_.begin(); it != tasks_here_.end();) {
    auto want = want_tasks.find(it->first);
    bool keep = want != want_tasks.end() && want->second.config == it->second.config &&
                want->second.connector_config == it->second.connector_config;
    if (keep) {
      ++it;
      continue;
    }
    to_stop.push_back(it->first);
    it = tasks_here_.erase(it);
  }
  if (!to_stop.empty()) {
    herder_stage::scope busy(control_.stage(),
                             "waiting for " + std::to_string(to_stop.size()) + " task(s) to stop");
    worker_->stop_tasks(to_stop);
  }
  for (auto it = connectors_here_.begin(); it != connectors_here_.end();) {
    auto want = want_connectors.find(it->first);
    bool keep = want != want_connectors.end() && want->second.config == it->second.config &&
                want->second.state != storage::target_state::stopped;
    // A running connector whose committed task configs lost records (compaction) is restarted
    // once, so it generates them again and writes a complete set.
    if (keep && !want->second.inconsistent) it->second.regenerating = false;
    if (keep && want->second.inconsistent && !it->second.regenerating) {
      keep = false;
      log::info(k_log, "The task configs of connector ", it->first,
                " are incomplete in the config topic; generating them again");
    }
    if (keep) {
      ++it;
      continue;
    }
    herder_stage::scope busy(control_.stage(), "waiting for connector " + it->first + " to stop");
    worker_->stop_connector(it->first);
    it = connectors_here_.erase(it);
  }

  // Start what is missing here; pass target-state changes on.
  for (const auto& [name, want] : want_connectors) {
    if (want.state == storage::target_state::stopped) {
      auto s = env_.statuses->connector(name);
      if (!s || s->state != storage::connector_state::stopped ||
          s->worker_id != env_.worker->worker_id()) {
        env_.statuses->put_connector(name, own_status(storage::connector_state::stopped));
      }
      continue;
    }
    auto here = connectors_here_.find(name);
    if (here == connectors_here_.end()) {
      int generation = ++generation_;
      worker_->start_connector(
          name, *want.plugin, want.config, want.state,
          // (an init-capture: clang 14 cannot capture a structured binding)
          [this, connector = name, generation](std::vector<api::config_map> configs) {
            control_.post([this, connector, generation, configs = std::move(configs)]() mutable {
              on_task_configs(connector, generation, std::move(configs));
            });
          });
      connectors_here_[name] = {want.config, want.state, generation, want.inconsistent};
    } else if (here->second.state != want.state) {
      worker_->set_connector_target_state(name, want.state);
      here->second.state = want.state;
    }
  }
  for (const auto& [key, want] : want_tasks) {
    auto here = tasks_here_.find(key);
    if (here == tasks_here_.end()) {
      worker_->start_task(key.first, key.second, *want.plugin, want.config, want.connector_config,
                          want.state);
      tasks_here_[key] = {want.config, want.connector_config, want.state};
    } else if (here->second.state != want.state) {
      worker_->set_tasks_target_state(key.first, want.state);
      for (auto& [k, t] : tasks_here_) {
        if (k.first == key.first) t.state = want.state;
      }
    }
  }
  // What moved away is stopped: the rest reads again, unless another rebalance began meanwhile.
  std::lock_guard lock(mutex_);
  if (!rebalancing_) worker_->hold_tasks(false);
}

// A connector running here generated its task configs: when they differ from the committed
// ones, write them (task records, then the commit that applies them all at once).
void distributed_herder::on_task_configs(const std::string& name, int generation,
                                         std::vector<api::config_map> configs) {
  auto here = connectors_here_.find(name);
  if (here == connectors_here_.end() || here->second.generation != generation) return;  // stale
  {
    std::lock_guard lock(mutex_);
    const auto* c = state_.find(name);
    if (!c || c->state == storage::target_state::stopped) return;
    if (!c->inconsistent && c->tasks == configs) return;
  }
  herder_stage::scope busy(control_.stage(), "writing the task configs of connector " + name +
                                                 " to " + settings_.config_topic);
  try {
    for (std::size_t i = 0; i < configs.size(); ++i) {
      config_log_->send(records::task_key(name, static_cast<int>(i)),
                        records::properties_value(configs[i]), env_.worker->rest_request_timeout);
    }
    config_log_->send(records::commit_key(name),
                      records::commit_value(static_cast<int>(configs.size())),
                      env_.worker->rest_request_timeout);
    log::info(k_log, "Wrote ", configs.size(), " task config(s) of connector ", name);
  } catch (const api::connect_error& e) {
    log::error(k_log, "Could not write the task configs of connector ", name, ": ", e.what());
    env_.statuses->put_connector(
        name,
        own_status(storage::connector_state::failed,
                   std::string("Could not write task configs to the config topic: ") + e.what()));
  }
}

void distributed_herder::restart_here(const std::string& name, bool include_tasks,
                                      bool only_failed) {
  auto failed = [](const std::optional<storage::status>& s) {
    return s && s->state == storage::connector_state::failed;
  };
  if (connectors_here_.count(name) && (!only_failed || failed(env_.statuses->connector(name)))) {
    herder_stage::scope busy(control_.stage(), "restarting connector " + name);
    worker_->stop_connector(name);
    connectors_here_.erase(name);
  }
  if (include_tasks) {
    auto statuses = env_.statuses->tasks(name);
    for (auto it = tasks_here_.begin(); it != tasks_here_.end();) {
      bool restart = it->first.first == name &&
                     (!only_failed ||
                      (statuses.count(it->first.second) && failed(statuses.at(it->first.second))));
      if (!restart) {
        ++it;
        continue;
      }
      herder_stage::scope busy(control_.stage(),
                               "restarting task " + name + "-" + std::to_string(it->first.second));
      worker_->stop_task(name, it->first.second);
      it = tasks_here_.erase(it);
    }
  }
  reconcile();
}

void distributed_herder::restart_task_here(const std::string& name, int task) {
  auto it = tasks_here_.find({name, task});
  if (it == tasks_here_.end()) return;  // another worker's
  herder_stage::scope busy(control_.stage(),
                           "restarting task " + name + "-" + std::to_string(task));
  worker_->stop_task(name, task);
  tasks_here_.erase(it);
  reconcile();
}

// ---- REST (any thread) ----

std::chrono::milliseconds distributed_herder::request_timeout() const {
  return env_.worker->rest_request_timeout;
}

void distributed_herder::sync() {
  write({}, "reading the config topic " + settings_.config_topic);
}

void distributed_herder::write(const std::vector<record>& records_to_write,
                               const std::string& what) {
  auto started = std::chrono::system_clock::now();
  auto deadline = std::chrono::steady_clock::now() + request_timeout();
  try {
    for (const auto& [key, value] : records_to_write) {
      config_log_->send(key, value, left_until(deadline));
    }
    config_log_->read_to_end(left_until(deadline));
  } catch (const api::connect_error& e) {
    if (std::chrono::steady_clock::now() >= deadline) {
      throw request_timeout_error("Request timed out. The worker is currently " + what +
                                  ", which began at " + log::utc_timestamp(started) + " (" +
                                  e.what() + ")");
    }
    throw herder_error(500, "Could not use the config topic " + settings_.config_topic + " while " +
                                what + ": " + e.what());
  }
}

std::vector<std::string> distributed_herder::connectors() {
  std::lock_guard lock(mutex_);
  std::vector<std::string> names;
  for (const auto& [name, c] : state_.connectors()) names.push_back(name);
  return names;
}

herder_base::connector_view distributed_herder::view(const std::string& name) {
  std::lock_guard lock(mutex_);
  const auto* c = state_.find(name);
  if (!c) throw not_found_error("Connector " + name + " not found");
  return {c->config, c->state, c->tasks, plugin_of(c->config)};
}

put_result distributed_herder::put_connector_config(
    const std::string& name, const api::config_map& input, bool allow_replace,
    std::optional<storage::target_state> initial_state) {
  auto config = checked_config(name, input);
  sync();
  bool existed;
  {
    std::lock_guard lock(mutex_);
    existed = state_.find(name) != nullptr;
  }
  if (existed && !allow_replace)
    throw already_exists_error("Connector " + name + " already exists");
  std::vector<record> out;
  std::string token;
  if (!existed) {
    // A create: only the first of concurrent creates of this name applies (create_value).
    token = env_.worker->worker_id() + "/" + std::to_string(++creates_);
    if (initial_state && *initial_state != storage::target_state::started) {
      out.emplace_back(records::target_state_key(name),
                       records::target_state_value(*initial_state));
    }
    out.emplace_back(records::connector_key(name), records::create_value(config, token));
  } else {
    out.emplace_back(records::connector_key(name), records::properties_value(config));
  }
  write(out, "writing the config of connector " + name);
  if (!existed) {
    std::lock_guard lock(mutex_);
    const auto* c = state_.find(name);
    if (c && c->create_token != token) {
      if (!allow_replace) {
        throw already_exists_error("Connector " + name + " already exists");
      }
      existed = true;  // another worker created it first; ours did not apply: write as update
    }
  }
  if (existed && !token.empty()) {
    write({{records::connector_key(name), records::properties_value(config)}},
          "writing the config of connector " + name);
  }
  log::info(k_log, existed ? "Updated" : "Created", " connector ", name);
  return put_result{!existed, info_json(name, view(name))};
}

put_result distributed_herder::patch_connector_config(const std::string& name, const json& patch) {
  sync();
  auto config = patched_config(view(name).config, patch);
  return put_connector_config(name, config, true, std::nullopt);
}

void distributed_herder::delete_connector(const std::string& name) {
  sync();
  view(name);
  write({{records::connector_key(name), std::nullopt},
         {records::target_state_key(name), std::nullopt}},
        "deleting connector " + name);
  env_.statuses->remove(name);
  log::info(k_log, "Deleted connector ", name);
}

void distributed_herder::pause_connector(const std::string& name) {
  sync();
  if (view(name).state == storage::target_state::stopped) return;  // as Kafka: stays stopped
  write({{records::target_state_key(name),
          records::target_state_value(storage::target_state::paused)}},
        "pausing connector " + name);
}

void distributed_herder::resume_connector(const std::string& name) {
  sync();
  view(name);
  write({{records::target_state_key(name),
          records::target_state_value(storage::target_state::started)}},
        "resuming connector " + name);
}

void distributed_herder::stop_connector(const std::string& name) {
  sync();
  view(name);
  // As Kafka Connect: the target state, then an empty set of task configs.
  write({{records::target_state_key(name),
          records::target_state_value(storage::target_state::stopped)},
         {records::commit_key(name), records::commit_value(0)}},
        "stopping connector " + name);
}

void distributed_herder::restart_connector(const std::string& name) {
  sync();
  view(name);
  write({{records::restart_key(name), records::restart_value(false, false)}},
        "restarting connector " + name);
}

void distributed_herder::restart_task(const std::string& name, int task) {
  sync();
  auto r = view(name);
  if (task < 0 || task >= static_cast<int>(r.tasks.size())) {
    throw not_found_error("Task " + name + "-" + std::to_string(task) + " not found");
  }
  write({{records::restart_task_key(name, task), std::string("{}")}},
        "restarting task " + name + "-" + std::to_string(task));
}

json distributed_herder::alter_connector_offsets(const std::string& name, const json& body) {
  check_offsets_body(body);
  sync();
  return alter_offsets_now(name, body);
}

json distributed_herder::reset_connector_offsets(const std::string& name) {
  sync();
  return reset_offsets_now(name);
}

}  // namespace ferry::core
