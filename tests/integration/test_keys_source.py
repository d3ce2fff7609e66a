"""Key change capture (ferry.redis.RedisKeysSourceConnector): keyspace notifications turned into
one record per change with the key's whole state, read back from Kafka with kcat.

    /usr/bin/python3 tests/integration/test_keys_source.py --build-dir BUILD [-v] [-k name]

Covers: every type (string, hash, list, set, zset, stream), DEL, EXPIRE and an actual expiry;
a worker restart writes only the keys that changed meanwhile; a subscriber connection killed
(CLIENT KILL TYPE pubsub) or a Redis restart loses no change (reconciling SCAN: changes and
deletions made while nobody listened show up); notifications switched off fail the task with a
message saying what to set. Real redis-server, ferry-kafka-dev and ferry-worker; no fixed sleeps.
"""

import json
import os
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
import ferry_harness as fh  # noqa: E402
from ferry_harness import wait_until  # noqa: E402
from test_redis_cluster import RedisCluster  # noqa: E402  (3 masters on loopback)

TOPIC = "rediskeys"
CONNECTOR = "keys"


def keys_config(redis, **extra):
    cfg = {"connector.class": "com.redis.kafka.connect.RedisKeysSourceConnector",
           "tasks.max": "1", "redis.uri": redis.uri, "redis.keys.pattern": "*",
           "redis.keys.notify.events": "KA"}
    cfg.update(extra)
    return cfg


def records(kafka, topic=TOPIC):
    """[(key, value dict or None)] of every record of `topic`, in no particular order across
    partitions (per key: in order, since a key always lands in one partition)."""
    out = []
    try:
        msgs = fh.kcat_consume_json(kafka.bootstrap, topic, timeout=60)
    except AssertionError:
        return []  # the topic does not exist yet
    for m in msgs:
        payload = m.get("payload")
        out.append((m.get("key"), json.loads(payload) if payload is not None else None))
    return out


def metric_total(worker, name):
    status, body, _ = worker.get("/metrics")
    if status != 200:
        return None
    text = body if isinstance(body, str) else body.decode() if isinstance(body, bytes) else ""
    total = 0.0
    for line in text.splitlines():
        if line.startswith(name + "{") or line.startswith(name + " "):
            total += float(line.rsplit(" ", 1)[1])
    return total


class KeysSourceTest(fh.StackTest):

    def start_connector(self, **extra):
        self.worker.create_connector(CONNECTOR, keys_config(self.redis, **extra))
        self.worker.wait_running(CONNECTOR)

    def history(self, key):
        return [v for k, v in records(self.kafka) if k == key]

    def wait_event(self, key, predicate, what, timeout=30):
        """Waits until the latest record of `key` satisfies `predicate`; returns it."""
        def check():
            self.worker.check_not_failed(CONNECTOR)
            h = self.history(key)
            return h[-1] if h and predicate(h[-1]) else None
        return wait_until(check, timeout, f"{what} for key {key}")

    def test_every_type_delete_expire_and_expiry(self):
        self.start_connector()
        r = self.redis

        r.cli("SET", "s", "hello")
        v = self.wait_event("s", lambda v: v["string"] == "hello", "SET")
        self.assertEqual((v["type"], v["event"], v["ttl"], v["key"]), ("string", "set", None, "s"))

        r.cli("HSET", "h", "a", "1", "b", "2")
        v = self.wait_event("h", lambda v: v["hash"] == {"a": "1", "b": "2"}, "HSET")
        self.assertEqual((v["type"], v["event"]), ("hash", "hset"))

        r.cli("LPUSH", "l", "x", "y")
        v = self.wait_event("l", lambda v: v["list"] == ["y", "x"], "LPUSH")
        self.assertEqual((v["type"], v["event"]), ("list", "lpush"))

        r.cli("SADD", "st", "m2", "m1")
        v = self.wait_event("st", lambda v: v["set"] == ["m1", "m2"], "SADD")
        self.assertEqual((v["type"], v["event"]), ("set", "sadd"))

        r.cli("ZADD", "z", "1.5", "a", "2", "b")
        v = self.wait_event("z", lambda v: v["zset"] == {"a": 1.5, "b": 2.0}, "ZADD")
        self.assertEqual((v["type"], v["event"]), ("zset", "zadd"))

        entry = r.cli("XADD", "x", "*", "f", "v")
        v = self.wait_event("x", lambda v: v["stream"] is not None, "XADD")
        self.assertEqual(v["stream"], [{"id": entry, "body": {"f": "v"}}])
        self.assertEqual((v["type"], v["event"]), ("stream", "xadd"))

        r.cli("DEL", "s")
        v = self.wait_event("s", lambda v: v["event"] == "del", "DEL")
        self.assertEqual((v["type"], v["string"], v["ttl"]), ("none", None, None))

        now_ms = int(r.cli("TIME").split("\n")[0]) * 1000
        r.cli("EXPIRE", "h", "1000")
        v = self.wait_event("h", lambda v: v["event"] == "expire", "EXPIRE")
        self.assertGreaterEqual(v["ttl"], now_ms + 999_000)  # absolute, Unix ms (as rkc)
        self.assertEqual(v["hash"], {"a": "1", "b": "2"})

        r.cli("SET", "e", "soon", "PX", "1500")
        self.wait_event("e", lambda v: v["string"] == "soon" and v["ttl"], "SET with PX")
        v = self.wait_event("e", lambda v: v["event"] == "expired", "expiry")
        self.assertEqual(v["type"], "none")

        # One record per change: nothing was written twice.
        counts = {}
        for k, _ in records(self.kafka):
            counts[k] = counts.get(k, 0) + 1
        self.assertEqual(counts, {"s": 2, "h": 2, "l": 1, "st": 1, "z": 1, "x": 1, "e": 2})

    def test_restart_writes_only_what_changed(self):
        r = self.redis
        r.cli("CONFIG", "SET", "notify-keyspace-events", "KA")
        r.pipe([["SET", f"k{i}", f"v{i}"] for i in range(50)] +
               [["HSET", f"h{i}", "f", str(i)] for i in range(50)])
        self.worker.create_connector(CONNECTOR, keys_config(self.redis,
                                                            **{"redis.keys.notify.events": ""}))
        self.worker.wait_running(CONNECTOR)
        wait_until(lambda: len(records(self.kafka)) >= 100, 60, "the 100-key snapshot in Kafka")
        snapshot = records(self.kafka)
        self.assertEqual(len(snapshot), 100)
        self.assertTrue(all(v["event"] == "scan" for _, v in snapshot))
        self.assertEqual(dict(snapshot)["h7"]["hash"], {"f": "7"})

        code, _ = self.worker.terminate()
        self.assertEqual(code, 0)
        r.cli("SET", "k3", "changed")
        r.cli("HSET", "h4", "g", "new")
        self.worker.start()
        self.worker.wait_running(CONNECTOR)
        self.wait_event("k3", lambda v: v["string"] == "changed", "the change made while stopped")
        self.wait_event("h4", lambda v: v["hash"] == {"f": "4", "g": "new"},
                        "the change made while stopped")
        r.cli("SET", "marker", "1")
        self.wait_event("marker", lambda v: v["string"] == "1", "a live change after the restart")
        # Everything the restarted task wrote is in Kafka: its write count settles there.
        def settled():
            written = metric_total(self.worker,
                                   "kafka_connect_source_task_source_record_write_total")
            return written if written and len(records(self.kafka)) == 100 + written else None
        written = wait_until(settled, 30, "every record of the restarted task in Kafka")
        keys_after = sorted(k for k, _ in records(self.kafka))
        counts = {}
        for k in keys_after:
            counts[k] = counts.get(k, 0) + 1
        rewritten = sorted(k for k, c in counts.items() if c > 1 or k == "marker")
        self.assertEqual(rewritten, ["h4", "k3", "marker"])
        self.assertEqual(written, 3)

    def test_killed_connection_loses_no_change(self):
        self.start_connector()
        r = self.redis
        for k in ("a", "b", "c"):
            r.cli("SET", k, "1")
        for k in ("a", "b", "c"):
            self.wait_event(k, lambda v: v["string"] == "1", "SET")
        # The kill and the changes in one pipeline: Redis runs them before the task can
        # subscribe again, so the reconciling SCAN is what finds them.
        r.pipe([["CLIENT", "KILL", "TYPE", "pubsub"], ["SET", "a", "2"], ["DEL", "b"],
                ["HSET", "d", "f", "v"]])
        self.wait_event("a", lambda v: v["string"] == "2", "change while disconnected")
        v = self.wait_event("b", lambda v: v["type"] == "none", "deletion while disconnected")
        self.assertEqual(v["event"], "del")
        self.wait_event("d", lambda v: v["hash"] == {"f": "v"}, "new key while disconnected")
        wait_until(lambda: r.cli("PUBSUB", "NUMPAT") == "1", 30, "the task to subscribe again")
        r.cli("SET", "c", "3")
        self.wait_event("c", lambda v: v["string"] == "3", "live change after the reconnect")
        self.assertEqual(len(self.history("c")), 2)  # c did not change meanwhile: not rewritten

    def test_redis_restart_loses_no_change(self):
        self.start_connector()
        r = self.redis
        for k in ("a", "b"):
            r.cli("SET", k, "1")
            self.wait_event(k, lambda v: v["string"] == "1", "SET")
        # No persistence: Redis comes back empty and without the notification setting, which
        # the task sets again (redis.keys.notify.events).
        r.stop()
        r.start()
        r.cli("SET", "c", "after")
        for k in ("a", "b"):
            v = self.wait_event(k, lambda v: v["type"] == "none", "deletion by the restart", 60)
            self.assertEqual(v["event"], "del")
        self.wait_event("c", lambda v: v["string"] == "after", "key written after the restart",
                        60)
        wait_until(lambda: r.cli("CONFIG", "GET", "notify-keyspace-events").split("\n")[1] != "",
                   30, "notifications switched on again")
        r.cli("SET", "d", "live")
        self.wait_event("d", lambda v: v["string"] == "live", "live change after the restart")
        self.assertIn("Reading from the source failed", self.worker.log_text())

    def test_notifications_off_fail_the_task_with_advice(self):
        self.worker.create_connector(CONNECTOR, keys_config(self.redis,
                                                            **{"redis.keys.notify.events": ""}))

        def failed_trace():
            s = self.worker.status(CONNECTOR)
            tasks = (s or {}).get("tasks", [])
            return tasks[0].get("trace") if tasks and tasks[0]["state"] == "FAILED" else None
        trace = wait_until(failed_trace, 30, "the task to fail")
        self.assertIn("notify-keyspace-events", trace)
        self.assertIn("KA", trace)


class KeysSourceClusterTest(unittest.TestCase):
    """Keyspace notifications are node-local: the task must listen to every master."""

    def setUp(self):
        tmp = tempfile.TemporaryDirectory(prefix="ferry-keys-cluster-")
        self.addCleanup(tmp.cleanup)
        self.cluster = RedisCluster(tmp.name)
        self.addCleanup(self.cluster.stop)
        self.kafka = fh.kafka_dev(fh.BUILD_DIR)
        self.addCleanup(fh.stop_kafka, self.kafka)
        self.worker = fh.Worker(fh.BUILD_DIR, tmp.name, self.kafka.bootstrap, start=False)
        self.addCleanup(self.worker.close)
        fh.dump_on_failure(self, self.worker, self.kafka)
        self.worker.start()

    def set(self, key, value):
        self.cluster.cli(self.cluster.ports[0], "-c", "SET", key, value)

    def test_snapshot_and_changes_on_every_master(self):
        for i in range(30):
            self.set(f"before:{i}", "1")
        self.assertTrue(all(int(self.cluster.cli(p, "DBSIZE")) > 0 for p in self.cluster.ports))
        port = self.cluster.ports[1]
        self.worker.create_connector(CONNECTOR, {
            "connector.class": "ferry.redis.RedisKeysSourceConnector", "tasks.max": "1",
            "redis.uri": f"redis://127.0.0.1:{port}", "redis.cluster": "true",
            "redis.keys.notify.events": "KA"})
        self.worker.wait_running(CONNECTOR)

        def keys_in_kafka(prefix):
            self.worker.check_not_failed(CONNECTOR)
            return {k for k, _ in records(self.kafka) if k.startswith(prefix)}
        wait_until(lambda: len(keys_in_kafka("before:")) == 30, 60, "the snapshot of 3 masters")
        for i in range(30):
            self.set(f"live:{i}", "2")
        wait_until(lambda: len(keys_in_kafka("live:")) == 30, 60, "changes on every master")
        self.assertEqual(len(records(self.kafka)), 60)
        # Each master got its own subscriber.
        for p in self.cluster.ports:
            self.assertEqual(self.cluster.cli(p, "PUBSUB", "NUMPAT"), "1")


if __name__ == "__main__":
    BUILD_DIR, argv = fh.parse_args()
    unittest.main(argv=argv)
