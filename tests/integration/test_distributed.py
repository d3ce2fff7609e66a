"""Distributed mode: several `ferry-worker distributed` processes with one group.id share the
connectors and tasks through Kafka's group coordinator, keep configs, offsets and statuses in
Kafka Connect's internal topics, and take over the work of a worker that dies.
The cluster runs on a `ferry-kafka-dev --brokers 3`.

    /usr/bin/python3 tests/integration/test_distributed.py --build-dir BUILD [-v]
"""

import collections
import datetime
import json
import os
import re
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
import ferry_harness as fh  # noqa: E402

BUILD_DIR = None
GROUP = "ferry-it"
TOPICS = {"connect-configs": 1, "connect-offsets": 5, "connect-status": 3,
          f"{GROUP}-slots": 64, "sink-in": 6}
SESSION_MS = 3000
# The acceptance bound for moving a dead worker's tasks is session.timeout.ms + 5 s in the
# optimised build; the sanitizer build runs everything ~3x slower and gets 3 s more.
MOVE_LIMIT_S = SESSION_MS / 1000 + 5 + (3 if os.environ.get("ASAN_OPTIONS") else 0)


class Cluster:
    """A dev broker, a Redis server and N distributed workers, cleaned up with the test."""

    def __init__(self, testcase, workers=3, brokers=3, topics=None):
        if os.environ.get("FERRY_KEEP_TMP"):  # keeps the workers' logs for a post-mortem
            self.dir = tempfile.mkdtemp(prefix="ferry-dist-")
            print(f"\nlogs kept in {self.dir}", file=sys.stderr)
        else:
            tmp = tempfile.TemporaryDirectory(prefix="ferry-dist-")
            testcase.addCleanup(tmp.cleanup)
            self.dir = tmp.name
        self.redis = fh.RedisServer(self.dir)
        testcase.addCleanup(self.redis.stop)
        self.kafka = fh.kafka_dev(BUILD_DIR, brokers=brokers, topics=topics or TOPICS)
        testcase.addCleanup(fh.stop_kafka, self.kafka)
        self.workers = []
        for i in range(workers):
            w = fh.Worker(BUILD_DIR, self.dir, self.kafka.bootstrap, name=f"w{i}",
                          mode="distributed", start=False, properties={
                              "group.id": GROUP,
                              "config.storage.topic": "connect-configs",
                              "offset.storage.topic": "connect-offsets",
                              "status.storage.topic": "connect-status",
                              "session.timeout.ms": str(SESSION_MS),
                              "heartbeat.interval.ms": "500",
                              "consumer.session.timeout.ms": str(SESSION_MS),
                              "consumer.heartbeat.interval.ms": "500",
                          })
            testcase.addCleanup(w.close)
            self.workers.append(w)
        fh.dump_on_failure(testcase, *self.workers, self.redis, self.kafka)
        self.start_all()

    def start_all(self):
        threads = [threading.Thread(target=w.start, kwargs={"timeout": 60}) for w in self.workers
                   if not w.running()]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        for w in self.workers:
            self.assert_up(w)

    @staticmethod
    def assert_up(worker):
        if not worker.running():
            raise AssertionError(f"{worker.name} did not start: {worker.log_text(tail=3000)}")

    def live(self):
        return [w for w in self.workers if w.running()]


def task_owners(status):
    return collections.Counter(t["worker_id"] for t in status["tasks"])


def source_config(redis, streams, tasks):
    return {"connector.class": fh.SOURCE_CLASS, "tasks.max": str(tasks), "redis.uri": redis.uri,
            "redis.stream.name": ",".join(streams)}


def sink_config(redis, tasks):
    return {"connector.class": fh.SINK_CLASS, "tasks.max": str(tasks), "redis.uri": redis.uri,
            "topics": "sink-in", "redis.type": "STRING", "redis.keyspace": "in"}


TASK_EVENT = re.compile(r"^(\S+) INFO  \[\w+\] (Source|Sink) task (started|stopped|held|resumed).*"
                        r"\(connector=(\S+) task=(\d+)\)$", re.M)


def task_intervals(worker):
    """(connector, task) -> [(start, end or None)] from a worker's log (every run)."""
    out = collections.defaultdict(list)
    for m in TASK_EVENT.finditer(worker.log_text()):
        t = datetime.datetime.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S.%fZ").timestamp()
        key = (m.group(4), int(m.group(5)))
        if m.group(3) in ("started", "resumed"):  # held: reads nothing during a rebalance
            out[key].append([t, None])
        elif out[key] and out[key][-1][1] is None:
            out[key][-1][1] = t
    return out


class Feeder(threading.Thread):
    """Adds `total` entries to each stream and as many records per stream to a topic, in
    steps, so data is still moving when something breaks."""

    def __init__(self, cluster, streams, topic, total, steps=20, pause=0.25):
        super().__init__(daemon=True)
        self.c, self.streams, self.topic = cluster, streams, topic
        self.total, self.steps, self.pause = total, steps, pause
        self.error = None

    def run(self):
        try:
            per = self.total // self.steps
            for step in range(self.steps):
                lo, hi = step * per, (step + 1) * per
                self.c.redis.pipe([["XADD", s, "*", "n", str(i)] for s in self.streams
                                   for i in range(lo, hi)])
                fh.kcat_produce(self.c.kafka.bootstrap, self.topic,
                                [(f"{s}{i}", str(i)) for s in self.streams
                                 for i in range(lo, hi)])
                time.sleep(self.pause)
        except Exception as e:  # reported by the test
            self.error = e


class DistributedTest(unittest.TestCase):

    def wait_all_running(self, worker, name, tasks, timeout=60):
        return worker.wait_running(name, tasks=tasks, timeout=timeout)

    def test_two_connectors_of_six_tasks_spread_over_three_workers(self):
        c = Cluster(self)
        w0, w1, w2 = c.workers
        streams = [f"s{i}" for i in range(6)]
        status, body, _ = w0.post("/connectors", {"name": "src",
                                                  "config": source_config(c.redis, streams, 6)})
        self.assertEqual(status, 201, body)
        status, body, _ = w1.post("/connectors", {"name": "snk",
                                                  "config": sink_config(c.redis, 6)})
        self.assertEqual(status, 201, body)
        for name in ("src", "snk"):
            self.wait_all_running(w2, name, 6)
        per_worker = collections.Counter()
        for name in ("src", "snk"):
            # Every worker answers for the whole cluster, with the same owners.
            answers = [w.get(f"/connectors/{name}/status")[1] for w in c.workers]
            fh.wait_until(lambda: all(a == answers[0] for a in
                                      [w.get(f"/connectors/{name}/status")[1] for w in c.workers]),
                          30, f"every worker to show the same status of {name}")
            status = w0.get(f"/connectors/{name}/status")[1]
            self.assertEqual(len(status["tasks"]), 6, status)
            per_worker.update(task_owners(status))
        self.assertEqual(set(per_worker), {w.worker_id for w in c.workers}, per_worker)
        for worker_id, n in per_worker.items():
            self.assertIn(n, (3, 4, 5), per_worker)
        # Data moves through tasks on every worker: 6 streams -> Kafka, a 6-partition topic -> Redis.
        c.redis.pipe([["XADD", s, "*", "n", str(i)] for s in streams for i in range(50)])
        fh.kcat_produce(c.kafka.bootstrap, "sink-in", [(f"k{i}", {"n": i}) for i in range(600)])
        fh.wait_until(lambda: int(c.redis.cli("EVAL", "return #redis.call('KEYS','in:*')", "0")) ==
                      600, 60, "600 keys from the sink")
        fh.wait_until(lambda: sum(fh.kafka_message_count(c.kafka.bootstrap, s) for s in streams) >=
                      300, 60, "300 stream entries in Kafka")

    def test_kill9_moves_the_work_and_loses_nothing(self):
        c = Cluster(self)
        streams = ["a", "b"]
        total = 50000  # per stream, and records into sink-in: 100k each way
        c.workers[0].create_connector("src", dict(source_config(c.redis, streams, 2),
                                                  **{"batch.size": "500"}))
        c.workers[1].create_connector("snk", sink_config(c.redis, 6))
        c.workers[2].wait_running("src", tasks=2, timeout=60)
        c.workers[2].wait_running("snk", tasks=6, timeout=60)
        # 50k entries into each stream, 100k records into sink-in.
        feeder = Feeder(c, streams, "sink-in", total)
        feeder.start()

        # Kill the worker with the most tasks once data is flowing.
        fh.wait_until(lambda: fh.kafka_message_count(c.kafka.bootstrap, "a") > 5000, 60,
                      "data flowing")
        owners = collections.Counter()
        for name in ("src", "snk"):
            owners.update(task_owners(c.workers[0].get(f"/connectors/{name}/status")[1]))
        victim = next(w for w in c.workers if w.worker_id == owners.most_common(1)[0][0])
        survivors = [w for w in c.workers if w is not victim]
        victim.kill9()
        killed = time.monotonic()

        def moved():
            for name, n in (("src", 2), ("snk", 6)):
                st = survivors[0].get(f"/connectors/{name}/status")[1]
                if len(st["tasks"]) != n or st["connector"]["worker_id"] == victim.worker_id:
                    return False
                for t in st["tasks"]:
                    if t["state"] != "RUNNING" or t["worker_id"] == victim.worker_id:
                        return False
            return True
        fh.wait_until(moved, MOVE_LIMIT_S, "every task RUNNING on a live worker",
                      interval=0.1)
        print(f"\nwork moved {time.monotonic() - killed:.1f} s after kill -9 "
              f"(session.timeout.ms={SESSION_MS})", file=sys.stderr)

        feeder.join(120)
        self.assertIsNone(feeder.error)
        fh.wait_until(lambda: int(c.redis.cli("EVAL", "return #redis.call('KEYS','in:*')", "0"))
                      == 100000, 120, "100000 keys from the sink")
        for s in streams:
            # Every entry arrives (duplicates are allowed: at-least-once).
            fh.wait_until(lambda s=s: len({k for k, _ in fh.kcat_consume(c.kafka.bootstrap, s)})
                          == total, 120, f"{total} distinct entries of stream {s} in Kafka",
                          interval=1.0)
        # No task ran on two live workers at once for more than a second.
        intervals = [task_intervals(w) for w in survivors]
        for key in set(intervals[0]) & set(intervals[1]):
            for s0, e0 in intervals[0][key]:
                for s1, e1 in intervals[1][key]:
                    overlap = min(e0 or 1e18, e1 or 1e18) - max(s0, s1)
                    self.assertLess(overlap, 1.0, f"task {key} ran on two workers at once")

    def test_one_broker_down_for_ten_seconds(self):
        c = Cluster(self)
        streams = ["a", "b"]
        total = 20000
        c.workers[0].create_connector("src", source_config(c.redis, streams, 2))
        c.workers[1].create_connector("snk", sink_config(c.redis, 6))
        c.workers[2].wait_running("src", tasks=2, timeout=60)
        c.workers[2].wait_running("snk", tasks=6, timeout=60)
        feeder = Feeder(c, streams, "sink-in", total, steps=40, pause=0.5)
        feeder.start()
        fh.wait_until(lambda: fh.kafka_message_count(c.kafka.bootstrap, "a") > 1000, 60,
                      "data flowing")
        self.assertTrue(c.kafka.control("broker-down 2").startswith("OK"))
        down = time.monotonic()
        time.sleep(10)  # the fault lasts 10 s
        self.assertTrue(c.kafka.control("broker-up 2").startswith("OK"))
        print(f"\nbroker 2 was down {time.monotonic() - down:.1f} s", file=sys.stderr)
        feeder.join(120)
        self.assertIsNone(feeder.error)
        fh.wait_until(lambda: int(c.redis.cli("EVAL", "return #redis.call('KEYS','in:*')", "0"))
                      == 2 * total, 120, f"{2 * total} keys from the sink")
        for s in streams:
            fh.wait_until(lambda s=s: len({k for k, _ in fh.kcat_consume(c.kafka.bootstrap, s)})
                          == total, 120, f"{total} distinct entries of stream {s} in Kafka")
        # Everything recovered by itself: every task RUNNING on a live worker, said by every worker.
        for w in c.workers:
            for name, n in (("src", 2), ("snk", 6)):
                w.wait_running(name, tasks=n, timeout=60)

    def test_writes_on_every_worker_at_once(self):
        c = Cluster(self)
        for i in range(3):
            c.workers[0].create_connector(f"p{i}", sink_config(c.redis, 1))
            c.workers[0].create_connector(f"d{i}", sink_config(c.redis, 1))
        results = {}

        def act(i, w):
            results[("create", i)] = w.post(
                "/connectors", {"name": f"n{i}", "config": sink_config(c.redis, 1)})[:2]
            results[("pause", i)] = w.put(f"/connectors/p{i}/pause")[:2]
            results[("delete", i)] = w.delete(f"/connectors/d{i}")[:2]
            # The same name created on every worker at once: one wins, the others are told it exists.
            results[("race", i)] = w.post(
                "/connectors", {"name": "race", "config": sink_config(c.redis, 1)})[:2]
        threads = [threading.Thread(target=act, args=(i, w)) for i, w in enumerate(c.workers)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        for i in range(3):
            self.assertEqual(results[("create", i)][0], 201, results)
            self.assertEqual(results[("pause", i)][0], 202, results)
            self.assertEqual(results[("delete", i)][0], 204, results)
        race = sorted(results[("race", i)][0] for i in range(3))
        self.assertEqual(race, [201, 409, 409], results)
        # Each worker answers from the config topic as far as it has read it (as in Kafka
        # Connect): a write another worker made shows up once this one has read that far.
        expected = ["n0", "n1", "n2", "p0", "p1", "p2", "race"]
        for w in c.workers:
            fh.wait_until(lambda w=w: sorted(w.get("/connectors")[1]) == expected, 30,
                          f"{w.name} lists {expected}")
        for i in range(3):
            c.workers[2].wait_running(f"p{i}", state="PAUSED", timeout=60)

    def test_whole_cluster_restart_keeps_connectors_states_and_offsets(self):
        c = Cluster(self, workers=2)
        w0, w1 = c.workers
        c.redis.pipe([["XADD", "orders", "*", "n", str(i)] for i in range(100)])
        w0.create_connector("src", source_config(c.redis, ["orders"], 1))
        w1.create_connector("snk", sink_config(c.redis, 2))
        fh.wait_until(lambda: fh.kafka_message_count(c.kafka.bootstrap, "orders") == 100, 60,
                      "100 entries in Kafka")
        status, body, _ = w1.put("/connectors/snk/pause")
        self.assertEqual(status, 202, body)
        w0.wait_running("snk", tasks=2, state="PAUSED", timeout=60)
        # The source offset reached the offsets topic before the stop.
        fh.wait_until(lambda: w1.get("/connectors/src/offsets")[1].get("offsets"), 30,
                      "the source offset")
        for w in c.workers:
            code, _ = w.terminate()
            self.assertEqual(code, 0, w.log_text(tail=3000))
        c.start_all()
        for w in c.workers:
            self.assertEqual(sorted(w.get("/connectors")[1]), ["snk", "src"])
        w1.wait_running("snk", tasks=2, state="PAUSED", timeout=60)
        w0.wait_running("src", timeout=60)
        c.redis.pipe([["XADD", "orders", "*", "n", str(i)] for i in range(100, 110)])
        fh.wait_until(lambda: fh.kafka_message_count(c.kafka.bootstrap, "orders") >= 110, 60,
                      "the 10 new entries in Kafka")
        # Resumed from the stored offset: nothing sent twice.
        self.assertEqual(fh.kafka_message_count(c.kafka.bootstrap, "orders"), 110)

    def test_reads_kafka_connect_topics_written_by_java_workers(self):
        topics = dict(TOPICS)
        c = Cluster(self, workers=0, topics=topics)
        ids = [c.redis.cli("XADD", "legacy", "*", "n", str(i)) for i in range(20)]
        config = {"connector.class": "com.redis.kafka.connect.RedisStreamSourceConnector",
                  "name": "legacy-src", "tasks.max": "1", "redis.uri": c.redis.uri,
                  "redis.stream.name": "legacy", "topic": "legacy-out"}
        # Records as a Java Connect worker writes them (HashMap order, compact JSON).
        fixtures = [
            ("target-state-legacy-src", json.dumps({"state": "STARTED", "state.v2": "STARTED"},
                                                   separators=(",", ":"))),
            ("connector-legacy-src", json.dumps({"properties": config}, separators=(",", ":"))),
            ("task-legacy-src-0", json.dumps({"properties": dict(config, **{
                "task.streams": "legacy"})}, separators=(",", ":"))),
            ("commit-legacy-src", '{"tasks":1}'),
            ("session-key", '{"key":"c2VjcmV0","algorithm":"HmacSHA256","creation-timestamp":1}'),
        ]
        # A connector whose task records were lost to compaction: its commit names 2 tasks that
        # are not there. The worker generates them again.
        broken = dict(config, name="broken-src", **{"redis.stream.name": "other",
                                                    "topic": "other-out"})
        fixtures += [
            ("connector-broken-src", json.dumps({"properties": broken}, separators=(",", ":"))),
            ("commit-broken-src", '{"tasks":2}'),
        ]
        fh.kcat_produce(c.kafka.bootstrap, "connect-configs", fixtures, partition=0)
        fh.kcat_produce(c.kafka.bootstrap, "connect-offsets",
                        [('["legacy-src",{"stream":"legacy"}]', json.dumps({"offset": ids[9]}))])
        w = fh.Worker(BUILD_DIR, c.dir, c.kafka.bootstrap, name="migrated",
                      mode="distributed", start=False, properties={
                          "group.id": GROUP, "config.storage.topic": "connect-configs",
                          "offset.storage.topic": "connect-offsets",
                          "status.storage.topic": "connect-status",
                          "session.timeout.ms": str(SESSION_MS)})
        self.addCleanup(w.close)
        fh.dump_on_failure(self, w)
        w.start(timeout=60)
        self.assertEqual(w.get("/connectors")[1], ["broken-src", "legacy-src"])
        w.wait_running("broken-src", timeout=60)
        self.assertEqual(w.get("/connectors/legacy-src/config")[1], config)
        w.wait_running("legacy-src", timeout=60)
        # It resumes after the stored offset: entries 10..19 only.
        fh.wait_until(lambda: fh.kafka_message_count(c.kafka.bootstrap, "legacy-out") >= 10, 60,
                      "entries after the migrated offset")
        keys = sorted(k for k, _ in fh.kcat_consume(c.kafka.bootstrap, "legacy-out"))
        self.assertEqual(keys, sorted(ids[10:]))


class InternalTopicsTest(unittest.TestCase):
    """Internal topics that would break a cluster stop the worker with exit 2 and a message."""

    def run_worker(self, kafka, tmp, config_topic):
        return fh.run_worker_once(BUILD_DIR, tmp, {
            "bootstrap.servers": kafka.bootstrap, "group.id": GROUP,
            "config.storage.topic": config_topic, "offset.storage.topic": "connect-offsets",
            "status.storage.topic": "connect-status"}, mode="distributed", timeout=120)

    def test_config_topic_with_several_partitions_or_missing(self):
        tmp = tempfile.TemporaryDirectory(prefix="ferry-topics-")
        self.addCleanup(tmp.cleanup)
        kafka = fh.kafka_dev(BUILD_DIR, topics=dict(TOPICS, **{"four-configs": 4}))
        self.addCleanup(fh.stop_kafka, kafka)
        p = self.run_worker(kafka, tmp.name, "four-configs")
        self.assertEqual(p.returncode, 2, p.stderr)
        self.assertIn("four-configs has 4 partitions; it must have exactly 1", p.stderr)
        # The dev broker cannot create topics: the worker says so instead of guessing.
        p = self.run_worker(kafka, tmp.name, "no-such-configs")
        self.assertEqual(p.returncode, 2, p.stderr)
        self.assertIn("no-such-configs does not exist and could not be created", p.stderr)

    def test_the_example_worker_config_runs(self):
        tmp = tempfile.TemporaryDirectory(prefix="ferry-example-")
        self.addCleanup(tmp.cleanup)
        kafka = fh.kafka_dev(BUILD_DIR, brokers=3, topics={
            "connect-configs": 1, "connect-offsets": 25, "connect-status": 5,
            "ferry-cluster-slots": 64})
        self.addCleanup(fh.stop_kafka, kafka)
        example = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "deploy",
                               "examples", "worker-distributed.properties")
        props = {}
        with open(example) as f:
            for line in f:
                line = line.strip()
                if line and not line.startswith("#"):
                    k, v = line.split("=", 1)
                    props[k] = v
        props["bootstrap.servers"] = kafka.bootstrap
        props.pop("listeners")  # the harness picks a free port
        w = fh.Worker(BUILD_DIR, tmp.name, kafka.bootstrap, mode="distributed", start=False,
                      properties=props)
        self.addCleanup(w.close)
        fh.dump_on_failure(self, w)
        w.start(timeout=60)
        self.assertEqual(w.get("/connectors")[:2], (200, []))


if __name__ == "__main__":
    BUILD_DIR, argv = fh.parse_args()
    unittest.main(argv=argv)
