#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "ferry/clients/redis_connection.hpp"

namespace ferry::clients {

// The pure parts of the cluster client (slots, RESP splitting, routing, reply order), kept apart
// from the sockets so unit tests can drive them without servers.
namespace cluster {

inline constexpr int slot_count = 16384;

// CRC16-CCITT (XMODEM), the checksum Redis Cluster uses for key slots.
std::uint16_t crc16(std::string_view data);
// The slot of a key: CRC16 of the whole key, or of the first non-empty `{...}` hash tag in it.
int key_slot(std::string_view key);

// One command of a pipeline's RESP buffer: where it is, and views of its arguments (into the
// buffer, which must outlive it).
struct resp_command {
  std::size_t offset = 0;
  std::size_t size = 0;
  std::vector<std::string_view> args;
};

// Splits a buffer of RESP arrays of bulk strings (what redis_pipeline writes) into commands.
// Throws std::invalid_argument on anything else or on a truncated buffer.
std::vector<resp_command> split_commands(std::string_view buffer);

// Where each command keeps its first key, learned from the server's COMMAND reply, with explicit
// rules for the commands whose keys move (EVAL/FCALL: after numkeys; XREAD/XREADGROUP: after
// STREAMS; ZUNION and friends: after numkeys). Before learn() (or when COMMAND is refused) a
// small built-in table covers what ferry's connectors send.
class command_table {
 public:
  command_table();
  // Replaces the table with the entries of a COMMAND reply; returns false (and keeps the table)
  // when the reply does not look like one.
  bool learn(redis_reply_view command_reply);

  // The command's first key, or nullopt for commands without keys (PING, PUBLISH, WAIT, MULTI,
  // unknown commands...).
  std::optional<std::string_view> first_key(const std::vector<std::string_view>& args) const;
  // Whether the command writes (a WAIT after it must reach its node). Unknown: true.
  bool writes(const std::vector<std::string_view>& args) const;
  std::size_t size() const { return entries_.size(); }

 private:
  struct entry {
    int first_key = 0;  // 0: no key (or movable: handled by name)
    bool write = false;
    bool container = false;  // has subcommands: look up "name|sub"
  };
  const entry* find(const std::vector<std::string_view>& args) const;
  std::unordered_map<std::string, entry> entries_;
};

// A group of commands that must go to one node together: one command, a MULTI ... EXEC block,
// or a WAIT (sent to every node that received writes before it).
struct unit {
  enum class kind { command, transaction, wait };
  kind type = kind::command;
  std::size_t first = 0;  // index of its first command in the pipeline
  std::size_t count = 1;
  std::optional<int> slot;  // nullopt: no key
  bool writes = false;
};

std::vector<unit> group_units(const std::vector<resp_command>& commands,
                              const command_table& table);

// Where one unit goes in one round: a node index, with ASKING before it after an -ASK.
struct unit_route {
  std::size_t unit = 0;
  int node = 0;
  bool asking = false;
};

// One node's sub-pipeline in one round, as references to the caller's commands. Each entry of
// `replies` is the original command index of the reply at that position, or asking_reply for
// the reply to an ASKING that is dropped.
struct node_batch {
  static constexpr std::size_t asking_reply = static_cast<std::size_t>(-1);
  int node = 0;
  std::vector<std::size_t> replies;
};

// Builds the per-node sub-pipelines of one round, each in the original order (routes must be
// sorted by unit). A unit of kind wait is sent to every node that received a writing unit
// before it in this round or, when there is none, to the node of its route; the caller keeps the
// smallest of its replies.
std::vector<node_batch> make_batches(const std::vector<unit>& units,
                                     const std::vector<unit_route>& routes);

// What came back for one unit in a round.
struct redirect {
  enum class kind { none, moved, ask, retry };  // retry: TRYAGAIN, CLUSTERDOWN, LOADING...
  kind type = kind::none;
  int slot = -1;
  std::string address;  // host:port of MOVED/ASK
  int from_node = -1;   // the node that answered
  std::string error;    // the error as received
};
// Reads an error reply's text: "-MOVED 3999 127.0.0.1:6381" etc.
redirect parse_redirect(std::string_view error);

// The units to send again after a round: for each slot where a unit was redirected, that unit
// and every later unit of the same slot sent in the round, in order, so writes to one key keep
// their order. After an -ASK, later units that the migrating node did serve stay done: their keys
// are still there, and sending them to the importing node would create the key there too early.
// `outcome[i]` belongs to `sent[i]`.
std::vector<std::size_t> units_to_resend(const std::vector<unit>& units,
                                         const std::vector<std::size_t>& sent,
                                         const std::vector<redirect>& outcome);

// Puts one round's replies (replies[b] answers batches[b]) at their commands' places in
// `results`, dropping ASKING's; a WAIT keeps its smallest count. `unit_of[i]` is the unit of
// command i. Returns, per unit that was redirected, the first redirection among its replies.
std::map<std::size_t, redirect> place_replies(const std::vector<unit>& units,
                                              const std::vector<std::size_t>& unit_of,
                                              const std::vector<node_batch>& batches,
                                              std::vector<std::vector<redis_reply>>& replies,
                                              std::vector<std::optional<redis_reply>>& results);

}  // namespace cluster

// A Redis Cluster client: learns the slot map from a seed node (CLUSTER SLOTS), keeps one
// redis_connection per master (the seed endpoint's credentials, TLS settings and timeout; only
// host and port change) and sends each command to the master owning its key's slot. A pipeline is
// split into one sub-pipeline per node, sent to all nodes at once (one thread per extra node), and
// its replies are returned in the caller's order. MOVED refreshes the map and resends; ASK resends
// once to the importing node; TRYAGAIN/CLUSTERDOWN are retried a few times, then thrown as
// redis_io_error. A node's I/O error is thrown as is (redis_io_error) and the map is reloaded on
// the next call. Commands without a key go to the node of the nearest keyed command before them
// (the first master when there is none); a WAIT goes to every node that received writes before it
// and its reply is the smallest count. Used by one thread at a time; connects lazily.
class redis_cluster_client final : public redis_client {
 public:
  explicit redis_cluster_client(redis_endpoint seed);
  ~redis_cluster_client() override;
  redis_cluster_client(const redis_cluster_client&) = delete;
  redis_cluster_client& operator=(const redis_cluster_client&) = delete;

  void connect() override;
  std::vector<redis_reply> execute(const redis_pipeline& pipeline) override;
  using redis_client::command;
  void close() override;

  // The master serving a slot ("host:port"), empty when unknown; for tests and logs.
  std::string node_for_slot(int slot) const;
  // Where commands keep their keys, as learned from the server at connect.
  const cluster::command_table& commands() const { return commands_; }

 private:
  struct node {
    std::string address;
    std::unique_ptr<redis_connection> connection;
  };
  void refresh_slots();
  bool load_slots_from(redis_connection& connection);
  int node_index(const std::string& address);
  int route(const cluster::unit& u, int previous_node) const;
  std::vector<std::vector<redis_reply>> send(const std::vector<cluster::node_batch>& batches,
                                             const std::vector<cluster::resp_command>& commands);

  redis_endpoint seed_;
  std::vector<node> nodes_;  // indexes are stable; nodes that lost their slots stay, closed
  std::array<int, cluster::slot_count> slots_{};  // node index per slot, -1 unknown
  cluster::command_table commands_;
  bool commands_learned_ = false;
  bool stale_ = true;  // reload the map before the next call
};

}  // namespace ferry::clients
