"""Exactly-once source (KIP-618): a distributed worker with exactly.once.source.support=enabled
writes each poll's records and their source offsets in one Kafka transaction
(transactional.id <group.id>-<connector>-<task>).

    /usr/bin/python3 tests/integration/test_source_exactly_once.py --build-dir BUILD [-v]

The dev broker (librdkafka's mock cluster) runs transactions (InitProducerId fences older
epochs, AddPartitionsToTxn, EndTxn) but writes no transaction markers: its Fetch answers give
LastStableOffset = high watermark and no aborted transactions, so a read_committed consumer
sees the records of aborted and unfinished transactions too, and a second producer with the
same transactional.id is not fenced (test_dev_broker_transaction_limits pins both down). So
after a kill -9 here, the records of the transaction that was open at the kill show up twice in
kcat's read_committed count; on a Kafka broker they would be aborted when the task's next
instance calls InitTransactions. The crash test therefore asserts: nothing lost, per-stream
order, and at most one poll batch per task per kill shown twice (batch.size entries from each
stream; all of them records a real broker hides); the same crash in at-least-once mode is
measured beside it.
"""

import json
import os
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
import ferry_harness as fh  # noqa: E402

BUILD_DIR = None
STREAMS = ["s1", "s2", "s3", "s4"]
PER_STREAM = 50_000
BATCH = 500
WRITE_RATE = 8000  # entries/s: 25 s of writing, longer than the kills and restarts take
WRITE_CHUNK = 200  # entries per stream and redis-cli call
SESSION_MS = 3000


def internal_topics(group):
    return {"connect-configs": 1, "connect-offsets": 5, "connect-status": 3,
            f"{group}-slots": 16}


class Stack:
    """Redis, a dev broker and one distributed worker (restartable), cleaned up with the test."""

    def __init__(self, testcase, group, eos, topics):
        tmp = tempfile.TemporaryDirectory(prefix="ferry-eos-")
        testcase.addCleanup(tmp.cleanup)
        self.dir = tmp.name
        self.redis = fh.RedisServer(self.dir)
        testcase.addCleanup(self.redis.stop)
        all_topics = internal_topics(group)
        all_topics.update(topics)
        self.kafka = fh.kafka_dev(BUILD_DIR, topics=all_topics, control_port=0)
        testcase.addCleanup(fh.stop_kafka, self.kafka)
        self.group = group
        props = {
            "group.id": group,
            "config.storage.topic": "connect-configs",
            "offset.storage.topic": "connect-offsets",
            "status.storage.topic": "connect-status",
            "slots.storage.partitions": "16",
            "session.timeout.ms": str(SESSION_MS),
            "heartbeat.interval.ms": "500",
            # The dev broker keeps ~5 MB per partition: compressed batches keep 50k records
            # (and the duplicates of at-least-once) well below it.
            "producer.compression.codec": "lz4",
            "offset.flush.interval.ms": "5000",
        }
        if eos:
            props["exactly.once.source.support"] = "enabled"
        self.worker = fh.Worker(BUILD_DIR, self.dir, self.kafka.bootstrap, name="w",
                                mode="distributed", start=False, properties=props)
        testcase.addCleanup(self.worker.close)
        fh.dump_on_failure(testcase, self.worker, self.redis, self.kafka)
        self.worker.start(timeout=60)

    def start_writer(self, testcase):
        """Adds the entries in a thread, paced (WRITE_RATE entries/s over all streams), so that
        every kill lands while the source still has entries to read: unpaced, the source reads
        200k entries in well under a second and a later kill found nothing left to wait for.
        Entry ids are the per-stream sequence numbers, so order is easy to check."""
        errors = []

        def write_all():
            began = time.monotonic()
            try:
                for k, first in enumerate(range(1, PER_STREAM + 1, WRITE_CHUNK)):
                    due = began + k * WRITE_CHUNK * len(STREAMS) / WRITE_RATE
                    time.sleep(max(0.0, due - time.monotonic()))  # pacing, not waiting
                    last = min(first + WRITE_CHUNK, PER_STREAM + 1)
                    self.redis.pipe([["XADD", s, f"{i}-1", "i", str(i)]
                                     for s in STREAMS for i in range(first, last)])
            except Exception as e:  # reported by the test thread
                errors.append(e)
        writer = threading.Thread(target=write_all)
        writer.start()
        testcase.addCleanup(writer.join)
        return writer, errors

    def create_source(self, name, **extra):
        config = {"connector.class": fh.SOURCE_CLASS_FERRY, "tasks.max": "2",
                  "redis.uri": self.redis.uri, "redis.stream.name": ",".join(STREAMS),
                  "batch.size": str(BATCH), "redis.stream.block": "100",
                  "key.converter": fh.STRING_CONVERTER,
                  "value.converter": fh.JSON_CONVERTER,
                  "value.converter.schemas.enable": "false"}
        config.update(extra)
        r = self.worker.post("/connectors", {"name": name, "config": config})
        assert r.status == 201, r
        self.worker.wait_running(name, tasks=2, timeout=90)

    def written(self):
        return sum(fh.kafka_message_count(self.kafka.bootstrap, s) for s in STREAMS)

    def read_committed_ids(self, stream):
        out = fh._kcat("-C", "-b", self.kafka.bootstrap, "-t", stream, "-o", "beginning", "-e",
                       "-q", "-X", "isolation.level=read_committed", "-f", "%k\n", timeout=180)
        return [int(k.split("-")[0]) for k in out.split()]

    def crash_run(self, testcase, name, kills):
        """Fills the streams, runs the source, kill -9s the worker each time the run wrote
        another fraction of `kills` of the total, restarts it; returns {stream: [ids in Kafka
        order]} once every entry arrived."""
        self.create_source(name)
        writer, errors = self.start_writer(testcase)
        total = PER_STREAM * len(STREAMS)
        base = 0
        mid_run = 0
        for fraction in kills:
            # Each kill comes after this run wrote `fraction` of the total (duplicates count:
            # a restarted at-least-once task first writes again what it had not committed).
            fh.wait_until(lambda: self.written() >= base + fraction * total, 120,
                          f"{fraction:.0%} more of the records in Kafka before a kill")
            mid_run += writer.is_alive()
            self.worker.kill9()
            base = self.written()
            self.worker.start(timeout=60)
        self.worker.wait_running(name, tasks=2, timeout=120)
        writer.join()
        testcase.assertEqual(errors, [])
        self.kills_while_writing = mid_run

        def complete():
            return all(len(set(self.read_committed_ids(s))) >= PER_STREAM for s in STREAMS)
        fh.wait_until(complete, 180, "every entry of every stream in Kafka", interval=1.0)
        return {s: self.read_committed_ids(s) for s in STREAMS}


def check_streams(testcase, ids_by_stream):
    """No loss, first occurrences in stream order, and every duplicate a re-delivery of a run
    that directly precedes it (a restart from an earlier offset). Returns the duplicate count."""
    duplicates = 0
    for s, ids in ids_by_stream.items():
        seen = set()
        firsts = []
        for i in ids:
            if i in seen:
                duplicates += 1
            else:
                seen.add(i)
                firsts.append(i)
        testcase.assertEqual(len(seen), PER_STREAM, f"{s}: entries lost")
        testcase.assertEqual(firsts, list(range(1, PER_STREAM + 1)), f"{s}: out of order")
        # Per stream, Kafka holds ascending runs; each run restarts at or before where the
        # previous one ended (never skips ahead): a re-read, not a reordering.
        for a, b in zip(ids, ids[1:]):
            if b != a + 1:
                testcase.assertLessEqual(b, a, f"{s}: jumped from {a} to {b}")
    return duplicates


class SourceExactlyOnceTest(unittest.TestCase):

    def test_kill9_exactly_once_vs_at_least_once(self):
        kills = (0.15, 0.15, 0.15)
        eos = Stack(self, "eos", True, {s: 1 for s in STREAMS})
        began = time.monotonic()
        eos_ids = eos.crash_run(self, "eos-src", kills)
        eos_seconds = time.monotonic() - began
        eos_dups = check_streams(self, eos_ids)
        log = eos.worker.log_text()
        self.assertIn("Exactly-once: transactional producer ready (transactional.id=eos-eos-src-0",
                      log)
        self.assertIn("transactional.id=eos-eos-src-1", log)
        # Only the transactions open at the kills can show twice on the dev broker: at most one
        # poll batch per task per kill (a real broker aborts them). A poll reads up to
        # batch.size entries from each stream of its task (XREAD's COUNT is per stream), and
        # the tasks share the streams, so one kill can show at most BATCH per stream twice.
        self.assertLessEqual(eos_dups, len(kills) * len(STREAMS) * BATCH,
                             "duplicates beyond open txns")
        # Offsets were written inside the transactions, in Kafka Connect's format.
        offsets = fh._kcat("-C", "-b", eos.kafka.bootstrap, "-t", "connect-offsets", "-o",
                           "beginning", "-e", "-q", "-f", "%k\t%s\n")
        last = {}
        for line in offsets.splitlines():
            key, value = line.split("\t", 1)
            last[key] = json.loads(value)
        for s in STREAMS:
            key = json.dumps(["eos-src", {"stream": s}], separators=(",", ":"))
            self.assertEqual(last.get(key), {"offset": f"{PER_STREAM}-1"}, key)

        alo = Stack(self, "alo", False, {s: 1 for s in STREAMS})
        began = time.monotonic()
        alo_ids = alo.crash_run(self, "alo-src", kills)
        alo_seconds = time.monotonic() - began
        alo_dups = check_streams(self, alo_ids)
        total = PER_STREAM * len(STREAMS)
        print(f"\nkill -9 x{len(kills)}, {total} entries over {len(STREAMS)} streams, 2 tasks: "
              f"exactly-once {sum(len(v) for v in eos_ids.values())} records read_committed "
              f"({eos_dups} from transactions open at the kills, which a Kafka broker aborts; "
              f"{eos_seconds:.1f} s), at-least-once {sum(len(v) for v in alo_ids.values())} "
              f"({alo_dups} duplicates; {alo_seconds:.1f} s); kills while entries were being "
              f"added: {eos.kills_while_writing} and {alo.kills_while_writing} of {len(kills)}",
              file=sys.stderr)

        # Refusal on this worker (exactly.once.source.support not enabled): a clear 400.
        r = alo.worker.post("/connectors", {"name": "needs-eos", "config": {
            "connector.class": fh.SOURCE_CLASS_FERRY, "redis.uri": alo.redis.uri,
            "redis.stream.name": "s1", "exactly.once.support": "required"}})
        self.assertEqual(r.status, 400, r)
        message = r.body["message"]
        self.assertIn("exactly.once.support", message)
        self.assertIn("This worker does not have exactly-once source support enabled", message)
        self.assertEqual(alo.worker.get("/connectors/needs-eos").status, 404)

    def test_fenced_task_fails_and_restart_resumes(self):
        """A broker that answers EndTxn with PRODUCER_FENCED (a newer instance of the task took
        its transactional.id) fails the task with a trace that says so; a restart initialises
        the producer again and resumes from the committed offsets: nothing lost, order kept.
        The dev broker itself never fences (see test_dev_broker_transaction_limits), so the
        broker's answer is injected through its control channel."""
        st = Stack(self, "fence", True, {"f1": 1})
        st.redis.pipe([["XADD", "f1", f"{i}-1", "i", str(i)] for i in range(1, 5001)])
        r = st.worker.post("/connectors", {"name": "fsrc", "config": {
            "connector.class": fh.SOURCE_CLASS_FERRY, "tasks.max": "1",
            "redis.uri": st.redis.uri, "redis.stream.name": "f1", "batch.size": "100",
            "exactly.once.support": "required",
            "key.converter": fh.STRING_CONVERTER}})
        self.assertEqual(r.status, 201, r)
        st.worker.wait_running("fsrc", tasks=1, timeout=90)
        fh.wait_until(lambda: fh.kafka_message_count(st.kafka.bootstrap, "f1") >= 5000, 60,
                      "the first 5000 entries in Kafka")
        # EndTxn (API key 26) answers PRODUCER_FENCED (90) from now on.
        self.assertTrue(st.kafka.control("request-errors 26 90,90,90,90,90").startswith("OK"))
        st.redis.pipe([["XADD", "f1", f"{i}-1", "i", str(i)] for i in range(5001, 6001)])

        def failed():
            t = st.worker.status("fsrc")["tasks"][0]
            return t if t["state"] == "FAILED" else None
        task = fh.wait_until(failed, 60, "the fenced task FAILED")
        self.assertIn("transactional.id=fence-fsrc-0", task["trace"])
        self.assertIn("This instance of the task was fenced", task["trace"])
        self.assertTrue(st.kafka.control("clear-errors 26").startswith("OK"))
        r = st.worker.post("/connectors/fsrc/tasks/0/restart")
        self.assertIn(r.status, (200, 202, 204), r)
        st.worker.wait_running("fsrc", tasks=1, timeout=60)

        def ids():
            out = fh._kcat("-C", "-b", st.kafka.bootstrap, "-t", "f1", "-o", "beginning", "-e",
                           "-q", "-X", "isolation.level=read_committed", "-f", "%k\n")
            return [int(k.split("-")[0]) for k in out.split()]
        fh.wait_until(lambda: set(ids()) >= set(range(1, 6001)), 60, "all 6000 entries")
        self.assertEqual(list(dict.fromkeys(ids())), list(range(1, 6001)))

    def test_connector_offsets_topic(self):
        """offsets.storage.topic: the offsets go to the connector's own topic inside the
        transactions (Kafka Connect's format), none to the worker's; after kill -9 the task
        resumes from there."""
        st = Stack(self, "own", True, {"o1": 1, "own-offsets": 1})
        st.redis.pipe([["XADD", "o1", f"{i}-1", "i", str(i)] for i in range(1, 3001)])
        r = st.worker.post("/connectors", {"name": "osrc", "config": {
            "connector.class": fh.SOURCE_CLASS_FERRY, "redis.uri": st.redis.uri,
            "redis.stream.name": "o1", "batch.size": "200", "key.converter": fh.STRING_CONVERTER,
            "offsets.storage.topic": "own-offsets"}})
        self.assertEqual(r.status, 201, r)
        st.worker.wait_running("osrc", tasks=1, timeout=90)

        def last_offsets(topic):
            text = fh._kcat("-C", "-b", st.kafka.bootstrap, "-t", topic, "-o", "beginning", "-e",
                            "-q", "-f", "%k\t%s\n")
            return dict(line.split("\t", 1) for line in text.splitlines())
        key = json.dumps(["osrc", {"stream": "o1"}], separators=(",", ":"))
        # Killed once the last transaction committed (its offset is in the topic), so no
        # transaction is open and the dev broker shows exactly what a Kafka broker would.
        fh.wait_until(lambda: last_offsets("own-offsets").get(key) == '{"offset":"3000-1"}', 60,
                      "the offset of entry 3000 in own-offsets")
        st.worker.kill9()
        st.redis.pipe([["XADD", "o1", f"{i}-1", "i", str(i)] for i in range(3001, 4001)])
        st.worker.start(timeout=60)
        st.worker.wait_running("osrc", tasks=1, timeout=90)
        fh.wait_until(lambda: fh.kafka_message_count(st.kafka.bootstrap, "o1") >= 4000, 60,
                      "4000 entries in Kafka")
        out = fh._kcat("-C", "-b", st.kafka.bootstrap, "-t", "o1", "-o", "beginning", "-e", "-q",
                       "-f", "%k\n")
        ids = [int(k.split("-")[0]) for k in out.split()]
        self.assertEqual(ids, list(range(1, 4001)))  # resumed right after the committed offset

        fh.wait_until(lambda: last_offsets("own-offsets").get(key) == '{"offset":"4000-1"}', 30,
                      "the last offset in own-offsets")
        self.assertNotIn(key, last_offsets("connect-offsets"))

    def test_dev_broker_transaction_limits(self):
        """Pins down what the dev broker (librdkafka 2.0.2's mock cluster) does with
        transactions: commit and abort answer fine, but (1) a read_committed consumer also sees
        aborted records (no markers, no aborted-transactions list, LSO = high watermark) and
        (2) a second producer with the same transactional.id gets a new producer id instead of
        bumping the epoch, so the first one is not fenced. On a Kafka broker both differ; if
        this test fails, the dev broker learnt them: tighten the crash test to exactly 200k."""
        from confluent_kafka import Producer
        kafka = fh.kafka_dev(BUILD_DIR, topics={"t": 1})
        self.addCleanup(fh.stop_kafka, kafka)
        p = Producer({"bootstrap.servers": kafka.bootstrap, "transactional.id": "probe"})
        p.init_transactions(30)
        p.begin_transaction()
        p.produce("t", key="committed", value="1")
        p.commit_transaction(30)
        p.begin_transaction()
        p.produce("t", key="aborted", value="2")
        p.flush(30)
        p.abort_transaction(30)
        newer = Producer({"bootstrap.servers": kafka.bootstrap, "transactional.id": "probe"})
        newer.init_transactions(30)
        p.begin_transaction()  # a Kafka broker fences this producer: its commit fails
        p.produce("t", key="zombie", value="3")
        p.commit_transaction(30)
        out = fh._kcat("-C", "-b", kafka.bootstrap, "-t", "t", "-o", "beginning", "-e", "-q",
                       "-X", "isolation.level=read_committed", "-f", "%k\n")
        # A Kafka broker would show ["committed"] (and fail the zombie's commit).
        self.assertEqual(out.split(), ["committed", "aborted", "zombie"])


if __name__ == "__main__":
    BUILD_DIR, argv = fh.parse_args()
    unittest.main(argv=argv)
