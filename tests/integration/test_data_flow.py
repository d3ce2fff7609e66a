"""Data moves correctly: Redis stream -> Kafka, Kafka -> Redis (HASH, STRING), tombstones,
and the quickstart's round trip. Real redis-server, ferry-kafka-dev and ferry-worker; the
data is checked with kcat and redis-cli, and ferry's own view (status) is checked as well.

    /usr/bin/python3 tests/integration/test_data_flow.py --build-dir BUILD [-v] [-k name]
"""

import collections
import json
import os
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
import ferry_harness as fh  # noqa: E402
from ferry_harness import wait_until  # noqa: E402

BUILD_DIR = None


def hgetall(redis, key):
    """HGETALL as a dict (redis-cli --raw prints field and value on alternate lines)."""
    text = redis.cli("--raw", "HGETALL", key, strip=False)
    lines = (text[:-1] if text.endswith("\n") else text).split("\n") if text.strip() else []
    return dict(zip(lines[0::2], lines[1::2]))


class DataFlowTest(unittest.TestCase):

    def setUp(self):
        tmp = tempfile.TemporaryDirectory(prefix="ferry-flow-")
        self.addCleanup(tmp.cleanup)
        self.redis, self.kafka, self.worker = fh.start_stack(self, BUILD_DIR, tmp.name)

    def tearDown(self):
        # Every test ends with a clean stop: exit status 0, no crash or sanitizer report.
        if self.worker.running():
            code, elapsed = self.worker.terminate(timeout=30)
            self.assertEqual(code, 0, self.worker.log_text(tail=4000))
        self.assertEqual(self.worker.crash_markers(), [], self.worker.log_text(tail=6000))

    def test_source_moves_every_stream_entry_exactly_once(self):
        n = 2000
        fields = {i: {"n": str(i), "sku": f"SKU-{i % 17}", "note": f"entry number {i}"}
                  for i in range(n)}
        self.redis.pipe([["XADD", "orders", "*", *sum(([k, v] for k, v in fields[i].items()), [])]
                         for i in range(n)])
        ids = [line for line in self.redis.cli_lines("--raw", "XRANGE", "orders", "-", "+")
               if fh.stream_id_like(line)]
        self.assertEqual(len(ids), n)
        body_of = dict(zip(ids, (fields[i] for i in range(n))))

        self.worker.create_connector("orders-source", fh.source_config(self.redis, "orders"))
        status = self.worker.wait_running("orders-source")
        self.assertEqual(status["connector"]["worker_id"], self.worker.worker_id)
        self.assertEqual(status["type"], "source")

        def everything_in_kafka():
            self.worker.check_not_failed("orders-source")
            return fh.kafka_message_count(self.kafka.bootstrap, "orders") >= n
        wait_until(everything_in_kafka, 60, f"{n} records in topic orders")
        records = fh.kcat_consume(self.kafka.bootstrap, "orders")
        counts = collections.Counter(k for k, _ in records)
        self.assertEqual(set(counts), set(ids))
        self.assertEqual(max(counts.values()), 1, "an entry was delivered more than once")
        self.assertEqual(len(records), n)
        for key, value in records:
            doc = json.loads(value)
            self.assertEqual(doc, {"id": key, "stream": "orders", "body": body_of[key]})
        wait_until(lambda: self.worker.source_offset("orders-source", "orders") == ids[-1], 30,
                   "the source offset to reach the last entry id")
        self.worker.wait_running("orders-source")

        # Entries added later follow.
        late = self.redis.cli("XADD", "orders", "*", "late", "yes")
        wait_until(lambda: fh.kafka_message_count(self.kafka.bootstrap, "orders") >= n + 1, 30,
                   "the later entry in Kafka")
        last = [v for k, v in fh.kcat_consume(self.kafka.bootstrap, "orders") if k == late]
        self.assertEqual([json.loads(v) for v in last],
                         [{"id": late, "stream": "orders", "body": {"late": "yes"}}])

    def test_sink_writes_hashes_and_strings(self):
        n = 500
        profiles = [(f"user{i}", {"name": f"User {i}", "age": i, "vip": i % 2 == 0})
                    for i in range(n)]
        counters = [(f"c{i}", i * 10) for i in range(n)] + [("greeting", json.dumps("hello world"))]
        fh.kcat_produce(self.kafka.bootstrap, "profiles", profiles)
        fh.kcat_produce(self.kafka.bootstrap, "counters", counters)

        self.worker.create_connector("profiles-sink",
                                     fh.sink_config(self.redis, "profiles", "HASH"))
        self.worker.create_connector(
            "counters-sink", fh.sink_config(self.redis, "counters", "STRING", **{
                "redis.keyspace": "cnt", "redis.separator": "/"}))
        for name in ("profiles-sink", "counters-sink"):
            status = self.worker.wait_running(name)
            self.assertEqual(status["type"], "sink")
            self.assertEqual(status["tasks"][0]["worker_id"], self.worker.worker_id)

        def written():
            self.worker.check_not_failed("profiles-sink", "counters-sink")
            return (self.redis.cli("EXISTS", f"profiles:user{n - 1}") == "1"
                    and self.redis.cli("GET", "cnt/greeting") == "hello world"
                    and int(self.redis.cli("DBSIZE")) == 2 * n + 1)
        wait_until(written, 60, "every hash and string in Redis")
        for i in (0, 1, 250, n - 1):
            self.assertEqual(hgetall(self.redis, f"profiles:user{i}"),
                             {"name": f"User {i}", "age": str(i),
                              "vip": "true" if i % 2 == 0 else "false"})
            self.assertEqual(self.redis.cli("TYPE", f"profiles:user{i}"), "hash")
            self.assertEqual(self.redis.cli("GET", f"cnt/c{i}"), str(i * 10))
        self.assertEqual(self.redis.cli("TYPE", "cnt/c1"), "string")
        self.assertEqual(self.redis.cli("--raw", "TTL", "cnt/c1"), "-1")
        self.assertEqual(self.redis.command_calls("hset"), n)
        self.assertEqual(self.redis.command_calls("set"), n + 1)

    def test_tombstone_after_write_in_the_same_batch_deletes(self):
        # Everything is produced before the connectors start, to one partition, so each
        # connector gets it in one batch, in this order; the sentinel comes last.
        string_records = [("a", "first"), ("a", None),                 # written then deleted
                          ("b", "one"), ("b", None), ("b", "two"),     # deleted then written
                          ("c", None),                                 # delete of nothing
                          ("done", "yes")]
        hash_records = [("a", {"f": "1"}), ("a", None),
                        ("b", {"f": "1"}), ("b", None), ("b", {"f": "2"}),
                        ("c", None),
                        ("done", {"f": "yes"})]
        fh.kcat_produce(self.kafka.bootstrap, "tomb-strings",
                        [(k, json.dumps(v) if v is not None else None)
                         for k, v in string_records], partition=0)
        fh.kcat_produce(self.kafka.bootstrap, "tomb-hashes", hash_records, partition=0)
        self.assertEqual(fh.kafka_end_offsets(self.kafka.bootstrap, "tomb-strings")[0],
                         len(string_records))

        self.worker.create_connector("tomb-strings-sink",
                                     fh.sink_config(self.redis, "tomb-strings", "STRING"))
        self.worker.create_connector("tomb-hashes-sink",
                                     fh.sink_config(self.redis, "tomb-hashes", "HASH"))

        def sentinels():
            self.worker.check_not_failed("tomb-strings-sink", "tomb-hashes-sink")
            return (self.redis.cli("GET", "tomb-strings:done") == "yes"
                    and self.redis.cli("HGET", "tomb-hashes:done", "f") == "yes")
        wait_until(sentinels, 60, "the sentinel records in Redis")
        self.assertEqual(self.redis.cli("EXISTS", "tomb-strings:a"), "0",
                         "a tombstone after a write of the same key did not delete it")
        self.assertEqual(self.redis.cli("EXISTS", "tomb-hashes:a"), "0",
                         "a tombstone after a write of the same key did not delete the hash")
        self.assertEqual(self.redis.cli("GET", "tomb-strings:b"), "two")
        self.assertEqual(hgetall(self.redis, "tomb-hashes:b"), {"f": "2"})
        self.assertEqual(self.redis.cli("EXISTS", "tomb-strings:c"), "0")
        self.assertEqual(self.redis.cli("EXISTS", "tomb-hashes:c"), "0")
        self.assertEqual(self.redis.command_calls("del"), 6)
        for name in ("tomb-strings-sink", "tomb-hashes-sink"):
            self.worker.wait_running(name)

    def test_round_trip_stream_to_kafka_to_hashes(self):
        # The quickstart: stream `orders` -> topic `orders` -> hashes `order:<entry id>`,
        # connectors created with PUT /connectors/{name}/config as its curl commands do.
        r = self.worker.put("/connectors/orders-source/config", {
            "connector.class": fh.SOURCE_CLASS, "redis.uri": self.redis.uri,
            "redis.stream.name": "orders", "topic": "orders"})
        self.assertEqual(r.status, 201, r.body)
        r = self.worker.put("/connectors/orders-sink/config", {
            "connector.class": fh.SINK_CLASS_ALIAS, "redis.uri": self.redis.uri,
            "topics": "orders", "redis.type": "HASH", "redis.keyspace": "order"})
        self.assertEqual(r.status, 201, r.body)
        self.worker.wait_running("orders-source")
        self.worker.wait_running("orders-sink")

        n = 300
        self.redis.pipe([["XADD", "orders", "*", "sku", f"SKU-{i}", "qty", str(i),
                          "price", f"{i * 10}.00"] for i in range(n)])
        ids = [line for line in self.redis.cli_lines("--raw", "XRANGE", "orders", "-", "+")
               if fh.stream_id_like(line)]
        self.assertEqual(len(ids), n)

        def all_hashes():
            self.worker.check_not_failed("orders-source", "orders-sink")
            return self.redis.cli("EXISTS", *[f"order:{i}" for i in ids]) == str(n)
        wait_until(all_hashes, 60, f"{n} hashes order:<id> in Redis")
        for k, i in ((0, ids[0]), (n // 2, ids[n // 2]), (n - 1, ids[-1])):
            h = hgetall(self.redis, f"order:{i}")
            self.assertEqual(set(h), {"id", "stream", "body"}, h)
            self.assertEqual(h["id"], i)
            self.assertEqual(h["stream"], "orders")
            self.assertEqual(json.loads(h["body"]),
                             {"sku": f"SKU-{k}", "qty": str(k), "price": f"{k * 10}.00"})
        self.assertEqual(len(fh.kcat_consume(self.kafka.bootstrap, "orders")), n)

        status, body, _ = self.worker.get("/connectors?expand=status")
        self.assertEqual(status, 200)
        self.assertEqual(set(body), {"orders-source", "orders-sink"})
        for name, entry in body.items():
            self.assertEqual(entry["status"]["connector"]["state"], "RUNNING", entry)
            self.assertEqual([t["state"] for t in entry["status"]["tasks"]], ["RUNNING"], entry)

    def test_record_that_is_not_json_fails_the_task_not_the_worker(self):
        # value.converter is JsonConverter; "not json" cannot be converted. With the default
        # errors.tolerance=none the task must FAIL with a readable trace; the worker, its REST
        # API and the other connectors go on.
        fh.kcat_produce(self.kafka.bootstrap, "good", [("k1", {"f": "1"})])
        self.worker.create_connector("good-sink", fh.sink_config(self.redis, "good", "HASH"))
        self.worker.wait_running("good-sink")
        fh.kcat_produce(self.kafka.bootstrap, "bad", [("k1", "this is not json")])
        self.worker.create_connector("bad-sink", fh.sink_config(self.redis, "bad", "STRING"))

        def task_failed():
            if not self.worker.running():
                raise fh.GiveUp(f"ferry-worker died (exit {self.worker.process.returncode}) "
                                "on a record that is not JSON")
            s = self.worker.status("bad-sink")
            return s if s and s["tasks"] and s["tasks"][0]["state"] == "FAILED" else None
        status = wait_until(task_failed, 60, "the bad-sink task to be FAILED")
        self.assertIn("trace", status["tasks"][0])
        self.assertTrue(status["tasks"][0]["trace"])
        self.assertEqual(self.worker.get("/").status, 200)
        self.assertEqual(self.redis.cli("EXISTS", "bad:k1"), "0")
        fh.kcat_produce(self.kafka.bootstrap, "good", [("k2", {"f": "2"})])
        wait_until(lambda: self.redis.cli("HGET", "good:k2", "f") == "2", 30,
                   "the healthy sink to keep working")
        self.worker.wait_running("good-sink")


if __name__ == "__main__":
    BUILD_DIR, argv = fh.parse_args()
    unittest.main(argv=argv)
