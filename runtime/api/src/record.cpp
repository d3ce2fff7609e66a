#include "ferry/api/record.hpp"

namespace ferry::api {

std::string to_string(const topic_partition& tp) {
  return tp.topic + "-" + std::to_string(tp.partition);
}

}  // namespace ferry::api
