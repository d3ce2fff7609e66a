"""Exactly-once Redis sink (redis.exactly.once): kill -9 the worker during a STREAM sink and
count the entries.

    /usr/bin/python3 tests/integration/test_sink_exactly_once.py --build-dir BUILD [-v] [-k name]

Every record's value is {"p": partition, "s": sequence}, produced per partition so that the
sequence is the record's offset; the sink XADDs it as the entry's fields. Exactly-once means the
stream ends with one entry per record, per partition in offset order. The same run without the
mode shows the duplicates a kill -9 causes there (the test's ability to fail). Real redis-server,
ferry-kafka-dev and ferry-worker processes; no fixed sleeps.
"""

import collections
import os
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
import ferry_harness as fh  # noqa: E402
from ferry_harness import wait_until  # noqa: E402

BUILD_DIR = None
TOPIC = "events"
PARTITIONS = 4

# Slow enough for kills to land mid-run: the dev broker delays its responses, the consumer
# fetches little at a time. The short session lets the group drop a killed member quickly.
WORKER_PROPERTIES = {
    "offset.flush.interval.ms": "1000",
    "consumer.max.partition.fetch.bytes": "8192",
    "consumer.session.timeout.ms": "6000",
    "consumer.heartbeat.interval.ms": "1000",
}


def stream_entries(redis, stream):
    """[(partition, sequence)] of every entry of `stream`, in stream order (XRANGE in chunks)."""
    out = []
    start = "-"
    while True:
        lines = redis.cli_lines("--raw", "XRANGE", stream, start, "+", "COUNT", "20000")
        if not lines:
            return out
        # Per entry: the id, then field, value pairs (p, s).
        last = None
        i = 0
        while i < len(lines):
            last = lines[i]
            fields = dict(zip(lines[i + 1:i + 5:2], lines[i + 2:i + 5:2]))
            out.append((int(fields["p"]), int(fields["s"])))
            i += 5
        ms, _, seq = last.partition("-")
        start = f"{ms}-{int(seq) + 1}"


class SinkExactlyOnceTest(unittest.TestCase):
    def setUp(self):
        tmp = tempfile.TemporaryDirectory()
        self.addCleanup(tmp.cleanup)
        self.redis = fh.RedisServer(tmp.name)
        self.addCleanup(self.redis.stop)
        self.kafka = fh.kafka_dev(BUILD_DIR, topics={TOPIC: PARTITIONS})
        self.addCleanup(fh.stop_kafka, self.kafka)
        self.tmp = tmp.name

    def start_worker(self, properties=None):
        self.worker = fh.Worker(BUILD_DIR, self.tmp, self.kafka.bootstrap, start=False,
                                properties=WORKER_PROPERTIES if properties is None else properties)
        self.addCleanup(self.worker.close)
        fh.dump_on_failure(self, self.worker, self.redis, self.kafka)
        self.worker.start()

    def produce(self, per_partition):
        for p in range(PARTITIONS):
            records = [(None, {"p": p, "s": s}) for s in range(per_partition)]
            fh.kcat_produce(self.kafka.bootstrap, TOPIC, records, partition=p,
                            extra=["-X", "batch.num.messages=500", "-X", "linger.ms=5"])
        ends = fh.kafka_end_offsets(self.kafka.bootstrap, TOPIC)
        self.assertEqual(ends, {p: per_partition for p in range(PARTITIONS)})

    def run_with_kills(self, name, exactly_once, per_partition, kill_at):
        """Creates the sink, kill -9s the worker when XLEN reaches each fraction of `kill_at`
        and restarts it; returns once every (partition, sequence) is in the stream."""
        n = per_partition * PARTITIONS
        stream = f"{TOPIC}-{name}"
        self.worker.create_connector(name, fh.sink_config(
            self.redis, TOPIC, "STREAM", redis_keyspace=stream,
            redis_exactly_once=str(exactly_once).lower()))
        started = time.monotonic()
        for fraction in kill_at:
            target = int(n * fraction)
            wait_until(lambda: (self.worker.check_not_failed(name)
                                or int(self.redis.cli("XLEN", stream)) >= target),
                       120, f"{target} entries in {stream}", interval=0.02)
            self.assertEqual(self.worker.kill9(), -9)
            at = int(self.redis.cli("XLEN", stream))
            sys.stderr.write(f"\n{name}: kill -9 at XLEN {at} of {n}\n")
            self.assertLess(at, n, "the sink finished before the kill")
            self.worker.start()
            self.worker.wait_running(name, tasks=1, timeout=30)

        def all_there():
            self.worker.check_not_failed(name)
            return len(set(stream_entries(self.redis, stream))) == n
        wait_until(all_there, 150, f"all {n} records in {stream}", interval=0.5)
        sys.stderr.write(f"{name}: all {n} records in {time.monotonic() - started:.1f} s\n")
        return stream

    def test_kill9_three_times_leaves_exactly_one_entry_per_record(self):
        per_partition = 50_000
        n = per_partition * PARTITIONS
        self.start_worker()
        self.produce(per_partition)
        self.assertEqual(self.kafka.control("rtt -1 20"), "OK")
        name = "eo-sink"
        stream = self.run_with_kills(name, True, per_partition, (0.2, 0.45, 0.7))

        # The stored offsets reach the end of every partition, and nothing more is written.
        keys = [f"ferry:offsets:{{{name}}}:{TOPIC}:{p}" for p in range(PARTITIONS)]
        wait_until(lambda: self.redis.cli_lines("--raw", "MGET", *keys)
                   == [str(per_partition)] * PARTITIONS, 30, "offset keys at the end")
        entries = stream_entries(self.redis, stream)
        self.assertEqual(int(self.redis.cli("XLEN", stream)), n)
        self.assertEqual(len(entries), n)
        by_partition = collections.defaultdict(list)
        for p, s in entries:
            by_partition[p].append(s)
        for p in range(PARTITIONS):
            self.assertEqual(by_partition[p], list(range(per_partition)),
                             f"partition {p}: not each offset once, in offset order")
        log = self.worker.log_text()
        self.assertIn("as the sink task asked", log, "no restart resumed at a stored offset")

    def test_without_the_mode_kill9_duplicates(self):
        # The same crash without redis.exactly.once: records written since the last offset
        # commit are written again after the restart.
        per_partition = 10_000
        n = per_partition * PARTITIONS
        self.start_worker()
        self.produce(per_partition)
        self.assertEqual(self.kafka.control("rtt -1 20"), "OK")
        stream = self.run_with_kills("plain-sink", False, per_partition, (0.5,))
        xlen = int(self.redis.cli("XLEN", stream))
        sys.stderr.write(f"plain-sink: XLEN {xlen} for {n} records\n")
        self.assertGreater(xlen, n, "no duplicates after kill -9 without redis.exactly.once")

    def test_rate_with_and_without_the_mode(self):
        # The cost of the mode: the same records sunk by two connectors, one after the other,
        # at full speed (no broker delay, default fetch sizes). Printed for the README; the
        # assertion only bounds the slowdown loosely (the machine is shared).
        per_partition = 50_000
        n = per_partition * PARTITIONS
        self.start_worker({})
        self.produce(per_partition)
        rates = {}
        for name, exactly_once in (("rate-plain", False), ("rate-eo", True)):
            stream = f"{TOPIC}-{name}"
            self.worker.create_connector(name, fh.sink_config(
                self.redis, TOPIC, "STREAM", redis_keyspace=stream,
                redis_exactly_once=str(exactly_once).lower()))
            xlen = lambda: int(self.redis.cli("XLEN", stream))  # noqa: E731
            first = wait_until(lambda: (self.worker.check_not_failed(name) or xlen()), 60,
                               f"a first entry in {stream}", interval=0.01)
            t0 = time.monotonic()
            wait_until(lambda: xlen() >= n, 120, f"{n} entries in {stream}", interval=0.01)
            rates[name] = (n - first) / (time.monotonic() - t0)
            self.assertEqual(xlen(), n)
            self.assertEqual(self.worker.delete(f"/connectors/{name}").status, 204)
        sys.stderr.write(f"\nrecords/s: without redis.exactly.once {rates['rate-plain']:,.0f}, "
                         f"with {rates['rate-eo']:,.0f}\n")
        self.assertGreater(rates["rate-eo"], rates["rate-plain"] / 5)


if __name__ == "__main__":
    BUILD_DIR, argv = fh.parse_args()
    unittest.main(argv=argv)
