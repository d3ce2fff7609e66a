"""What scraping GET /metrics costs a sink: the same STRING sink run (N records, 16 partitions by
default, 1 task) with and without a scraper that GETs /metrics every --interval seconds (0.1 by
default, over one keep-alive connection as Prometheus does), alternating, in one worker; reports
the worker's CPU seconds per million records and the wall time of each run, and the median ratio
scraped / not scraped. Then the worker's CPU per scrape alone: --scrapes GETs of /metrics over one
keep-alive connection while the sink task is idle.

    /usr/bin/python3 bench/metrics_overhead.py [--records 300000] [--runs 3] [--interval 0.1]
                                               [--scrapes 2000] [--build-dir build]
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


def sink_until_written(worker, redis, n, name):
    """Creates the STRING sink `name` (1 task) and waits until Redis counted n SETs."""
    worker.create_connector(name, {
        "connector.class": "com.redis.kafka.connect.RedisSinkConnector", "tasks.max": "1",
        "topics": TOPIC, "redis.uri": redis.uri, "redis.type": "STRING",
        "value.converter": "org.apache.kafka.connect.storage.StringConverter"})
    procs.wait_until(lambda: redis.command_calls("set") >= n, 300, f"{n} SETs")


def one_run(worker, redis, n, name, scrape, interval):
    redis.reset()
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
    cpu0, t0 = procs.cpu_seconds(worker.pid), time.monotonic()
    if t:
        t.start()
    sink_until_written(worker, redis, n, name)
    wall, cpu = time.monotonic() - t0, procs.cpu_seconds(worker.pid) - cpu0
    stop.set()
    if t:
        t.join()
    worker.delete_connector(name)
    return cpu / n * 1e6, wall, scrapes[0]


def cpu_per_scrape(worker, redis, n, name, scrapes):
    """The worker's CPU seconds per GET /metrics, with one sink task running idle (its records
    written), measured over `scrapes` requests on one keep-alive connection."""
    redis.reset()
    sink_until_written(worker, redis, n, name)
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
    idle0, t0 = procs.cpu_seconds(worker.pid), time.monotonic()
    time.sleep(1.0)  # the idle worker's own CPU (heartbeats, polls), subtracted below
    idle = (procs.cpu_seconds(worker.pid) - idle0) / (time.monotonic() - t0)
    cpu0, t0 = procs.cpu_seconds(worker.pid), time.monotonic()
    for _ in range(scrapes):
        size = get()
    wall = time.monotonic() - t0
    cpu = procs.cpu_seconds(worker.pid) - cpu0 - idle * wall
    conn.close()
    worker.delete_connector(name)
    return cpu / scrapes, size


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--records", type=int, default=300_000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--partitions", type=int, default=16)
    ap.add_argument("--interval", type=float, default=0.1)
    ap.add_argument("--scrapes", type=int, default=2000)
    ap.add_argument("--build-dir", default=os.path.join(os.path.dirname(__file__), "..", "build"))
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="ferry-metrics-overhead-") as tmp:
        try:
            redis = procs.RedisServer(tmp)
            kafka = procs.KafkaDev(os.path.join(args.build_dir, "ferry-kafka-dev"), tmp,
                                   {TOPIC: args.partitions})
            produce(kafka.bootstrap, args.records)
            worker = procs.FerryWorker(os.path.join(args.build_dir, "ferry-worker"), tmp,
                                       kafka.bootstrap, "worker",
                                       {"consumer.session.timeout.ms": "6000"})
            results = {True: [], False: []}
            for i in range(args.runs * 2):
                scrape = (i % 2 == 0) == (i // 2 % 2 == 0)  # on/off, off/on, on/off ...
                cpu, wall, scrapes = one_run(worker, redis, args.records, f"s{i}", scrape,
                                             args.interval)
                results[scrape].append((cpu, wall))
                print(f"run {i}: scrape={'on ' if scrape else 'off'} CPU {cpu:.3f} s/M records, "
                      f"wall {wall:.2f} s, {scrapes} scrapes", flush=True)
            on = statistics.median(c for c, _ in results[True])
            off = statistics.median(c for c, _ in results[False])
            print(f"median CPU s/M records: scraped {on:.3f}, not scraped {off:.3f}, "
                  f"ratio {on / off:.3f}")
            per_scrape, size = cpu_per_scrape(worker, redis, args.records, "scrapes", args.scrapes)
            print(f"CPU per scrape ({size} bytes of metrics, {args.scrapes} scrapes): "
                  f"{per_scrape * 1e3:.3f} ms")
            worker.stop()
        finally:
            procs.kill_all()


if __name__ == "__main__":
    main()
