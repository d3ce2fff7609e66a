"""What scraping GET /metrics costs a sink: one STRING sink connector (1 task) writes N records
per run (16 partitions by default); each run pauses it, produces the records, then resumes it and
measures the worker's CPU from the resume until Redis counted the run's SETs, with and without a
scraper that GETs /metrics every --interval seconds (1 by default, over one keep-alive connection
as Prometheus does), alternating on/off, off/on, ... Reports the worker's CPU per million records
of each run and the median ratio scraped / not scraped. Then the worker's CPU per scrape alone:
--scrapes GETs of /metrics over one keep-alive connection while the sink task is idle.

With --callgrind N it instead runs the worker under valgrind's callgrind while the sink writes N
records, without a scraper, and reports the instructions the worker spent on keeping metrics
(the Redis client's per-pipeline counts and histograms, the sink's lag refresh, the task's
counters and batch timer) against all of its instructions: a count that does not depend on how
noisy the machine is.

The measured window holds only the records' work (no group join or connector start, which a
run that creates its connector spends mostly idle), and the CPU is the sum of the worker's
threads' run time (/proc/PID/task/*/schedstat, nanoseconds) rather than 10 ms clock ticks.

    /usr/bin/python3 bench/metrics_overhead.py [--records 600000] [--runs 5] [--interval 1]
                                               [--scrapes 2000] [--build-dir build]
    /usr/bin/python3 bench/metrics_overhead.py --callgrind 100000 [--build-dir build]
"""

import argparse
import http.client
import os
import statistics
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import procs  # noqa: E402

TOPIC = "mo"
SINK = "mo-sink"


def produce(bootstrap, n):
    from confluent_kafka import Producer
    p = Producer({"bootstrap.servers": bootstrap, "linger.ms": 20, "batch.num.messages": 10000,
                  "queue.buffering.max.messages": 1000000, "log_level": 3})
    value = b"v" * 100
    for i in range(n):
        while True:
            try:
                p.produce(TOPIC, key=f"k{i % (n // 10)}".encode(), value=value)
                break
            except BufferError:
                p.poll(0.05)
        if i % 10000 == 0:
            p.poll(0)
    p.flush(60)


def thread_cpu_seconds(pid):
    """Run time of all the live threads of `pid`, in seconds (nanosecond resolution)."""
    total = 0
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                total += int(f.read().split()[0])
        except (FileNotFoundError, ProcessLookupError):
            pass  # the thread ended meanwhile
    return total / 1e9


def create_sink(worker, redis, name):
    worker.create_connector(name, {
        "connector.class": "com.redis.kafka.connect.RedisSinkConnector", "tasks.max": "1",
        "topics": TOPIC, "redis.uri": redis.uri, "redis.type": "STRING",
        "value.converter": "org.apache.kafka.connect.storage.StringConverter"})


def request_state(worker, name, action):
    """PUT /connectors/{name}/{action} (pause, resume), without waiting for its effect."""
    status, body = worker.request("PUT", f"/connectors/{name}/{action}")
    if status not in (200, 202):
        raise procs.BenchError(f"PUT /connectors/{name}/{action} answered {status}: {body}")


def set_state(worker, name, action, state):
    request_state(worker, name, action)
    procs.wait_until(lambda: (worker.task_state(name) or {}).get("state") == state, 60,
                     f"task of {name} {state}")


def one_run(worker, redis, bootstrap, n, scrape, interval):
    """Produces n records while the sink is paused, then measures the worker's CPU from resuming
    it until Redis counted n more SETs."""
    set_state(worker, SINK, "pause", "PAUSED")
    produce(bootstrap, n)
    target = redis.command_calls("set") + n
    stop = threading.Event()
    scrapes = [0]

    def scraper():  # one keep-alive connection, as Prometheus scrapes
        conn = http.client.HTTPConnection("127.0.0.1", worker.port, timeout=5)
        while not stop.is_set():
            conn.request("GET", "/metrics")
            r = conn.getresponse()
            r.read()
            assert r.status == 200, r.status
            scrapes[0] += 1
            stop.wait(interval)
        conn.close()
    t = threading.Thread(target=scraper) if scrape else None
    cpu0, t0 = thread_cpu_seconds(worker.pid), time.monotonic()
    if t:
        t.start()
    request_state(worker, SINK, "resume")
    procs.wait_until(lambda: redis.command_calls("set") >= target, 300, f"{n} more SETs",
                     interval=0.005)
    wall, cpu = time.monotonic() - t0, thread_cpu_seconds(worker.pid) - cpu0
    stop.set()
    if t:
        t.join()
    return cpu / n * 1e6, wall, scrapes[0]


def cpu_per_scrape(worker, scrapes):
    """The worker's CPU seconds per GET /metrics, with the sink task running idle (its records
    written), measured over `scrapes` requests on one keep-alive connection."""
    conn = http.client.HTTPConnection("127.0.0.1", worker.port, timeout=10)
    size = 0

    def get():
        conn.request("GET", "/metrics")
        r = conn.getresponse()
        body = r.read()
        assert r.status == 200, r.status
        return len(body)
    for _ in range(50):  # warm up
        get()
    idle0, t0 = thread_cpu_seconds(worker.pid), time.monotonic()
    time.sleep(1.0)  # the idle worker's own CPU (heartbeats, polls), subtracted below
    idle = (thread_cpu_seconds(worker.pid) - idle0) / (time.monotonic() - t0)
    cpu0, t0 = thread_cpu_seconds(worker.pid), time.monotonic()
    for _ in range(scrapes):
        size = get()
    wall = time.monotonic() - t0
    cpu = thread_cpu_seconds(worker.pid) - cpu0 - idle * wall
    conn.close()
    return cpu / scrapes, size


# What keeping metrics runs in the sink's task thread (none of these calls another): the Redis
# client's per-pipeline accounting, the lag refresh (once a second), and whatever of
# ferry/core/metrics.hpp (counters, batch timer) is inlined anywhere.
METRIC_FUNCTIONS = ("ferry::clients::redis_connection::count_roundtrip(",
                    "ferry::core::sink_task_runner::refresh_lag(")
METRIC_HEADER = "/ferry/core/metrics.hpp"


def keeps_metrics(file, function):
    return function.startswith(METRIC_FUNCTIONS) or file.endswith(METRIC_HEADER)


def callgrind_run(args, tmp):
    n = args.callgrind
    wrapper, out_file = procs.callgrind_worker(os.path.join(args.build_dir, "ferry-worker"), tmp,
                                               "worker")
    redis = procs.RedisServer(tmp)
    kafka = procs.KafkaDev(os.path.join(args.build_dir, "ferry-kafka-dev"), tmp,
                           {TOPIC: args.partitions})
    produce(kafka.bootstrap, n)
    worker = procs.FerryWorker(wrapper, tmp, kafka.bootstrap, "worker",
                               {"consumer.session.timeout.ms": "30000"})
    create_sink(worker, redis, SINK)
    procs.wait_until(lambda: redis.command_calls("set") >= n, 900, f"{n} SETs under callgrind")
    worker.stop()
    total, task, metric = procs.callgrind_costs(out_file, keeps_metrics)
    print(f"callgrind, {n} records: the worker ran {total / n:.0f} instructions per record "
          f"(start-up included), its sink task thread {task / n:.0f}; keeping metrics "
          f"{metric / n:.1f} per record = {metric / total:.3%} of the worker's, "
          f"{metric / task:.3%} of the task thread's")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--records", type=int, default=600_000)
    ap.add_argument("--runs", type=int, default=5,
                    help="runs with the scraper, and as many without")
    ap.add_argument("--partitions", type=int, default=16)
    ap.add_argument("--interval", type=float, default=1.0)
    ap.add_argument("--scrapes", type=int, default=2000)
    ap.add_argument("--callgrind", type=int, metavar="N", default=0,
                    help="count the instructions of keeping metrics under callgrind, N records")
    ap.add_argument("--build-dir", default=os.path.join(os.path.dirname(__file__), "..", "build"))
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="ferry-metrics-overhead-") as tmp:
        try:
            if args.callgrind:
                callgrind_run(args, tmp)
                return
            redis = procs.RedisServer(tmp)
            kafka = procs.KafkaDev(os.path.join(args.build_dir, "ferry-kafka-dev"), tmp,
                                   {TOPIC: args.partitions})
            worker = procs.FerryWorker(os.path.join(args.build_dir, "ferry-worker"), tmp,
                                       kafka.bootstrap, "worker",
                                       {"consumer.session.timeout.ms": "6000"})
            create_sink(worker, redis, SINK)
            produce(kafka.bootstrap, 10_000)  # warm up: joined, assigned, writing
            procs.wait_until(lambda: redis.command_calls("set") >= 10_000, 120, "warm-up SETs")
            pairs = []
            for i in range(args.runs):
                pair = {}
                for scrape in ((True, False) if i % 2 == 0 else (False, True)):
                    cpu, wall, scrapes = one_run(worker, redis, kafka.bootstrap, args.records,
                                                 scrape, args.interval)
                    pair[scrape] = cpu
                    print(f"run {i}: scrape={'on ' if scrape else 'off'} CPU {cpu:.3f} s/M "
                          f"records, wall {wall:.2f} s, {scrapes} scrapes", flush=True)
                pairs.append(pair)
            on = statistics.median(p[True] for p in pairs)
            off = statistics.median(p[False] for p in pairs)
            ratios = sorted(p[True] / p[False] for p in pairs)
            print(f"median CPU s/M records: scraped {on:.3f}, not scraped {off:.3f}; per-pair "
                  f"ratios scraped/not {', '.join(f'{r:.3f}' for r in ratios)}, median "
                  f"{statistics.median(ratios):.3f}")
            per_scrape, size = cpu_per_scrape(worker, args.scrapes)
            print(f"CPU per scrape ({size} bytes of metrics, {args.scrapes} scrapes): "
                  f"{per_scrape * 1e3:.3f} ms")
            worker.stop()
        finally:
            procs.kill_all()


if __name__ == "__main__":
    main()
