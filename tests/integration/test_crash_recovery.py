"""Acceptance tests: no loss across a worker crash (kill -9) or a graceful stop (SIGTERM).

    /usr/bin/python3 tests/integration/test_crash_recovery.py --build-dir BUILD [-v] [-k name]

Real redis-server, ferry-kafka-dev and ferry-worker processes; checks use kcat and redis-cli.
No fixed sleeps: every wait polls a condition against a deadline.
"""

import collections
import json
import re
import os
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
import ferry_harness as fh  # noqa: E402
from ferry_harness import stream_id, wait_until  # noqa: E402

try:
    import confluent_kafka
except ImportError:  # only the committed-offsets check of the SIGTERM test needs it
    confluent_kafka = None

BUILD_DIR = None

SOURCE = "orders-source"
SINK = "updates-sink"
STREAM = "orders"
SINK_TOPIC = "updates"
ID_LINE = re.compile(r"^\d+-\d+$")


def stream_ids(redis, stream):
    """Every entry id of `stream`, in order (redis-cli --raw XRANGE). The field values written
    by these tests never look like an entry id, so the id lines are told apart by their form."""
    return [line for line in redis.cli_lines("--raw", "XRANGE", stream, "-", "+")
            if ID_LINE.match(line)]


def fill_stream(redis, stream, count, start=0):
    redis.pipe([["XADD", stream, "*", "n", str(i), "payload", f"order-{i}"]
                for i in range(start, start + count)])


def mget(redis, keys, chunk=1000):
    """{key: value or None} with redis-cli MGET (raw output, one line per value)."""
    out = {}
    for i in range(0, len(keys), chunk):
        part = keys[i:i + chunk]
        text = redis.cli("--raw", "MGET", *part, strip=False)
        lines = (text[:-1] if text.endswith("\n") else text).split("\n")
        if len(lines) != len(part):
            raise AssertionError(f"MGET of {len(part)} keys answered {len(lines)} lines")
        out.update({k: (v if v != "" else None) for k, v in zip(part, lines)})
    return out


def topic_records(kafka, topic):
    """[(key, value dict)] of every record of `topic` (kcat)."""
    return [(k, json.loads(v) if v is not None else None)
            for k, v in fh.kcat_consume(kafka.bootstrap, topic)]


def topic_count(kafka, topic):
    try:
        return fh.kafka_message_count(kafka.bootstrap, topic)
    except AssertionError:
        return 0


class CrashRecoveryTest(unittest.TestCase):

    def setUp(self):
        tmp = tempfile.TemporaryDirectory(prefix="ferry-crash-")
        self.addCleanup(tmp.cleanup)
        self.tmp = tmp.name

    def check_no_crash(self, worker):
        self.assertEqual(worker.crash_markers(), [],
                         f"crash/sanitizer output in the worker log:\n{worker.log_text(tail=6000)}")

    # -------------------------------------------------------------------------------- kill -9

    def test_kill9_midway_loses_nothing(self):
        n_entries = 50_000
        n_keys, n_writes = 5_000, 10
        # The dev broker delays every response (rtt) while the first worker runs, the producer
        # sends small batches one request at a time and the consumer fetches little at a time,
        # so the data takes ~10 s to move
        # and the kill lands in the middle, not after everything already went through. The short
        # consumer session lets the group drop the killed member quickly after the restart.
        redis, kafka, worker = fh.start_stack(self, BUILD_DIR, self.tmp, properties={
            "offset.flush.interval.ms": "1000",
            "producer.batch.num.messages": "150",
            "producer.max.in.flight.requests.per.connection": "1",
            "consumer.max.partition.fetch.bytes": "2048",
            "consumer.session.timeout.ms": "6000",
            "consumer.heartbeat.interval.ms": "1000",
        })

        fill_stream(redis, STREAM, n_entries)
        self.assertEqual(int(redis.cli("XLEN", STREAM)), n_entries)
        expected_ids = stream_ids(redis, STREAM)
        self.assertEqual(len(expected_ids), n_entries)
        last_id = expected_ids[-1]

        # 5,000 keys, each written 10 times with an increasing sequence number; written
        # round by round so the final values are only right if every partition is read to its end.
        # Values are JSON strings ("key7:3"), which the STRING sink stores as key7:3.
        records = [(f"key{k}", json.dumps(f"key{k}:{seq}"))
                   for seq in range(n_writes) for k in range(n_keys)]
        # Small message sets, so that the sink's small fetches (below) take a few at a time.
        fh.kcat_produce(kafka.bootstrap, SINK_TOPIC, records,
                        extra=["-X", "batch.num.messages=50", "-X", "linger.ms=0"])
        self.assertEqual(topic_count(kafka, SINK_TOPIC), n_keys * n_writes)
        self.assertEqual(kafka.control("rtt -1 50"), "OK")

        worker.create_connector(SOURCE, fh.source_config(redis, STREAM, batch_size=500))
        worker.create_connector(SINK, fh.sink_config(redis, SINK_TOPIC, "STRING"))
        set_calls_before = redis.command_calls("set")

        third = n_entries // 3

        progress = {}

        def a_third_moved():
            worker.check_not_failed(SOURCE, SINK)
            progress["kafka"] = topic_count(kafka, STREAM)
            progress["redis"] = redis.command_calls("set") - set_calls_before
            return progress["kafka"] >= third and progress["redis"] >= third
        try:
            wait_until(a_third_moved, 120, "a third of the data to move", interval=0.1)
        except AssertionError as e:
            raise AssertionError(f"{e}: {progress['kafka']} records in {STREAM}, "
                                 f"{progress['redis']} SETs in Redis") from None
        self.assertEqual(worker.kill9(), -9)
        killed_at = time.monotonic()
        # What was committed at the moment of the crash: the file must be whole (atomic writes).
        offsets_at_kill = worker.read_offsets()
        committed_id = worker.source_offset(SOURCE, STREAM)
        moved_out = topic_count(kafka, STREAM)
        moved_in = redis.command_calls("set") - set_calls_before
        sys.stderr.write(f"\nkilled with {moved_out}/{n_entries} entries in Kafka, {moved_in}/"
                         f"{n_keys * n_writes} SETs in Redis, committed source offset "
                         f"{committed_id}\n")
        self.assertLess(moved_out, n_entries, "the source finished before the kill: the test "
                        "did not crash the worker mid-way (throttling too weak)")
        self.assertLess(moved_in, n_keys * n_writes, "the sink finished before the kill")
        self.assertIsNotNone(committed_id, "no source offset was committed after several flush "
                             f"intervals of 1 s; offsets file: {offsets_at_kill}")
        self.assertIn(committed_id, expected_ids)

        # Restart at full speed with the same files: the connectors created over REST come back.
        self.assertEqual(kafka.control("rtt -1 0"), "OK")
        worker.start()
        status, names, _ = worker.get("/connectors")
        self.assertEqual(status, 200)
        self.assertEqual(sorted(names), sorted([SOURCE, SINK]))
        worker.wait_running(SOURCE, tasks=1, timeout=30)
        worker.wait_running(SINK, tasks=1, timeout=30)

        # Everything arrives.
        keys = [f"{SINK_TOPIC}:key{k}" for k in range(n_keys)]  # redis.keyspace is ${topic}
        final = {f"{SINK_TOPIC}:key{k}": f"key{k}:{n_writes - 1}" for k in range(n_keys)}
        def all_final():
            worker.check_not_failed(SOURCE, SINK)
            values = mget(redis, keys)
            wrong = {k: v for k, v in values.items() if v != final[k]}
            progress["wrong"] = (len(wrong), dict(list(wrong.items())[:5]))
            return not wrong
        try:
            wait_until(all_final, 120, "every Redis key to hold its last value (seq 9)",
                       interval=0.25)
        except AssertionError as e:
            raise AssertionError(f"{e}: {progress.get('wrong')}") from None
        wait_until(lambda: topic_count(kafka, STREAM) >= n_entries, 120,
                   f"{n_entries} records in topic {STREAM}", interval=0.25)

        def all_ids_in_kafka():
            recs = topic_records(kafka, STREAM)
            return recs if {k for k, _ in recs} >= set(expected_ids) else None
        recs = wait_until(all_ids_in_kafka, 60, "every stream entry id in Kafka", interval=0.5)
        wait_until(lambda: worker.source_offset(SOURCE, STREAM) == last_id, 30,
                   f"the source offset to reach the last entry {last_id}")
        sys.stderr.write(f"recovered {time.monotonic() - killed_at:.1f}s after the kill\n")

        counts = collections.Counter(k for k, _ in recs)
        self.assertEqual(set(counts), set(expected_ids),
                         "records for ids that are not in the stream")
        committed = stream_id(committed_id)
        early_dups = sorted((i for i, c in counts.items() if c > 1 and stream_id(i) <= committed),
                            key=stream_id)
        self.assertEqual(early_dups[:10], [],
                         f"{len(early_dups)} ids at or before the committed offset {committed_id} "
                         "were delivered twice: the restart did not resume from the stored offset")
        dups = sum(c - 1 for c in counts.values())
        sys.stderr.write(f"{dups} duplicate records from the uncommitted interval\n")
        for key, value in recs[:5] + recs[-5:]:
            self.assertEqual(set(value), {"id", "stream", "body"})
            self.assertEqual(value["id"], key)
            self.assertEqual(value["stream"], STREAM)

        self.assertEqual(mget(redis, keys), final)
        self.assertEqual(int(redis.cli("DBSIZE")), n_keys + 1)  # the keys and the stream
        status = worker.wait_running(SOURCE)
        self.assertEqual(status["connector"]["worker_id"], worker.worker_id)
        worker.wait_running(SINK)

        code, elapsed = worker.terminate()
        self.assertEqual(code, 0, worker.log_text(tail=4000))
        self.check_no_crash(worker)

    # -------------------------------------------------------------------------------- SIGTERM

    @unittest.skipIf(confluent_kafka is None, "needs the confluent_kafka module")
    def test_sigterm_commits_everything_and_restart_redelivers_nothing(self):
        n_entries = 2_000
        n_records = 1_000
        # A long flush interval: the only commits before the SIGTERM are the shutdown's own.
        # The dev broker only drops a consumer group member when its session times out (a
        # LeaveGroup does not make the next join quicker), hence the short session.
        redis, kafka, worker = fh.start_stack(self, BUILD_DIR, self.tmp, properties={
            "offset.flush.interval.ms": "60000",
            "consumer.session.timeout.ms": "6000",
            "consumer.heartbeat.interval.ms": "1000",
        })
        fill_stream(redis, STREAM, n_entries)
        last_id = redis.cli_lines("--raw", "XREVRANGE", STREAM, "+", "-", "COUNT", "1")[0]
        records = [(f"h{i}", {"seq": str(i), "name": f"item {i}"}) for i in range(n_records)]
        fh.kcat_produce(kafka.bootstrap, SINK_TOPIC, records)
        partitions = fh.kafka_partitions(kafka.bootstrap, SINK_TOPIC)

        worker.create_connector(SOURCE, fh.source_config(redis, STREAM))
        worker.create_connector(SINK, fh.sink_config(redis, SINK_TOPIC, "HASH"))
        worker.wait_running(SOURCE)
        worker.wait_running(SINK)
        wait_until(lambda: topic_count(kafka, STREAM) >= n_entries, 60,
                   f"{n_entries} records in {STREAM}")
        wait_until(lambda: redis.command_calls("hset") >= n_records, 60,
                   f"{n_records} HSETs in Redis")
        self.assertEqual(redis.cli("HGET", f"{SINK_TOPIC}:h{n_records - 1}", "seq"),
                         str(n_records - 1))

        code, elapsed = worker.terminate(timeout=30)
        self.assertEqual(code, 0, f"SIGTERM exit status; log:\n{worker.log_text(tail=4000)}")
        self.assertLess(elapsed, 10.0, "the worker took too long to stop after SIGTERM")
        sys.stderr.write(f"\nSIGTERM: exit {code} after {elapsed:.2f}s\n")
        self.check_no_crash(worker)
        self.assertEqual(worker.source_offset(SOURCE, STREAM), last_id,
                         f"offsets file after SIGTERM: {worker.read_offsets()}")
        self.assertEqual(topic_count(kafka, STREAM), n_entries)
        end_offsets = fh.kafka_end_offsets(kafka.bootstrap, SINK_TOPIC, partitions)
        self.assertEqual(fh.committed_offsets(kafka.bootstrap, f"connect-{SINK}", SINK_TOPIC,
                                           partitions), end_offsets,
                         "the sink did not commit what it wrote before exiting")
        hset_before = redis.command_calls("hset")

        # Restart (faster flushes now, to see the new offsets without waiting a minute).
        worker.properties["offset.flush.interval.ms"] = "500"
        worker.write_properties()
        worker.start()
        worker.wait_running(SOURCE)
        worker.wait_running(SINK)
        new_id = redis.cli("XADD", STREAM, "*", "n", "after-restart")
        fh.kcat_produce(kafka.bootstrap, SINK_TOPIC, [("after-restart", {"seq": "new"})])

        wait_until(lambda: redis.cli("HGET", f"{SINK_TOPIC}:after-restart", "seq") == "new", 60,
                   "the sink record produced after the restart to reach Redis")
        new_end = fh.kafka_end_offsets(kafka.bootstrap, SINK_TOPIC, partitions)
        wait_until(lambda: fh.committed_offsets(kafka.bootstrap, f"connect-{SINK}", SINK_TOPIC,
                                             partitions) == new_end, 60,
                   "the sink to commit every partition to its end")
        wait_until(lambda: worker.source_offset(SOURCE, STREAM) == new_id, 60,
                   f"the source to commit the entry {new_id} added after the restart")

        self.assertEqual(redis.command_calls("hset") - hset_before, 1,
                         "the sink re-delivered records after a graceful restart")
        recs = topic_records(kafka, STREAM)
        counts = collections.Counter(k for k, _ in recs)
        self.assertEqual(len(recs), n_entries + 1,
                         "re-delivered by the source: "
                         f"{[k for k, c in counts.items() if c > 1][:10]}")
        self.assertEqual(counts[new_id], 1)
        self.assertEqual(max(counts.values()), 1)

        code, elapsed = worker.terminate(timeout=30)
        self.assertEqual(code, 0, worker.log_text(tail=4000))
        self.assertLess(elapsed, 10.0)
        self.check_no_crash(worker)


if __name__ == "__main__":
    BUILD_DIR, argv = fh.parse_args()
    unittest.main(argv=argv)
