// The sink's per-record CPU work without I/O: JSON value -> converter -> transformation chain ->
// Redis HSET commands in a pipeline buffer, for a plain connector and for one with issue 7's
// two-transform chain (InsertField$Value + MaskField$Value), alternating, several rounds.
// Prints each configuration's median nanoseconds per record (thread CPU time) and the ratio.
//
//   ferry-bench-pipeline [records per round (default 500000)] [rounds (default 7)] [transforms]
//                        [same-output]
//
// `transforms` picks the chain's aliases: ins, mask or ins,mask (default). With `same-output`
// the plain connector reads what ins,mask makes of the values, so both sides write the same.

#include <time.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "ferry/api/record.hpp"
#include "ferry/clients/redis_connection.hpp"
#include "ferry/core/converters.hpp"
#include "ferry/transforms/chain.hpp"
#include "ferry/transforms/record.hpp"
#include "sink/command_builder.hpp"
#include "sink/redis_sink_config.hpp"

namespace {

using namespace ferry;

double thread_cpu_ns() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e9 + static_cast<double>(ts.tv_nsec);
}

// bench/run.py's hset value: 5 fields.
std::string value_text(int i) {
  static const char* plans[] = {"free", "pro", "team"};
  return "{\"name\": \"user-" + std::to_string(i) + "\", \"score\": " + std::to_string(i) +
         ", \"city\": \"c" + std::to_string(i % 97) + "\", \"email\": \"user" + std::to_string(i) +
         "@example.com\", \"plan\": \"" + plans[i % 3] + "\"}";
}

// What the two-transform chain makes of value_text(i): the email masked, `src` added.
std::string chain_output_text(int i) {
  static const char* plans[] = {"free", "pro", "team"};
  return "{\"name\": \"user-" + std::to_string(i) + "\", \"score\": " + std::to_string(i) +
         ", \"city\": \"c" + std::to_string(i % 97) + "\", \"email\": \"\", \"plan\": \"" +
         plans[i % 3] + "\", \"src\": \"bench\"}";
}

struct pipeline {
  std::unique_ptr<core::converter> converter;
  transforms::transform_chain chain;
  redis::command_builder builder;
};

pipeline make(bool with_chain, const char* aliases) {
  api::config_map config = {{"connector.class", "ferry.redis.RedisSinkConnector"},
                            {"topics", "bench"},
                            {"redis.type", "HASH"},
                            {"redis.keyspace", "bench"}};
  if (with_chain) {
    config.insert({{"transforms", aliases},
                   {"transforms.ins.type", "org.apache.kafka.connect.transforms.InsertField$Value"},
                   {"transforms.ins.static.field", "src"},
                   {"transforms.ins.static.value", "bench"},
                   {"transforms.mask.type", "org.apache.kafka.connect.transforms.MaskField$Value"},
                   {"transforms.mask.fields", "email"}});
  }
  return pipeline{core::make_converter("org.apache.kafka.connect.json.JsonConverter",
                                       {{"schemas.enable", "false"}}, false),
                  transforms::transform_chain::from_config(config),
                  redis::command_builder(redis::redis_sink_config::parse(config))};
}

// One round: `n` records in batches of 5000, as the sink task does. Returns ns per record.
double round(pipeline& p, const std::vector<std::string>& keys,
             const std::vector<std::string>& values, int n) {
  constexpr int batch_size = 5000;
  std::vector<api::sink_record> batch;
  batch.reserve(batch_size);
  clients::redis_pipeline out;
  double start = thread_cpu_ns();
  for (int done = 0; done < n;) {
    batch.clear();
    out.clear();
    for (int b = 0; b < batch_size && done < n; ++b, ++done) {
      const auto& v = values[done % values.size()];
      api::sink_record r;
      r.topic = "bench";
      r.partition = done % 16;
      r.offset = done;
      r.key = keys[done % keys.size()];
      auto c = p.converter->to_connect(r.topic, v.data(), v.size());
      r.value = std::move(c.value);
      r.value_schema = std::move(c.schema);
      if (!p.chain.empty()) {
        auto t = transforms::take_record(r);
        if (!p.chain.apply_in_place(t)) continue;
        transforms::put_record(std::move(t), r);
      }
      batch.push_back(std::move(r));
    }
    p.builder.build(batch, out);
  }
  return (thread_cpu_ns() - start) / n;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  int n = argc > 1 ? std::atoi(argv[1]) : 500000;
  int rounds = argc > 2 ? std::atoi(argv[2]) : 7;
  const char* aliases = argc > 3 ? argv[3] : "ins,mask";
  // same-output: the plain connector reads what the chain writes (ins,mask only), so both
  // sides build the same Redis commands and the difference is the chain's own work.
  const bool same_output = argc > 4 && std::string(argv[4]) == "same-output";
  std::vector<std::string> keys, values, plain_values;
  for (int i = 0; i < 20000; ++i) {
    keys.push_back("k" + std::to_string(i));
    values.push_back(value_text(i));
    plain_values.push_back(same_output ? chain_output_text(i) : value_text(i));
  }
  auto plain = make(false, aliases);
  auto chained = make(true, aliases);
  round(plain, keys, plain_values, n / 10);  // warm up
  round(chained, keys, values, n / 10);
  std::vector<double> a, b, ratios;
  for (int i = 0; i < rounds; ++i) {
    a.push_back(round(plain, keys, plain_values, n));
    b.push_back(round(chained, keys, values, n));
    ratios.push_back(b.back() / a.back());
    std::printf("round %d: plain %.1f ns/record, +2 SMTs %.1f ns/record (%.2fx)\n", i + 1, a.back(),
                b.back(), ratios.back());
  }
  std::printf(
      "median: plain %.1f ns/record, +2 SMTs %.1f ns/record, chain adds %.1f ns, ratio %.2fx\n",
      median(a), median(b), median(b) - median(a), median(ratios));
}
