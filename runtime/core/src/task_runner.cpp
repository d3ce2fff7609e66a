#include "ferry/core/task_runner.hpp"

#include <thread>

#include "ferry/core/auto_restart.hpp"
#include "ferry/core/connector_config.hpp"
#include "ferry/core/log.hpp"

namespace ferry::core {

task_runner::task_runner(std::string connector, int task, const api::connector_plugin& plugin,
                         api::config_map task_config, api::config_map connector_config,
                         storage::target_state state, task_environment env)
    : connector_(std::move(connector)),
      task_(task),
      plugin_(plugin),
      task_config_(std::move(task_config)),
      connector_config_(std::move(connector_config)),
      env_(std::move(env)),
      target_(state) {}

void task_runner::start() {
  std::thread([self = shared_from_this()] { self->thread_main(); }).detach();
}

void task_runner::thread_main() {
  log::set_thread_context("connector=" + connector_ + " task=" + std::to_string(task_));
  resolved_config resolved;  // its secrets redact what this thread logs and reports
  const api::config_map raw_task = task_config_, raw_connector = connector_config_;
  metrics_ = env_.metrics->add(connector_, task_, plugin_.type == api::connector_type::sink);
  // Task configs carry the connector's keys; a task may run on another worker than its connector.
  register_config_secrets(&plugin_, raw_task);
  register_config_secrets(&plugin_, raw_connector);
  std::optional<restart_backoff> restarts;
  for (;;) {
    auto began = std::chrono::steady_clock::now();
    std::string trace;
    try {
      if (!restarts) restarts.emplace(restart_policy::from(connector_config_));
      if (env_.providers) {  // again at each restart: a rotated secret is picked up
        auto task = env_.providers->resolve(raw_task);
        auto conn = env_.providers->resolve(raw_connector);
        task_config_ = std::move(task.values);
        connector_config_ = std::move(conn.values);
        register_resolved_secrets(&plugin_, task);
        register_resolved_secrets(&plugin_, conn);
        resolved.secrets = std::move(task.secrets);
        resolved.secrets.insert(resolved.secrets.end(), conn.secrets.begin(), conn.secrets.end());
        log::set_thread_redactions(resolved.secrets);
      }
      run();
      break;
    } catch (const std::exception& e) {
      trace = resolved.redact(e.what());
    } catch (...) {
      trace = "unknown exception";
    }
    log::error("task", "Task failed: ", trace);
    auto delay = restarts && !stop_requested()
                     ? restarts->next(std::chrono::steady_clock::now() - began)
                     : std::nullopt;
    if (!delay) {
      report(storage::connector_state::failed, trace);
      break;
    }
    report(storage::connector_state::failed, trace + "\n\n" + restarts->describe(*delay));
    log::info("task", "Restarting the task in ", delay->count(), " ms (attempt ",
              restarts->attempt(), ")");
    pause_for(*delay);
    if (stop_requested()) break;
    report(storage::connector_state::restarting);
  }
  env_.metrics->remove(metrics_);
  {
    std::lock_guard lock(mutex_);
    done_ = true;
    work_done_ = true;
  }
  cv_.notify_all();
}

bool task_runner::wait_stopped(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  return cv_.wait_for(lock, timeout, [this] { return done_; });
}

bool task_runner::wait_work_done(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  return cv_.wait_for(lock, timeout, [this] { return work_done_; });
}

void task_runner::work_done() {
  {
    std::lock_guard lock(mutex_);
    work_done_ = true;
  }
  cv_.notify_all();
}

void task_runner::request_stop() {
  {
    std::lock_guard lock(mutex_);
    stop_requested_.store(true);
  }
  cv_.notify_all();
}

std::string task_runner::converter_class(bool is_key) const {
  const std::string key = is_key ? "key.converter" : "value.converter";
  if (auto it = connector_config_.find(key); it != connector_config_.end() && !it->second.empty()) {
    return it->second;
  }
  auto wit = env_.worker->raw.find(key);
  return wit != env_.worker->raw.end() ? wit->second
                                       : "org.apache.kafka.connect.json.JsonConverter";
}

std::unique_ptr<converter> task_runner::make_task_converter(bool is_key) const {
  const std::string key = is_key ? "key.converter" : "value.converter";
  auto it = connector_config_.find(key);
  if (it != connector_config_.end() && !it->second.empty()) {
    api::config_map settings;
    for (const auto& [k, v] : connector_config_) {
      if (k.size() > key.size() + 1 && k.starts_with(key + "."))
        settings[k.substr(key.size() + 1)] = v;
    }
    return make_converter(it->second, settings, is_key);
  }
  return make_converter(converter_class(is_key), env_.worker->with_prefix(key + "."), is_key);
}

clients::kafka_conf task_runner::make_client_conf(const clients::client_config& config,
                                                  const char* role) const {
  std::vector<std::string> ignored;
  auto conf = clients::make_kafka_conf(config, &ignored);
  for (const auto& k : ignored) {
    log::warn("task", role, " setting ", k, " is unknown to librdkafka; ignored");
  }
  return conf;
}

void task_runner::record_new_topic(const std::string& topic) {
  last_topic_ = topic;
  if (reported_topics_.insert(topic).second) env_.statuses->put_topic(connector_, topic);
}

void task_runner::refresh_topic_tracking() {
  auto generation = env_.statuses->topics_generation(connector_);
  if (generation == topics_generation_) return;
  topics_generation_ = generation;
  reported_topics_.clear();
  last_topic_.clear();
}

void task_runner::set_target_state(storage::target_state s) {
  target_.store(s);
  cv_.notify_all();
}

void task_runner::report(storage::connector_state state, const std::string& trace) {
  env_.statuses->put_task(
      connector_, task_,
      storage::status{
          .state = state, .trace = trace, .worker_id = env_.worker->worker_id(), .generation = 0});
}

error_handler::wait_function task_runner::retry_wait(
    std::function<void(std::chrono::milliseconds)> sleep) {
  retry_wait_hooks hooks;
  hooks.stopping = [this] { return stop_requested(); };
  hooks.paused = [this] { return target_state() == storage::target_state::paused; };
  hooks.report_pause = [this](bool paused) {
    report(paused ? storage::connector_state::paused : storage::connector_state::running);
  };
  hooks.sleep = std::move(sleep);
  return [hooks](std::chrono::milliseconds d) { return wait_between_retries(d, hooks); };
}

void task_runner::pause_for(std::chrono::milliseconds d) {
  std::unique_lock lock(mutex_);
  cv_.wait_for(lock, d, [this] { return stop_requested(); });
}

}  // namespace ferry::core
