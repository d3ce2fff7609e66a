#pragma once

#include <vector>

#include "ferry/clients/redis_connection.hpp"

namespace ferry::redis {

// Throws for an error reply (also inside an EXEC array): api::retriable_error for server
// states that pass (-OOM, -LOADING, -BUSY, -TRYAGAIN, -CLUSTERDOWN, -MASTERDOWN, -READONLY,
// -NOREPLICAS, -MOVED, -ASK), api::data_error for a command Redis refuses for the data itself
// (-WRONGTYPE, -ERR ...). EXECABORT is skipped: the queued command's own error says why.
void check_reply(clients::redis_reply_view reply);

// Checks every reply of a batch. `multiexec`: a nil reply is an aborted EXEC (retriable).
// `wait_replicas` > 0: the last reply is WAIT's, and fewer acknowledging replicas than that is
// a retriable error.
void check_replies(const std::vector<clients::redis_reply>& replies, bool multiexec,
                   int wait_replicas, std::int64_t wait_timeout_ms);

}  // namespace ferry::redis
