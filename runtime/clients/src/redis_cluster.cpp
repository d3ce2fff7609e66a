// Redis Cluster client: routes each command to the master owning its key's slot (in progress).
#include <stdexcept>

#include "ferry/clients/redis_connection.hpp"

namespace ferry::clients {

std::unique_ptr<redis_client> make_redis_client(const redis_endpoint& endpoint) {
  if (endpoint.cluster) {
    throw api::connect_error("Redis Cluster is not supported by this version");
  }
  return std::make_unique<redis_connection>(endpoint);
}

}  // namespace ferry::clients
