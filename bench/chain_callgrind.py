"""What issue 7's two-transform chain costs the HSET sink, counted in instructions: the hset
workload's records (bench/run.py) written by a 1-task sink three times, each by a worker under
valgrind's callgrind — plain, with the chain (InsertField$Value + MaskField$Value), and plain
on records that already are what the chain makes of them (so it writes to Redis what the
chained sink writes) — and the instructions per record of each worker and of its sink task
thread. Counts do not depend on how busy the machine is, unlike the times of bench/run.py.

    /usr/bin/python3 bench/chain_callgrind.py [--records 100000] [--build-dir build]
"""

import argparse
import os
import sys
import tempfile

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import procs  # noqa: E402
import run as bench  # noqa: E402

VARIANTS = (("plain", bench.SINK_TOPIC, False), ("+2 SMTs", bench.SINK_TOPIC, True),
            ("plain on the chain's output", bench.SINK_TOPIC_PRE, False))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--records", type=int, default=100_000)
    ap.add_argument("--build-dir", default=os.path.join(bench.REPO, "build"))
    args = ap.parse_args()
    n = args.records
    spec = bench.SINKS["hset"]
    worker_bin = os.path.join(args.build_dir, "ferry-worker")
    with tempfile.TemporaryDirectory(prefix="ferry-chain-callgrind-") as tmp:
        try:
            redis = procs.RedisServer(tmp)
            partitions = max(spec["partitions"],
                             -(-n * bench.BYTES_PER_RECORD // bench.BYTES_PER_PARTITION))
            kafka = procs.KafkaDev(os.path.join(args.build_dir, "ferry-kafka-dev"), tmp,
                                   {bench.SINK_TOPIC: partitions,
                                    bench.SINK_TOPIC_PRE: partitions})
            bench.preproduce(kafka, bench.SINK_TOPIC, n, spec)
            bench.preproduce(kafka, bench.SINK_TOPIC_PRE, n, spec, tx=True)
            counts = {}
            for i, (label, topic, chain) in enumerate(VARIANTS):
                wrapper, out = procs.callgrind_worker(worker_bin, tmp, f"worker-{i}")
                redis.reset()
                worker = procs.FerryWorker(wrapper, tmp, kafka.bootstrap, f"worker-{i}",
                                           {"consumer.session.timeout.ms": "30000"})
                config = {"connector.class": bench.SINK_CLASS, "tasks.max": "1", "topics": topic,
                          "redis.uri": redis.uri, "redis.keyspace": bench.KEYSPACE,
                          "redis.type": "HASH"}
                if chain:
                    config.update(bench.TX_CONFIG)
                worker.create_connector(f"chain-callgrind-{i}", config)
                procs.wait_until(lambda: redis.command_calls("hset") >= n, 900,
                                 f"{n} HSETs under callgrind")
                if worker.stop() != 0:
                    raise procs.BenchError(f"ferry-worker under callgrind did not stop cleanly: "
                                           f"{procs.tail(worker.log_path)}")
                total, task, _ = procs.callgrind_costs(out)
                counts[label] = (total / n, task / n)
                print(f"{label}: the worker ran {total / n:.0f} instructions per record "
                      f"(start-up included), its sink task thread {task / n:.0f}", flush=True)
            chained = counts["+2 SMTs"][1]
            for label in ("plain", "plain on the chain's output"):
                print(f"+2 SMTs over {label}: sink task thread {chained / counts[label][1]:.3f}x "
                      f"({chained - counts[label][1]:+.0f} instructions per record)")
            kafka.stop()
            redis.stop()
        finally:
            procs.kill_all()


if __name__ == "__main__":
    main()
