#!/usr/bin/python3
"""ferry benchmark: each data path of ferry next to its baselines, in one run, as ratios.

    /usr/bin/python3 bench/run.py [--records N] [--runs R] [--build-dir DIR] [--json OUT]
                                  [--workloads source,sink] [--verify] [--poll-ms MS]

Workloads (see bench/README.md):
  source  Redis stream (N entries, 3 small fields, pre-filled) -> Kafka topic
  sink    Kafka topic (N records, N/10 distinct string keys, JSON values, pre-produced)
          -> Redis hashes (HSET)
Implementations, measured side by side in every run, in a rotating order:
  ferry   ferry-worker standalone, connector created over REST
  python  a tuned hand-written Python bridge (bench/bridges/)
  bare    a bare C loop, librdkafka + hiredis, no framework (bench/bare/, built into a temp dir)

Every server binds 127.0.0.1 on free ports, every wait has a deadline, and every process is
stopped at the end. Exit status 0 when every measurement moved exactly the expected records.
"""

import argparse
import atexit
import datetime
import json
import math
import os
import platform
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True  # no __pycache__ in the source tree

import procs  # noqa: E402
from procs import BenchError, wait_until  # noqa: E402

IMPLS = ("ferry", "python", "bare")
TX = "ferry+tx"  # ferry with a two-transform chain (issue 7), only in workloads with `tx`
# Plain ferry reading records that already are what the chain makes of the others (its own
# topic), so that it writes to Redis exactly what ferry+tx writes: ferry+tx over it is the
# chain's own cost, without the cost of the field the chain adds to every hash.
PRE = "ferry+pre"
FERRY_IMPLS = ("ferry", TX, PRE)
ALL_IMPLS = (*IMPLS, TX, PRE)  # what a sink workload with `tx` runs
# What ferry+tx is compared with: (implementation, summary key, label in the report).
TX_BASES = (("ferry", "tx_over_plain", "the same records"),
            (PRE, "tx_over_pre", "its output as input"))
IMPL_LABEL = {"ferry": "ferry", TX: "ferry+2 SMTs", PRE: "ferry (pre)",
              "python": "python", "bare": "bare C"}
STREAM = "bench-stream"
SINK_TOPIC = "bench-sink-in"
SINK_TOPIC_PRE = "bench-sink-pre"

# Sink workloads. "sink" is the original one (3-field JSON, --partitions, --batch); the others
# are issue 5's: a 16-partition topic, baselines reading --sink-batch (5000) per consume, and
# ferry with tasks.max 1 or 4 (the baselines stay one process each: see bench/README.md).
# mode: "hash" = HSET from JSON object values, "string" = SET of 100-byte strings.
SINKS = {
    "sink": {"mode": "hash", "fields": 3, "tasks": 1, "partitions": None, "tx": False},
    "set": {"mode": "string", "tasks": 1, "partitions": 16, "tx": False},
    "hset": {"mode": "hash", "fields": 5, "tasks": 1, "partitions": 16, "tx": True},
    "set-4t": {"mode": "string", "tasks": 4, "partitions": 16, "tx": False},
    "hset-4t": {"mode": "hash", "fields": 5, "tasks": 4, "partitions": 16, "tx": False},
}
WORKLOADS = ("source", *SINKS)
# Workloads with issue 5's / issue 6's goals (the original "sink" has none).
GOAL_WORKLOADS = ("source", "set", "hset", "set-4t", "hset-4t")
# Issue 7's chain: one field added, one masked (MaskField puts "" for a string).
TX_CONFIG = {
    "transforms": "ins,mask",
    "transforms.ins.type": "org.apache.kafka.connect.transforms.InsertField$Value",
    "transforms.ins.static.field": "src",
    "transforms.ins.static.value": "bench",
    "transforms.mask.type": "org.apache.kafka.connect.transforms.MaskField$Value",
    "transforms.mask.fields": "email",
}
SET_VALUE_BYTES = 100
KEYSPACE = "bench"
SOURCE_CLASS = "ferry.redis.RedisStreamSourceConnector"
SINK_CLASS = "ferry.redis.RedisSinkConnector"

# The dev broker keeps ~5 MB per partition and silently drops older data. A source record is
# ~110 bytes of key + value plus batch overhead; keep each partition near 3 MB at most.
BYTES_PER_RECORD = 140
BYTES_PER_PARTITION = 3_000_000


def log(msg):
    print(msg, flush=True)


# ---------------------------------------------------------------------------------- setup

def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--records", type=int, default=200_000,
                   help="records per workload and implementation (default 200000)")
    p.add_argument("--runs", type=int, default=3,
                   help="repetitions; medians are reported (default 3)")
    p.add_argument("--build-dir", default=os.path.join(REPO, "build"),
                   help="directory with ferry-worker and ferry-kafka-dev (default: build/)")
    p.add_argument("--json", metavar="OUT", help="write machine-readable results to OUT")
    p.add_argument("--workloads", default=",".join(WORKLOADS),
                   help="comma-separated subset of: " + ", ".join(WORKLOADS))
    p.add_argument("--batch", type=int, default=1000,
                   help="consume batch of the baselines in the sink workload (default 1000)")
    p.add_argument("--source-batch", type=int, default=5000,
                   help="XREAD COUNT of the baselines and ferry's batch.size in the source "
                        "workload (default 5000, issue 6)")
    p.add_argument("--sink-batch", type=int, default=5000,
                   help="consume batch of the baselines in the set/hset workloads "
                        "(default 5000)")
    p.add_argument("--partitions", type=int, default=0,
                   help="partitions per topic of source and sink (default: enough to stay "
                        "under the dev broker's per-partition retention, at least 4); the "
                        "set/hset workloads use 16 (more if the records need it)")
    p.add_argument("--poll-ms", type=float, default=20.0,
                   help="how often the done condition is polled (default 20)")
    p.add_argument("--timeout", type=float, default=0.0,
                   help="seconds one measurement may take (default max(60, records/2000))")
    p.add_argument("--consumer", action="append", default=None, metavar="KEY=VALUE",
                   help="librdkafka consumer setting given to all sink implementations "
                        "(ferry as consumer.KEY). Default: queued.min.messages=10000000, which "
                        "keeps librdkafka 2.0.2's 1 s fetch backoff out of the data path, and "
                        "session.timeout.ms=6000, heartbeat.interval.ms=500, which let the dev "
                        "broker finish a rebalance of a 4-member group in seconds instead of "
                        "~40 s; --consumer none uses librdkafka's defaults")
    p.add_argument("--worker-prop", action="append", default=[], metavar="KEY=VALUE",
                   help="a setting for ferry's worker properties file, e.g. "
                        "producer.queue.buffering.max.messages=20000 (repeatable)")
    p.add_argument("--perf", metavar="DIR",
                   help="record ferry-worker with `perf record -g` during each ferry "
                        "measurement into DIR (adds overhead: numbers of such a run are not "
                        "comparable)")
    p.add_argument("--verify", action="store_true",
                   help="also check the content of every record moved (slow for large N)")
    p.add_argument("--keep-tmp", action="store_true", help="keep logs and state in the temp dir")
    args = p.parse_args(argv)
    if args.records < 10:
        p.error("--records must be at least 10")
    if args.runs < 1:
        p.error("--runs must be at least 1")
    args.workloads = [w.strip() for w in args.workloads.split(",") if w.strip()]
    for w in args.workloads:
        if w not in WORKLOADS:
            p.error(f"unknown workload {w!r}")
    if args.consumer is None:
        args.consumer = ["queued.min.messages=10000000", "session.timeout.ms=6000",
                         "heartbeat.interval.ms=500"]
    args.consumer = [c for c in args.consumer if c != "none"]
    for c in args.worker_prop:
        if "=" not in c:
            p.error(f"--worker-prop wants KEY=VALUE, got {c!r}")
    args.worker_props = dict(c.split("=", 1) for c in args.worker_prop)
    for c in args.consumer:
        if "=" not in c:
            p.error(f"--consumer wants KEY=VALUE, got {c!r}")
    args.min_partitions = math.ceil(args.records * BYTES_PER_RECORD / BYTES_PER_PARTITION)
    if not args.partitions:
        args.partitions = max(4, args.min_partitions)
    if not args.timeout:
        args.timeout = max(60.0, args.records / 2000)
    args.build_dir = os.path.abspath(args.build_dir)
    return args


def binary(build_dir, name):
    for c in (os.path.join(build_dir, name), os.path.join(build_dir, "runtime", "app", name)):
        if os.path.isfile(c) and os.access(c, os.X_OK):
            return c
    raise BenchError(f"{name} not found in {build_dir}; build it (ninja -C {build_dir} {name})")


def build_bare(out_dir):
    """Compiles bench/bare/*.c into out_dir; returns {"source": path, "sink": path}."""
    out = {}
    for workload, src in (("source", "source_loop.c"), ("sink", "sink_loop.c")):
        exe = os.path.join(out_dir, src[:-2])
        cmd = ["cc", "-O2", "-Wall", "-o", exe, os.path.join(HERE, "bare", src),
               "-lrdkafka", "-lhiredis"]
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        if r.returncode != 0:
            raise BenchError(f"building {src} failed ({shlex.join(cmd)}):\n{r.stderr}")
        out[workload] = exe
    return out


def machine_info():
    model = ""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return {"cores": os.cpu_count(), "cpu": model, "kernel": platform.release(),
            "python": platform.python_version()}


# ---------------------------------------------------------------------------------- timing

def observe(progress, target, t0, timeout, poll_s, check=None):
    """Polls progress() (records moved so far) until it reaches `target`.

    Returns every sample as (time, count), the time of each being the midpoint of its query,
    the last one being the first that saw `target`. check() runs about once a second to fail
    fast."""
    samples = [(t0, 0)]
    next_check = t0 + 1.0
    failures = 0
    while True:
        a = time.monotonic()
        try:
            count = progress()
            failures = 0
        except BenchError:
            raise
        except Exception as e:  # noqa: BLE001 - a query may time out on a loaded machine
            failures += 1
            if failures > 50:
                raise BenchError(f"progress query keeps failing: {e!r}") from e
            count = None
        b = time.monotonic()
        if count is not None:
            samples.append(((a + b) / 2, count))
            if count >= target:
                return samples
        if b - t0 > timeout:
            raise BenchError(f"only {count} of {target} records after {timeout:.0f}s")
        if check is not None and b >= next_check:
            check()
            next_check = b + 1.0
        time.sleep(max(0.0, poll_s - (time.monotonic() - a)))


def rates(samples, target):
    """(steady rate, steady seconds, from-start rate, from-start seconds).

    From start: target / (time all were seen - time of creation or GO).

    Steady: the rate over the second half of the transfer, from the sample nearest the middle
    between the first sample that saw a record and the one that saw all of them, to the end.
    That leaves out start-up: fixed delays (group join, topic metadata) and the burst of records
    queued meanwhile. The end is interpolated within the last poll interval at the rate of the
    window (the first sample that saw everything came up to one interval late). With fewer
    than 5 samples that saw records it falls back to target / (done - last sample that saw
    nothing). "Steady seconds" is target / steady rate."""
    t0 = samples[0][0]
    t_done = samples[-1][0]
    e2e = t_done - t0
    moving = [s for s in samples if s[1] > 0]
    rate = None
    if len(moving) >= 5:
        t_mid = (moving[0][0] + t_done) / 2
        t_s, c_s = min(moving[:-1], key=lambda s: abs(s[0] - t_mid))
        t_p, c_p = samples[-2]
        t_end = t_done
        if t_p > t_s and c_p > c_s:
            t_end = min(t_done, t_p + (target - c_p) * (t_p - t_s) / (c_p - c_s))
        if t_end > t_s and target > c_s:
            rate = (target - c_s) / (t_end - t_s)
    if rate is None:
        last_zero = max(t for t, c in samples if c == 0)
        rate = target / max(t_done - last_zero, 1e-6)
    return rate, target / rate, target / e2e, e2e


# ---------------------------------------------------------------------------------- data

def prefill_stream(redis, n):
    """N entries of 3 small fields, written with pipelining before anything is timed."""
    client = redis.client
    chunk = 10_000
    for start in range(0, n, chunk):
        pipe = client.pipeline(transaction=False)
        for i in range(start, min(n, start + chunk)):
            pipe.xadd(STREAM, {"sensor": f"s-{i % 1000}", "temp": f"{20 + (i % 150) / 10:.1f}",
                               "seq": str(i)})
        pipe.execute()
    length = client.xlen(STREAM)
    if length != n:
        raise BenchError(f"stream has {length} entries, expected {n}")


def sink_key(i, n):
    return f"k{i % max(1, n // 10)}"


def sink_value(i, fields=3, tx=False):
    """A JSON object value of 3 (sink) or 5 (hset) fields; with `tx`, what TX_CONFIG's chain
    makes of it (email masked, src added)."""
    v = {"name": f"user-{i}", "score": i, "city": f"c{i % 97}"}
    if fields == 5:
        v["email"] = f"user{i}@example.com"
        v["plan"] = ("free", "pro", "team")[i % 3]
    if tx:
        v["email"] = ""
        v["src"] = "bench"
    return v


def set_value(i):
    """A 100-byte string value."""
    return f"v{i:09d}|".ljust(SET_VALUE_BYTES, "x")


def expected_sink_value(spec, i, tx=False):
    """What Redis holds for record i: a string (SET) or the hash's fields as text."""
    if spec["mode"] == "string":
        return set_value(i)
    return {k: str(x) for k, x in sink_value(i, spec["fields"], tx).items()}


def final_values_written(redis, n, spec):
    """True when every key holds its last record's value (SET) or `name` field (HSET): the
    done condition of a several-task sink, whose rebalances may write records twice."""
    keys = max(1, n // 10)
    for start in range(0, keys, 5000):
        pipe = redis.client.pipeline(transaction=False)
        for j in range(start, min(keys, start + 5000)):
            if spec["mode"] == "string":
                pipe.get(f"{KEYSPACE}:k{j}")
            else:
                pipe.hget(f"{KEYSPACE}:k{j}", "name")
        for j, got in enumerate(pipe.execute(), start):
            last = j + keys * ((n - 1 - j) // keys)
            want = set_value(last) if spec["mode"] == "string" else f"user-{last}"
            if got != want.encode():
                return False
    return True


def preproduce(kafka, topic, n, spec, tx=False):
    """N records with keys from a key space of N/10 and, by `spec`, JSON object values of 3 or 5
    fields or 100-byte strings; with `tx` the values TX_CONFIG's chain makes of those."""
    from confluent_kafka import Producer  # noqa: PLC0415
    errors = []
    producer = Producer({"bootstrap.servers": kafka.bootstrap, "linger.ms": 20,
                         "batch.num.messages": 10000, "queue.buffering.max.messages": 1_000_000,
                         "log_level": 3,
                         "on_delivery": lambda err, msg: errors.append(err) if err else None})
    dumps = json.JSONEncoder(separators=(",", ":")).encode
    if spec["mode"] == "string":
        value = set_value
    else:
        fields = spec["fields"]
        value = lambda i: dumps(sink_value(i, fields, tx))  # noqa: E731
    for i in range(n):
        while True:
            try:
                producer.produce(topic, value(i), sink_key(i, n))
                break
            except BufferError:
                producer.poll(0.05)
        if i % 1000 == 0:
            producer.poll(0)
    if producer.flush(60) != 0 or errors:
        raise BenchError(f"pre-producing {topic} failed: {errors[:3]}")
    count = kafka.record_count(topic)
    if count != n:
        raise BenchError(f"{topic} holds {count} records after pre-producing {n}")


def retention_check(kafka, topic):
    low = kafka.low_watermarks(topic)
    dropped = {p: o for p, o in low.items() if o > 0}
    if dropped:
        return [f"the dev broker dropped old records of {topic} (low watermarks {dropped}): "
                f"use more --partitions or fewer --records"]
    return []


def verify_source(kafka, redis, topic):
    """Every stream entry is in `topic` exactly once with ferry's {"id","stream","body"} value."""
    from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition  # noqa: PLC0415
    expected = {}
    last = "-"
    while True:
        entries = redis.client.xrange(STREAM, min=last, count=10_000)
        if last != "-":
            entries = entries[1:]
        if not entries:
            break
        for eid, fields in entries:
            expected[eid.decode()] = {k.decode(): v.decode() for k, v in fields.items()}
        last = entries[-1][0].decode()
    ends = kafka.end_offsets(topic)
    c = Consumer({"bootstrap.servers": kafka.bootstrap, "group.id": "bench-verify",
                  "enable.auto.commit": False, "log_level": 3})
    problems = []
    seen = set()
    try:
        c.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in ends if ends[p] > 0])
        remaining = sum(ends.values())
        deadline = time.monotonic() + 120
        while remaining > 0 and time.monotonic() < deadline:
            for m in c.consume(num_messages=10_000, timeout=0.5):
                if m.error():
                    continue
                remaining -= 1
                key = m.key().decode() if m.key() is not None else None
                value = json.loads(m.value())
                if key in seen:
                    problems.append(f"entry {key} delivered twice")
                seen.add(key)
                want = expected.get(key)
                if want is None:
                    problems.append(f"record with unknown key {key!r}")
                elif value != {"id": key, "stream": STREAM, "body": want}:
                    problems.append(f"record {key} has value {value!r}")
                if len(problems) > 5:
                    return problems
    finally:
        c.close()
    missing = len(expected) - len(seen & expected.keys())
    if missing:
        problems.append(f"{missing} stream entries are missing from {topic}")
    return problems


def verify_sink(redis, n, spec, tx=False):
    """Every key holds the value (fields) of the last record written for it."""
    keys = max(1, n // 10)
    problems = []
    names = [f"{KEYSPACE}:k{j}" for j in range(keys)]
    for start in range(0, keys, 5000):
        pipe = redis.client.pipeline(transaction=False)
        for name in names[start:start + 5000]:
            if spec["mode"] == "string":
                pipe.get(name)
            else:
                pipe.hgetall(name)
        for j, got in enumerate(pipe.execute(), start):
            last = j + keys * ((n - 1 - j) // keys)
            want = expected_sink_value(spec, last, tx)
            if isinstance(want, str):
                want = want.encode()
            else:
                want = {k.encode(): v.encode() for k, v in want.items()}
            if got != want:
                problems.append(f"{names[j]} holds {got!r}, expected {want!r}")
                if len(problems) > 5:
                    return problems
    return problems


# ---------------------------------------------------------------------------------- workloads

class Context:
    def __init__(self, args, tmp, bare):
        self.args = args
        self.tmp = tmp
        self.bare = bare
        self.worker_bin = binary(args.build_dir, "ferry-worker")
        self.kafka_bin = binary(args.build_dir, "ferry-kafka-dev")
        self.python = sys.executable or "/usr/bin/python3"


def start_perf(ctx, worker, name):
    if not ctx.args.perf:
        return None
    os.makedirs(ctx.args.perf, exist_ok=True)
    out = os.path.join(os.path.abspath(ctx.args.perf), name + ".data")
    return procs.PerfRecorder(worker.pid, out)


def stop_perf(perf, res):
    if perf is not None:
        res["perf_report"] = perf.stop()
        log(f"  perf report: {res['perf_report']}")


def ferry_check(worker, connector):
    def check():
        if worker.process.poll() is not None:
            raise BenchError(f"ferry-worker exited with {worker.process.returncode}: "
                             f"{procs.tail(worker.log_path)}")
        task = worker.task_state(connector)
        if task and task.get("state") == "FAILED":
            raise BenchError(f"ferry task failed: {task.get('trace', '')[:2000]}")
    return check


def baseline_check(baseline):
    def check():
        code = baseline.process.poll()
        if code is not None and code != 0:
            raise BenchError(f"{baseline.name} exited with {code}: "
                             f"{procs.tail(baseline.stderr_path)}")
    return check


def measure(ctx, impl, start, progress, stop, check_factory, cpu_pid=None):
    """start() -> handle; timing from just before start() until progress() == records.

    CPU time: of process `cpu_pid` from start() until done when given (ferry-worker), else as
    the baseline reported it (from GO until its work was done)."""
    n = ctx.args.records
    cpu0 = procs.cpu_seconds(cpu_pid) if cpu_pid else None
    t0 = time.monotonic()
    handle = start()
    samples = observe(progress, n, t0, ctx.args.timeout, ctx.args.poll_ms / 1000,
                      check_factory(handle))
    cpu = procs.cpu_seconds(cpu_pid) - cpu0 if cpu_pid else None
    rate, secs, e2e_rate, e2e_secs = rates(samples, n)
    extra = stop(handle)
    if cpu is None:
        cpu = extra.pop("cpu_seconds", None)
    extra["cpu_seconds"] = cpu
    extra["cpu_us_per_record"] = cpu * 1e6 / n if cpu is not None else None
    return {"steady_rate": rate, "steady_seconds": secs, "e2e_rate": e2e_rate,
            "e2e_seconds": e2e_secs, "observed_at_done": samples[-1][1],
            "samples": [[round(t - t0, 4), c] for t, c in samples], **extra}


def run_source(ctx, run, order):
    args = ctx.args
    n = args.records
    topics = {f"bench-src-{impl}": args.partitions for impl in order}
    redis = kafka = None
    results = {}
    try:
        redis = procs.RedisServer(ctx.tmp, f"redis-r{run}-source")
        kafka = procs.KafkaDev(ctx.kafka_bin, ctx.tmp, topics)
        prefill_stream(redis, n)
        for impl in order:
            topic = f"bench-src-{impl}"
            name = f"bench-source-r{run}"
            if impl == "ferry":
                worker = procs.FerryWorker(ctx.worker_bin, ctx.tmp, kafka.bootstrap,
                                           f"worker-r{run}-source", args.worker_props)
                try:
                    def start():
                        worker.create_connector(name, {
                            "connector.class": SOURCE_CLASS, "tasks.max": "1",
                            "redis.uri": redis.uri, "redis.stream.name": STREAM,
                            "topic": topic, "batch.size": str(args.source_batch)})
                        return worker

                    def stop(w):
                        rss = procs.vmhwm_kb(w.pid)
                        w.delete_connector(name)
                        return {"peak_rss_kb": rss}
                    perf = start_perf(ctx, worker, f"ferry-source-r{run}")
                    res = measure(ctx, impl, start, lambda: kafka.record_count(topic), stop,
                                  lambda w: ferry_check(w, name), cpu_pid=worker.pid)
                    stop_perf(perf, res)
                finally:
                    code = worker.stop()
                if code != 0:
                    raise BenchError(f"ferry-worker exited with {code} on SIGTERM: "
                                     f"{procs.tail(worker.log_path)}")
            else:
                if impl == "python":
                    argv = [ctx.python, os.path.join(HERE, "bridges", "python_source.py"),
                            redis.uri, STREAM, kafka.bootstrap, topic, str(n), str(args.source_batch)]
                else:
                    argv = [ctx.bare["source"], "127.0.0.1", str(redis.port), STREAM,
                            kafka.bootstrap, topic, str(n), str(args.source_batch)]
                b = procs.Baseline(argv, ctx.tmp, f"{impl}-r{run}-source")
                try:
                    def start():
                        b.go()
                        return b

                    def stop(bl):
                        out = bl.result(timeout=args.timeout)
                        return {"peak_rss_kb": out.get("vmhwm_kb"),
                                "self_reported_seconds": out.get("seconds"),
                                "cpu_seconds": out.get("cpu_seconds")}
                    res = measure(ctx, impl, start, lambda: kafka.record_count(topic), stop,
                                  baseline_check)
                finally:
                    b.kill()
            res["expected"] = n
            res["moved"] = kafka.record_count(topic)
            checks = []
            if res["moved"] != n:
                checks.append(f"{topic} holds {res['moved']} records, expected {n}")
            checks += retention_check(kafka, topic)
            if args.verify:
                checks += verify_source(kafka, redis, topic)
                res["verified"] = not checks
            res["problems"] = checks
            results[impl] = res
            report_line("source", run, impl, res)
    finally:
        if kafka:
            kafka.stop()
        if redis:
            redis.stop()
    return results


def sink_partitions(args, workload):
    spec = SINKS[workload]
    if spec["partitions"] is None:
        return args.partitions
    return max(spec["partitions"], args.min_partitions)


def sink_impls(workload):
    return ALL_IMPLS if SINKS[workload]["tx"] else IMPLS


def run_sink(ctx, run, order, workload):
    """One run of a sink workload: the topic is produced once, then each implementation in
    `order` moves it into an emptied Redis with a fresh consumer group."""
    args = ctx.args
    n = args.records
    spec = SINKS[workload]
    command = "set" if spec["mode"] == "string" else "hset"
    batch = args.batch if workload == "sink" else args.sink_batch
    redis = kafka = None
    results = {}
    try:
        redis = procs.RedisServer(ctx.tmp, f"redis-r{run}-{workload}")
        topics = {SINK_TOPIC: sink_partitions(args, workload)}
        if PRE in order:
            topics[SINK_TOPIC_PRE] = topics[SINK_TOPIC]
        kafka = procs.KafkaDev(ctx.kafka_bin, ctx.tmp, topics)
        preproduce(kafka, SINK_TOPIC, n, spec)
        if PRE in order:
            preproduce(kafka, SINK_TOPIC_PRE, n, spec, tx=True)
        ends = {t: kafka.end_offsets(t) for t in topics}
        for impl in order:
            topic = SINK_TOPIC_PRE if impl == PRE else SINK_TOPIC
            redis.reset()
            calls = lambda: redis.command_calls(command)  # noqa: E731
            progress = calls
            if spec["tasks"] > 1 and impl in FERRY_IMPLS:
                # A rebalance among the tasks re-delivers what was not committed yet: N calls
                # may come before every record was written, so then wait for the last values.
                def progress():
                    c = calls()
                    return c if c < n else n if final_values_written(redis, n, spec) else n - 1
            if impl in FERRY_IMPLS:
                variant = {TX: "-tx", PRE: "-pre"}.get(impl, "")
                name = f"bench-{workload}{variant}-r{run}"
                group = f"connect-{name}"
                worker = procs.FerryWorker(
                    ctx.worker_bin, ctx.tmp, kafka.bootstrap, f"worker-r{run}-{workload}{variant}",
                    {**{f"consumer.{k}": v for k, v in (c.split("=", 1) for c in args.consumer)},
                     **args.worker_props})
                config = {"connector.class": SINK_CLASS, "tasks.max": str(spec["tasks"]),
                          "topics": topic, "redis.uri": redis.uri,
                          "redis.keyspace": KEYSPACE}
                if spec["mode"] == "string":
                    config["redis.type"] = "STRING"
                    config["value.converter"] = "org.apache.kafka.connect.storage.StringConverter"
                else:
                    config["redis.type"] = "HASH"
                if impl == TX:
                    config.update(TX_CONFIG)
                try:
                    def start():
                        worker.create_connector(name, config)
                        return worker

                    def stop(w):
                        return {}
                    perf = start_perf(ctx, worker, f"{impl.replace('+', '-')}-{workload}-r{run}")
                    res = measure(ctx, impl, start, progress, stop,
                                  lambda w: ferry_check(w, name), cpu_pid=worker.pid)
                    stop_perf(perf, res)
                    res["problems"] = wait_committed(kafka, group, topic, ends[topic])
                    res["peak_rss_kb"] = procs.vmhwm_kb(worker.pid)
                    worker.delete_connector(name)
                finally:
                    code = worker.stop()
                if code != 0:
                    raise BenchError(f"ferry-worker exited with {code} on SIGTERM: "
                                     f"{procs.tail(worker.log_path)}")
            else:
                group = f"bench-{impl}-{workload}-r{run}"
                if impl == "python":
                    argv = [ctx.python, os.path.join(HERE, "bridges", "python_sink.py"),
                            kafka.bootstrap, SINK_TOPIC, group, redis.uri, KEYSPACE, str(n),
                            str(batch), spec["mode"], *args.consumer]
                else:
                    argv = [ctx.bare["sink"], kafka.bootstrap, SINK_TOPIC, group, "127.0.0.1",
                            str(redis.port), KEYSPACE, str(n), str(batch), spec["mode"],
                            *args.consumer]
                b = procs.Baseline(argv, ctx.tmp, f"{impl}-r{run}-{workload}")
                try:
                    def start():
                        b.go()
                        return b

                    def stop(bl):
                        out = bl.result(timeout=args.timeout)
                        return {"peak_rss_kb": out.get("vmhwm_kb"),
                                "self_reported_seconds": out.get("seconds"),
                                "cpu_seconds": out.get("cpu_seconds")}
                    res = measure(ctx, impl, start, calls, stop, baseline_check)
                    res["problems"] = wait_committed(kafka, group, topic, ends[topic])
                finally:
                    b.kill()
            res["expected"] = n
            res["moved"] = calls()
            checks = res["problems"]
            if spec["tasks"] > 1 and impl in FERRY_IMPLS and res["moved"] > n:
                res["redelivered"] = res["moved"] - n  # at-least-once after a rebalance
                res["moved"] = n
                log(f"  ({res['redelivered']} records written twice after a rebalance)")
            if res["moved"] != n:
                checks.append(f"Redis ran {command.upper()} {res['moved']} times, expected {n}")
            keys = redis.client.dbsize()
            if keys != max(1, n // 10):
                checks.append(f"Redis holds {keys} keys, expected {max(1, n // 10)}")
            if args.verify:
                checks += verify_sink(redis, n, spec, tx=impl in (TX, PRE))
                res["verified"] = not checks
            results[impl] = res
            report_line(workload, run, impl, res)
        checks = [c for t in topics for c in retention_check(kafka, t)]
        if checks:
            for res in results.values():
                res["problems"] += checks
    finally:
        if kafka:
            kafka.stop()
        if redis:
            redis.stop()
    return results


def wait_committed(kafka, group, topic, ends, timeout=20.0):
    """Waits until `group` committed the end offset of every partition of `topic`."""
    try:
        wait_until(lambda: all(kafka.committed(group, topic).get(p, -1) == end
                               for p, end in ends.items() if end > 0),
                   timeout, f"group {group} to commit the end offsets", interval=0.2)
        return []
    except BenchError as e:
        return [str(e) + f" (committed: {kafka.committed(group, topic)}, end: {ends})"]


# ---------------------------------------------------------------------------------- report

def fmt_rate(r):
    return "-" if r is None else f"{r:,.0f}"


def fmt_ratio(r):
    return "-" if r is None else f"{r:.2f}x"


def fmt_us(us):
    return "-" if us is None else f"{us:.2f} us"


def fmt_mb(kb):
    return "-" if kb is None or kb < 0 else f"{kb / 1024:.1f} MB"


def report_line(workload, run, impl, res):
    extra = ""
    if res.get("self_reported_seconds") is not None:
        extra = f", own clock {res['self_reported_seconds']:.3f} s"
    status = "ok" if not res.get("problems") else "PROBLEM: " + "; ".join(res["problems"])
    log(f"  run {run} {workload:7} {IMPL_LABEL[impl]:12} {res['moved']:>8} records | steady "
        f"{res['steady_seconds']:7.3f} s = {fmt_rate(res['steady_rate']):>9} rec/s | from start "
        f"{res['e2e_seconds']:7.3f} s = {fmt_rate(res['e2e_rate']):>9} rec/s{extra} | "
        f"CPU {fmt_us(res.get('cpu_us_per_record'))}/record | "
        f"peak RSS {fmt_mb(res.get('peak_rss_kb'))} | {status}")


def summarize(runs):
    """runs: [{impl: result}] of one workload -> medians and median per-run ratios."""
    out = {}
    for key in ("steady_rate", "e2e_rate"):
        s = {}
        for impl in ALL_IMPLS:
            vals = [r[impl][key] for r in runs if impl in r]
            s[impl] = statistics.median(vals) if vals else None
        for base in ("python", "bare"):
            ratios = [r["ferry"][key] / r[base][key] for r in runs
                      if "ferry" in r and base in r and r[base][key] > 0]
            s[f"ferry/{base}"] = statistics.median(ratios) if ratios else None
            s[f"ferry/{base} per run"] = ratios
        out[key] = s
    s = {}
    for impl in ALL_IMPLS:
        vals = [r[impl]["cpu_us_per_record"] for r in runs
                if impl in r and r[impl].get("cpu_us_per_record") is not None]
        s[impl] = statistics.median(vals) if vals else None
    for base in ("python", "bare"):
        ratios = [r["ferry"]["cpu_us_per_record"] / r[base]["cpu_us_per_record"] for r in runs
                  if "ferry" in r and base in r and r["ferry"].get("cpu_us_per_record")
                  and r[base].get("cpu_us_per_record")]
        s[f"ferry/{base}"] = statistics.median(ratios) if ratios else None
    out["cpu_us_per_record"] = s
    out["peak_rss_kb"] = {impl: max((r[impl].get("peak_rss_kb") or -1 for r in runs if impl in r),
                                    default=None) for impl in ALL_IMPLS}
    # Issue 7: what the two-transform chain adds, as medians of per-run ratios: over plain
    # ferry on the same records, and over plain ferry writing the same (PRE).
    for base, key_out, _ in TX_BASES:
        pairs = [(r[TX], r[base]) for r in runs if TX in r and base in r]
        if not pairs:
            continue
        tx = {}
        for key in ("cpu_us_per_record", "steady_seconds", "e2e_seconds"):
            ratios = [a[key] / b[key] for a, b in pairs if a.get(key) and b.get(key)]
            tx[key] = statistics.median(ratios) if ratios else None
            tx[key + " per run"] = ratios
        out[key_out] = tx
    return out


def render(rows):
    """A Markdown table; first column left-aligned, the others right-aligned."""
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = []
    for i, r in enumerate(rows):
        lines.append("| " + " | ".join(c.ljust(w) if j == 0 else c.rjust(w)
                                       for j, (c, w) in enumerate(zip(r, widths))) + " |")
        if i == 0:
            lines.append("|" + "|".join("-" * (w + 1) + ":" if j else "-" * (w + 2)
                                        for j, w in enumerate(widths)) + "|")
    return "\n".join(lines)


def table(summaries, key):
    rows = [("workload", "ferry rec/s (median)", "python rec/s", "bare C rec/s", "ferry/python",
             "ferry/bare", "ferry peak RSS", "python peak RSS")]
    for workload, s in summaries.items():
        m = s[key]
        rows.append((workload, fmt_rate(m["ferry"]), fmt_rate(m["python"]), fmt_rate(m["bare"]),
                     fmt_ratio(m["ferry/python"]), fmt_ratio(m["ferry/bare"]),
                     fmt_mb(s["peak_rss_kb"]["ferry"]), fmt_mb(s["peak_rss_kb"]["python"])))
    return render(rows)


def goals_table(summaries):
    """Issues 5 (sinks) and 6 (source): the figures next to their goals, which are the same
    (CPU s per million records = us/record)."""
    rows = [("workload", "ferry rec/s", "python rec/s", "bare C rec/s", "ferry CPU s/M",
             "python CPU s/M", "bare C CPU s/M", "CPU ferry/python (goal <= 0.33)",
             "CPU ferry/bare (goal <= 1.25)", "wall ferry/bare (goal >= 0.8)",
             "ferry peak RSS (goal <= 100 MB)")]
    for workload, s in summaries.items():
        if workload not in GOAL_WORKLOADS:
            continue
        c = s["cpu_us_per_record"]
        st = s["steady_rate"]

        def mark(ok):
            return "" if ok is None else (" ok" if ok else " MISS")
        rss = s["peak_rss_kb"]["ferry"]
        tasks = SINKS[workload]["tasks"] if workload in SINKS else 1
        rows.append((
            f"{workload} ({tasks} task{'s' if tasks > 1 else ''})",
            fmt_rate(st["ferry"]), fmt_rate(st["python"]), fmt_rate(st["bare"]),
            f"{c['ferry']:.2f}" if c["ferry"] is not None else "-",
            f"{c['python']:.2f}" if c["python"] is not None else "-",
            f"{c['bare']:.2f}" if c["bare"] is not None else "-",
            fmt_ratio(c["ferry/python"]) + mark(None if c["ferry/python"] is None
                                                else c["ferry/python"] <= 1 / 3),
            fmt_ratio(c["ferry/bare"]) + mark(None if c["ferry/bare"] is None
                                              else c["ferry/bare"] <= 1.25),
            fmt_ratio(st["ferry/bare"]) + mark(None if st["ferry/bare"] is None
                                               else st["ferry/bare"] >= 0.8),
            fmt_mb(rss) + mark(None if rss is None or rss < 0 else rss <= 100 * 1024)))
    return render(rows)


def tx_table(summaries):
    """Issue 7: ferry with the two-transform chain over plain ferry, same run: over plain ferry
    on the same records, and over plain ferry on records that already are the chain's output."""
    rows = [("workload", "+2 SMTs over", "plain CPU/record", "+2 SMTs CPU/record", "CPU ratio",
             "steady time ratio", "from-start time ratio", "per-run steady time ratios")]
    for workload, s in summaries.items():
        c = s["cpu_us_per_record"]
        for base, key, label in TX_BASES:
            tx = s.get(key)
            if not tx:
                continue
            rows.append((workload, label, fmt_us(c[base]), fmt_us(c[TX]),
                         fmt_ratio(tx["cpu_us_per_record"]),
                         fmt_ratio(tx["steady_seconds"]), fmt_ratio(tx["e2e_seconds"]),
                         " ".join(f"{r:.2f}" for r in tx["steady_seconds per run"])))
    return render(rows) if len(rows) > 1 else ""


def cpu_table(summaries):
    rows = [("workload", "ferry CPU/record", "python CPU/record", "bare C CPU/record",
             "ferry/python", "ferry/bare", "bare C peak RSS")]
    for workload, s in summaries.items():
        m = s["cpu_us_per_record"]
        rows.append((workload, fmt_us(m["ferry"]), fmt_us(m["python"]), fmt_us(m["bare"]),
                     fmt_ratio(m["ferry/python"]), fmt_ratio(m["ferry/bare"]),
                     fmt_mb(s["peak_rss_kb"]["bare"])))
    return render(rows)


# ---------------------------------------------------------------------------------- main

def main(argv=None):
    args = parse_args(argv)
    started = time.monotonic()
    atexit.register(procs.kill_all)

    def on_signal(signum, frame):
        raise KeyboardInterrupt(f"signal {signum}")
    signal.signal(signal.SIGTERM, on_signal)

    command = shlex.join(["/usr/bin/python3", os.path.relpath(os.path.abspath(__file__), REPO)]
                         + (sys.argv[1:] if argv is None else list(argv)))
    doc = {"date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
           "machine": machine_info(), "command": command,
           "config": {"records": args.records, "runs": args.runs, "partitions": args.partitions,
                      "batch": args.batch, "source_batch": args.source_batch,
                      "sink_batch": args.sink_batch, "poll_ms": args.poll_ms,
                      "build_dir": args.build_dir,
                      "workloads": args.workloads, "verify": args.verify,
                      "sink_consumer_settings": args.consumer, "worker_props": args.worker_props,
                      "perf": bool(args.perf)},
           "workloads": {w: {"runs": []} for w in args.workloads}, "problems": [], "ok": False}
    tmp = tempfile.mkdtemp(prefix="ferry-bench-")
    log(f"ferry bench: {args.records} records x {args.runs} run(s), workloads "
        f"{','.join(args.workloads)}; {args.partitions} partitions (source, sink), "
        f"{max(16, args.min_partitions)} (set, hset); batch {args.source_batch} (source), "
        f"{args.batch} (sink), "
        f"{args.sink_batch} (set, hset baselines); build {args.build_dir}, {os.cpu_count()} "
        f"cores; temp {tmp}")
    failed = None
    try:
        ctx = Context(args, tmp, build_bare(tmp))
        for run in range(1, args.runs + 1):
            for workload in args.workloads:
                impls = IMPLS if workload == "source" else sink_impls(workload)
                k = (run - 1) % len(impls)
                order = list(impls[k:] + impls[:k])
                if workload == "source":
                    results = run_source(ctx, run, order)
                else:
                    results = run_sink(ctx, run, order, workload)
                doc["workloads"][workload]["runs"].append(results)
                for impl, res in results.items():
                    for p in res.get("problems", []):
                        doc["problems"].append(f"run {run} {workload} {impl}: {p}")
    except (BenchError, KeyboardInterrupt) as e:
        failed = f"{type(e).__name__}: {e}"
        log(f"\nbench aborted: {failed}")
        doc["problems"].append(failed)
    except Exception as e:  # noqa: BLE001 - report, clean up, exit 1
        failed = f"{type(e).__name__}: {e}"
        log(f"\nbench aborted:\n{traceback.format_exc()}")
        doc["problems"].append(failed)
    finally:
        procs.kill_all()

    summaries = {w: summarize(d["runs"]) for w, d in doc["workloads"].items() if d["runs"]}
    for w, s in summaries.items():
        doc["workloads"][w]["summary"] = s
    doc["seconds"] = time.monotonic() - started
    doc["ok"] = failed is None and not doc["problems"]
    if summaries:
        n_runs = max(len(d["runs"]) for d in doc["workloads"].values())
        log(f"\nSteady throughput, median of {n_runs} run(s): records/s over the second half of "
            f"the transfer (from midway between the first record and the last seen at the "
            f"destination, to the last; start-up left out). Ratios are medians of the per-run "
            f"ferry/baseline ratios; peak RSS is the highest VmHWM over the runs.")
        log(table(summaries, "steady_rate"))
        log("\nFrom start: records / (done - connector creation or bridge start), including "
            "task start-up and, for the sink, the consumer group join.")
        log(table(summaries, "e2e_rate"))
        log("\nCPU time per record (all threads of the process doing the moving, from start to "
            "done; median; ratios are medians of per-run ratios, lower is better for ferry).")
        log(cpu_table(summaries))
        if any(w in GOAL_WORKLOADS for w in summaries):
            log("\nGoals (issue 5: sinks, issue 6: source): steady rec/s and CPU seconds per "
                "million records (medians), ratios are medians of per-run ratios.")
            log(goals_table(summaries))
        t = tx_table(summaries)
        if t:
            log("\nTwo-transform chain (issue 7): ferry with InsertField$Value + MaskField$Value "
                "over plain ferry on the same records (Redis then writes one more field per "
                "hash), and over plain ferry on records that already are what the chain makes "
                "(the same Redis writes: the chain's own cost); medians of per-run ratios "
                "(1.10x = 10% more).")
            log(t)
    log(f"\n{'OK' if doc['ok'] else 'FAILED'}: {len(doc['problems'])} problem(s), "
        f"{doc['seconds']:.0f} s in all")
    for p in doc["problems"]:
        log(f"  - {p}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(doc, f, indent=2)
            f.write("\n")
    if doc["ok"] and not args.keep_tmp:
        shutil.rmtree(tmp, ignore_errors=True)
    else:
        log(f"logs kept in {tmp}")
    return 0 if doc["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
