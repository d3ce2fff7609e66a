#include "ferry/clients/group_offsets.hpp"

#include <algorithm>
#include <optional>
#include <regex>
#include <thread>

#include "ferry/api/errors.hpp"

namespace ferry::clients {

group_offsets::group_offsets(const client_config& base, std::string group,
                             std::chrono::milliseconds timeout)
    : group_(std::move(group)), timeout_(timeout) {
  auto config = base;
  config["group.id"] = group_;
  config["enable.auto.commit"] = "false";
  config["client.id"] = "ferry-offsets-" + group_;
  member_config_ = config;
  consumer_ = make_consumer(make_kafka_conf(config, nullptr));
}

std::vector<partition_offset> group_offsets::committed(const std::vector<std::string>& topics,
                                                       const std::string& topics_regex) {
  const rd_kafka_metadata_t* md = nullptr;
  auto err =
      rd_kafka_metadata(consumer_.get(), 1, nullptr, &md, static_cast<int>(timeout_.count()));
  if (err) throw api::connect_error("Cannot read Kafka metadata: " + kafka_error_text(err));
  std::optional<std::regex> pattern;
  if (!topics_regex.empty()) pattern.emplace(topics_regex);
  topic_partition_list list(rd_kafka_topic_partition_list_new(16));
  for (int t = 0; t < md->topic_cnt; ++t) {
    std::string name = md->topics[t].topic;
    bool wanted = std::find(topics.begin(), topics.end(), name) != topics.end() ||
                  (pattern && std::regex_match(name, *pattern));
    if (!wanted) continue;
    for (int p = 0; p < md->topics[t].partition_cnt; ++p) {
      rd_kafka_topic_partition_list_add(list.get(), name.c_str(), md->topics[t].partitions[p].id);
    }
  }
  rd_kafka_metadata_destroy(md);
  std::vector<partition_offset> out;
  if (list->cnt == 0) return out;
  err = rd_kafka_committed(consumer_.get(), list.get(), static_cast<int>(timeout_.count()));
  if (err)
    throw api::connect_error("Cannot read offsets of group " + group_ + ": " +
                             kafka_error_text(err));
  for (int i = 0; i < list->cnt; ++i) {
    const auto& e = list->elems[i];
    if (e.err || e.offset < 0) continue;  // no committed offset
    out.push_back({e.topic, e.partition, e.offset});
  }
  return out;
}

namespace {

topic_partition_list to_list(const std::vector<partition_offset>& offsets) {
  topic_partition_list list(rd_kafka_topic_partition_list_new(static_cast<int>(offsets.size())));
  for (const auto& o : offsets) {
    rd_kafka_topic_partition_list_add(list.get(), o.topic.c_str(), o.partition)->offset = o.offset;
  }
  return list;
}

rd_kafka_resp_err_t commit_list(rd_kafka_t* consumer,
                                const std::vector<partition_offset>& offsets) {
  auto list = to_list(offsets);
  auto err = rd_kafka_commit(consumer, list.get(), 0);
  for (int i = 0; !err && i < list->cnt; ++i) err = list->elems[i].err;
  return err;
}

}  // namespace

void group_offsets::commit(const std::vector<partition_offset>& offsets) {
  if (offsets.empty()) return;
  auto err = commit_list(consumer_.get(), offsets);
  if (!err) return;
  if (err != RD_KAFKA_RESP_ERR_UNKNOWN_MEMBER_ID && err != RD_KAFKA_RESP_ERR_ILLEGAL_GENERATION &&
      err != RD_KAFKA_RESP_ERR_REBALANCE_IN_PROGRESS) {
    throw api::connect_error("Cannot commit offsets of group " + group_ + ": " +
                             kafka_error_text(err));
  }
  // The broker takes commits only from members of this group (librdkafka's mock cluster always,
  // a real broker while the last member's session lasts): join it, commit as a member, leave.
  auto config = member_config_;
  auto member = make_consumer(make_kafka_conf(config, nullptr));
  rd_kafka_poll_set_consumer(member.get());
  std::vector<std::string> topics;
  for (const auto& o : offsets) {
    if (std::find(topics.begin(), topics.end(), o.topic) == topics.end()) topics.push_back(o.topic);
  }
  topic_partition_list subscription(rd_kafka_topic_partition_list_new(1));
  for (const auto& t : topics) {
    rd_kafka_topic_partition_list_add(subscription.get(), t.c_str(), RD_KAFKA_PARTITION_UA);
  }
  rd_kafka_subscribe(member.get(), subscription.get());
  auto deadline = std::chrono::steady_clock::now() + timeout_;
  for (;;) {
    // Messages are not processed: the member only needs its assignment.
    if (auto* m = rd_kafka_consumer_poll(member.get(), 100)) rd_kafka_message_destroy(m);
    rd_kafka_topic_partition_list_t* assigned = nullptr;
    if (rd_kafka_assignment(member.get(), &assigned) == RD_KAFKA_RESP_ERR_NO_ERROR && assigned) {
      int count = assigned->cnt;
      rd_kafka_topic_partition_list_destroy(assigned);
      if (count > 0) {
        err = commit_list(member.get(), offsets);
        if (!err) break;
      }
    }
    if (std::chrono::steady_clock::now() > deadline) {
      rd_kafka_consumer_close(member.get());
      throw api::connect_error("Cannot commit offsets of group " + group_ +
                               ": the group still has other members (" + kafka_error_text(err) +
                               "); stop the connector and retry");
    }
  }
  rd_kafka_consumer_close(member.get());
}

std::int64_t group_offsets::low_watermark(const std::string& topic, std::int32_t partition) {
  std::int64_t low = 0, high = 0;
  auto err = rd_kafka_query_watermark_offsets(consumer_.get(), topic.c_str(), partition, &low,
                                              &high, static_cast<int>(timeout_.count()));
  if (err) {
    throw api::connect_error("Cannot read the offsets of " + topic + "-" +
                             std::to_string(partition) + ": " + kafka_error_text(err));
  }
  return low;
}

}  // namespace ferry::clients
