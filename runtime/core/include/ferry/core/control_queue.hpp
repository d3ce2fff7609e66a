#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "ferry/core/errors.hpp"
#include "ferry/core/herder_stage.hpp"

namespace ferry::core {

// A herder's control thread: jobs run one at a time, in the order posted. REST threads submit
// a job and wait for its result at most a timeout; a timeout says what the thread is busy with
// (herder_stage). Jobs that throw are logged and do not stop the thread.
class control_queue {
 public:
  explicit control_queue(std::string log_name) : log_name_(std::move(log_name)) {}
  ~control_queue() { stop(); }
  control_queue(const control_queue&) = delete;
  control_queue& operator=(const control_queue&) = delete;

  void start();
  // Runs what is queued (and `last`, if given), then joins the thread.
  void stop(std::function<void()> last = nullptr);

  void post(std::function<void()> job);

  // Runs f on the control thread, marked busy with `what`, and returns its result (or rethrows
  // what it threw); throws request_timeout_error naming the current stage after `timeout`.
  template <typename F>
  auto submit(std::string what, std::chrono::milliseconds timeout, F f) -> decltype(f()) {
    using result = decltype(f());
    auto task = std::make_shared<std::packaged_task<result()>>(std::move(f));
    auto future = task->get_future();
    post([this, task, what = std::move(what)] {
      herder_stage::scope busy(stage_, what);
      (*task)();
    });
    if (future.wait_for(timeout) != std::future_status::ready) {
      throw request_timeout_error(stage_.timeout_message());
    }
    return future.get();
  }

  herder_stage& stage() { return stage_; }
  bool on_control_thread() const { return std::this_thread::get_id() == thread_.get_id(); }

 private:
  void loop();

  std::string log_name_;
  std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> jobs_;
  bool stopping_ = false;
  std::thread thread_;
  herder_stage stage_;
};

}  // namespace ferry::core
