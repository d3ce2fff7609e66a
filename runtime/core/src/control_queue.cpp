#include "ferry/core/control_queue.hpp"

#include "ferry/core/log.hpp"

namespace ferry::core {

void control_queue::start() {
  thread_ = std::thread([this] { loop(); });
}

void control_queue::stop(std::function<void()> last) {
  if (!thread_.joinable()) return;
  if (last) post(std::move(last));
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void control_queue::post(std::function<void()> job) {
  {
    std::lock_guard lock(mutex_);
    jobs_.push_back(std::move(job));
  }
  cv_.notify_one();
}

void control_queue::loop() {
  for (;;) {
    std::function<void()> job;
    {
      std::unique_lock lock(mutex_);
      cv_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
      if (jobs_.empty()) return;  // stopping and drained
      job = std::move(jobs_.front());
      jobs_.pop_front();
    }
    try {
      job();
    } catch (const std::exception& e) {
      log::error(log_name_, "Control job failed: ", e.what());
    }
  }
}

}  // namespace ferry::core
