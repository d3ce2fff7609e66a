"""Redis stream source: many streams over several tasks, kill -9, consumer groups (claims of a
dead consumer's entries, a vanished group), and streams found by a pattern.

    /usr/bin/python3 tests/integration/test_stream_source.py --build-dir BUILD [-v] [-k name]

Real redis-server, ferry-kafka-dev and ferry-worker processes; Kafka is read with kcat and Redis
with redis-cli, so the worker is not judged by its own code. No fixed sleeps.
"""

import json
import os
import sys
import tempfile
import threading
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
import ferry_harness as fh  # noqa: E402
from ferry_harness import wait_until  # noqa: E402

BUILD_DIR = None


def xadd_commands(stream, first, count, field="n"):
    return [["XADD", stream, "*", field, str(i)] for i in range(first, first + count)]


def last_id(redis, stream):
    lines = redis.cli_lines("XREVRANGE", stream, "+", "-", "COUNT", "1")
    return lines[0] if lines else None


def payloads(bootstrap, topic):
    """[(key, value as JSON)] of every message of `topic`, partition by partition in offset
    order (the topics of these tests have one partition when order matters)."""
    msgs = fh.kcat_consume_json(bootstrap, topic)
    msgs.sort(key=lambda m: (m["partition"], m["offset"]))
    return [(m.get("key"), json.loads(m["payload"])) for m in msgs]


def pending_count(redis, stream, group):
    """XPENDING summary count of `group` (0 when nothing is pending)."""
    return int(redis.cli_lines("XPENDING", stream, group)[0])


class StreamSourceTest(unittest.TestCase):
    def make_stack(self, topics=None, **worker_properties):
        tmp = tempfile.TemporaryDirectory(prefix="ferry-stream-source-")
        self.addCleanup(tmp.cleanup)
        self.dir = tmp.name
        self.redis = fh.RedisServer(tmp.name)
        self.addCleanup(self.redis.stop)
        self.kafka = fh.kafka_dev(BUILD_DIR, topics=topics or {})
        self.addCleanup(fh.stop_kafka, self.kafka)
        self.worker = fh.Worker(BUILD_DIR, tmp.name, self.kafka.bootstrap, start=False,
                                properties=worker_properties)
        self.addCleanup(self.worker.close)
        fh.dump_on_failure(self, self.worker, self.redis, self.kafka)
        self.worker.start()

    def create(self, name, config, tasks=1):
        status, body, _ = self.worker.post("/connectors", {"name": name, "config": config})
        self.assertEqual(status, 201, body)
        self.worker.wait_running(name, tasks=tasks, timeout=60)

    def test_200k_entries_over_4_streams_and_2_tasks_survive_kill_9(self):
        streams = [f"st{i}" for i in range(4)]
        per_stream = 50_000
        # One partition per topic: a topic's offset order is its stream's order. Offsets are
        # stored often, so the replay after the kill stays well below the dev broker's ~5 MB
        # per partition.
        self.make_stack(topics={s: 1 for s in streams}, **{"offset.flush.interval.ms": "200"})
        config = fh.source_config(self.redis, ",".join(streams), **{
            "tasks.max": "2", "batch.size": "500", "redis.stream.value": "body"})
        self.create("src", config, tasks=2)
        tasks = self.worker.get("/connectors/src/tasks")[1]
        self.assertEqual(sorted(t["config"]["redis.stream.name"] for t in tasks),
                         ["st0,st2", "st1,st3"])
        # Entries keep arriving in chunks while the worker reads, is killed and restarts.
        chunk = 1000
        errors = []

        def write_all():
            try:
                for first in range(0, per_stream, chunk):
                    self.redis.pipe([c for s in streams for c in xadd_commands(s, first, chunk)])
            except Exception as e:  # reported by the test thread
                errors.append(e)
        writer = threading.Thread(target=write_all)
        writer.start()
        self.addCleanup(writer.join)

        def delivered():
            return sum(fh.kafka_message_count(self.kafka.bootstrap, s) for s in streams)
        wait_until(lambda: delivered() >= 40_000, 60, "40,000 records in Kafka")
        self.worker.kill9()
        at_kill = delivered()
        still_writing = writer.is_alive()
        self.assertLess(at_kill, 4 * per_stream, "the kill came after the end")
        self.worker.start()
        self.worker.wait_running("src", tasks=2, timeout=60)
        writer.join()
        self.assertEqual(errors, [])
        ends = {s: last_id(self.redis, s) for s in streams}
        # Every stream's last entry acknowledged by Kafka and its offset stored: all is there.
        wait_until(lambda: all(self.worker.source_offset("src", s) == ends[s] for s in streams),
                   120, "the last entry id of every stream stored as its offset")
        total = 0
        for s in streams:
            values = [int(v["n"]) for _, v in payloads(self.kafka.bootstrap, s)]
            total += len(values)
            self.assertEqual(set(values), set(range(per_stream)), f"stream {s}: entries lost")
            # In stream order, except one replay (after the kill) of what had been delivered
            # but whose offset was not stored yet: it restarts below, then climbs again.
            drops = [i for i in range(1, len(values)) if values[i] <= values[i - 1]]
            self.assertLessEqual(len(drops), 1, f"stream {s}: out of order at {drops[:5]}")
            first_seen = list(dict.fromkeys(values))
            self.assertEqual(first_seen, sorted(first_seen), f"stream {s}: out of order")
        sys.stderr.write(f"\n  200k over 4 streams: {at_kill} records in Kafka at kill -9 "
                         f"({'while' if still_writing else 'after'} entries were being added), "
                         f"{total} in the end ({total - 4 * per_stream} duplicates)\n")

    def test_consumer_group_claims_a_dead_consumers_entries_and_recreates_a_vanished_group(self):
        self.make_stack(topics={"orders": 1})
        r = self.redis
        ids = [r.cli("XADD", "orders", "*", "n", str(i)) for i in range(100)]
        r.cli("XGROUP", "CREATE", "orders", "g", "0")
        # A consumer that read 30 entries and died before acknowledging them.
        r.cli("XREADGROUP", "GROUP", "g", "dead", "COUNT", "30", "STREAMS", "orders", ">")
        self.assertEqual(pending_count(r, "orders", "g"), 30)
        config = fh.source_config(r, "orders", **{
            "redis.stream.consumer.group": "g", "redis.stream.claim.idle.ms": "300",
            "value.converter.schemas.enable": "false"})
        self.create("grp", config)
        wait_until(lambda: fh.kafka_message_count(self.kafka.bootstrap, "orders") >= 100, 60,
                   "the 70 unread and the 30 claimed entries in Kafka")
        # Acknowledged in Redis once Kafka has them: nothing pending, for anyone.
        wait_until(lambda: pending_count(r, "orders", "g") == 0, 30, "no pending entries")
        records = payloads(self.kafka.bootstrap, "orders")
        self.assertEqual(sorted(k for k, _ in records), sorted(ids))
        self.assertEqual(len(records), 100)
        key, value = records[-1]
        self.assertEqual(set(value), {"id", "stream", "body"})
        self.assertEqual((value["id"], value["stream"]), (key, "orders"))
        self.assertEqual(set(value["body"]), {"n"})
        consumers = r.cli_lines("XINFO", "CONSUMERS", "orders", "g")
        self.assertIn("consumer-0", consumers)

        # The group vanishes while the task runs: it is created again at the last entry Kafka
        # acknowledged, so only new entries follow (no re-delivery from 0).
        wait_until(lambda: self.worker.source_offset("grp", "orders") == ids[-1], 30,
                   "the last claimed or read id stored as the offset")
        r.cli("XGROUP", "DESTROY", "orders", "g")
        more = [r.cli("XADD", "orders", "*", "n", str(i)) for i in range(100, 120)]
        wait_until(lambda: fh.kafka_message_count(self.kafka.bootstrap, "orders") >= 120, 60,
                   "the 20 entries added after the group vanished")
        wait_until(lambda: pending_count(r, "orders", "g") == 0, 30, "no pending entries")
        groups = r.cli_lines("XINFO", "GROUPS", "orders")
        self.assertIn("g", groups)
        self.assertEqual(groups[groups.index("last-delivered-id") + 1], more[-1])
        records = payloads(self.kafka.bootstrap, "orders")
        self.assertEqual(len(records), 120, "entries delivered twice")
        self.assertEqual([k for k, _ in records[100:]], more)
        self.worker.check_not_failed("grp")

    def test_consumer_group_acknowledges_only_what_kafka_acknowledged(self):
        self.make_stack(topics={"jobs": 1})
        r = self.redis
        config = fh.source_config(r, "jobs", **{"redis.stream.mode": "group"})
        self.create("ack", config)
        # The group is created with MKSTREAM on the task's first poll.
        wait_until(lambda: "kafka-consumer-group" in r.cli_lines("XINFO", "GROUPS", "jobs"), 30,
                   "the default group on the new stream")
        self.assertEqual(self.kafka.control("broker-down 1"), "OK")
        ids = [r.cli("XADD", "jobs", "*", "n", str(i)) for i in range(50)]
        # Read by the task (pending for consumer-0) but not in Kafka: not acknowledged.
        wait_until(lambda: pending_count(r, "jobs", "kafka-consumer-group") == 50, 30,
                   "the 50 entries read while Kafka is down")
        # A later poll (which would carry XACKs) reads one more and acknowledges none.
        ids.append(r.cli("XADD", "jobs", "*", "n", "50"))
        wait_until(lambda: pending_count(r, "jobs", "kafka-consumer-group") == 51, 30,
                   "the 51st entry read, the first 50 still pending")
        self.assertEqual(self.kafka.control("broker-up 1"), "OK")
        wait_until(lambda: fh.kafka_message_count(self.kafka.bootstrap, "jobs") >= 51, 60,
                   "the 51 records in Kafka once it is back")
        wait_until(lambda: pending_count(r, "jobs", "kafka-consumer-group") == 0, 30,
                   "the 51 entries acknowledged in Redis")
        self.assertEqual(sorted(k for k, _ in payloads(self.kafka.bootstrap, "jobs")), ids)
        self.worker.check_not_failed("ack")

    def test_a_stream_created_after_start_that_matches_the_pattern_is_read(self):
        self.make_stack()
        r = self.redis
        r.pipe(xadd_commands("ev-a", 0, 10))
        r.pipe(xadd_commands("other", 0, 3))
        r.cli("SET", "ev-string", "not a stream")
        config = fh.source_config(r, "", **{
            "tasks.max": "2", "redis.stream.pattern": "ev-*",
            "redis.stream.pattern.rescan.ms": "300", "topic": "pat.${stream}",
            "redis.stream.key": "stream", "redis.stream.value": "body"})
        self.create("pat", config, tasks=2)
        wait_until(lambda: fh.kafka_message_count(self.kafka.bootstrap, "pat.ev-a") >= 10, 60,
                   "ev-a, there at start")
        # Created after the first scans: read from its first entry.
        for name in ("ev-b", "ev-c", "ev-d"):
            r.pipe(xadd_commands(name, 0, 5))
        for name in ("ev-b", "ev-c", "ev-d"):
            wait_until(lambda: fh.kafka_message_count(
                self.kafka.bootstrap, f"pat.{name}") >= 5, 60, f"{name}, created later")
        # Each stream read by exactly one of the two tasks, with the layout asked for.
        for name, count in (("ev-a", 10), ("ev-b", 5), ("ev-c", 5), ("ev-d", 5)):
            records = payloads(self.kafka.bootstrap, f"pat.{name}")
            self.assertEqual(len(records), count, name)
            self.assertEqual({k for k, _ in records}, {name})
            self.assertEqual(sorted(int(v["n"]) for _, v in records), list(range(count)))
        topics = json.loads(fh._kcat("-L", "-J", "-b", self.kafka.bootstrap))["topics"]
        names = {t["topic"] for t in topics}
        self.assertNotIn("pat.other", names)
        self.assertNotIn("pat.ev-string", names)
        self.worker.check_not_failed("pat")

    def test_redis_cluster_streams_in_many_slots_and_a_pattern_on_every_master(self):
        import test_redis_cluster  # noqa: E402  (its RedisCluster: 3 masters on loopback)
        self.make_stack()
        cluster = test_redis_cluster.RedisCluster(self.dir)
        self.addCleanup(cluster.stop)
        seed = cluster.ports[0]
        named = ["cs-a", "cs-b", "cs-c"]
        found = [f"cp-{i}" for i in range(6)]
        lines = "".join(f"XADD {s} * n {i}\n" for s in named + found for i in range(10))
        cluster.cli(seed, "-c", input=lines)
        # The streams are spread over the masters: several slots, several nodes.
        owners = {test_redis_cluster.slot_owner(cluster, cluster.cli(seed, "CLUSTER", "KEYSLOT", s))
                  for s in named + found}
        self.assertGreater(len(owners), 1)
        config = fh.source_config(self.redis, ",".join(named), **{
            "redis.uri": f"redis://127.0.0.1:{seed}", "redis.cluster": "true",
            "tasks.max": "2", "redis.stream.pattern": "cp-*",
            "redis.stream.pattern.rescan.ms": "300", "redis.stream.mode": "group",
            "topic": "cl.${stream}", "redis.stream.key": "stream", "redis.stream.value": "body"})
        self.create("cl", config, tasks=2)
        for s in named + found:
            wait_until(lambda: fh.kafka_message_count(self.kafka.bootstrap, f"cl.{s}") >= 10,
                       60, f"the 10 entries of {s}")
        for s in named + found:
            records = payloads(self.kafka.bootstrap, f"cl.{s}")
            self.assertEqual(sorted(int(v["n"]) for _, v in records), list(range(10)), s)
            wait_until(lambda: cluster.cli(seed, "-c", "XPENDING", s, "kafka-consumer-group")
                       .split("\n")[0] == "0", 30, f"{s}: everything acknowledged")
        self.worker.check_not_failed("cl")


if __name__ == "__main__":
    BUILD_DIR, argv = fh.parse_args()
    unittest.main(argv=argv)
