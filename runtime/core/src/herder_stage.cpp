#include "ferry/core/herder_stage.hpp"

#include "ferry/core/log.hpp"

namespace ferry::core {

herder_stage::scope::scope(herder_stage& stage, std::string what) : stage_(stage) {
  std::lock_guard lock(stage_.mutex_);
  previous_ = std::move(stage_.current_);
  stage_.current_.emplace(std::move(what), std::chrono::system_clock::now());
}

herder_stage::scope::~scope() {
  std::lock_guard lock(stage_.mutex_);
  stage_.current_ = std::move(previous_);
}

std::string herder_stage::timeout_message() const {
  std::lock_guard lock(mutex_);
  if (!current_) return "Request timed out";
  return "Request timed out. The worker is currently " + current_->first + ", which began at " +
         log::utc_timestamp(current_->second);
}

}  // namespace ferry::core
