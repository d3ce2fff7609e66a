"""Redis sink under a Redis outage: redis-server (appendonly yes, appendfsync always) is
stopped for 10 s mid-run (SIGTERM: it flushes its AOF and exits), then started again on the
same port and directory. While it is down the worker's log says why the sink is not writing;
afterwards every record is in Redis.

    /usr/bin/python3 tests/integration/test_sink_faults.py --build-dir BUILD [-v] [-k name]

Real redis-server, ferry-kafka-dev and ferry-worker processes; no fixed sleeps except the
outage itself, which is the scenario (its 10 s are spent checking the worker's log).
"""

import os
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
import ferry_harness as fh  # noqa: E402
from ferry_harness import wait_until  # noqa: E402

BUILD_DIR = None
TOPIC = "events"
PARTITIONS = 3
OUTAGE_SECONDS = 10


class PersistentRedis(fh.RedisServer):
    """A RedisServer whose writes survive a restart: AOF on, fsync of every write."""

    def start(self, timeout=10.0):
        self._log = open(self.log_path, "ab")
        self.process = fh._popen(
            [fh.REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "yes", "--appendfsync", "always", "--dir", self.tmp_dir,
             "--protected-mode", "no"],
            stdin=subprocess.DEVNULL, stdout=self._log, stderr=subprocess.STDOUT)
        wait_until(lambda: self.cli("PING", check=False) == "PONG", timeout,
                   f"redis-server on port {self.port} to answer PING")


def stream_records(redis, stream):
    """{(partition, sequence)} of the entries of `stream` (fields p and s)."""
    lines = redis.cli_lines("--raw", "XRANGE", stream, "-", "+")
    out = []
    for i in range(0, len(lines), 5):
        fields = dict(zip(lines[i + 1:i + 5:2], lines[i + 2:i + 5:2]))
        out.append((int(fields["p"]), int(fields["s"])))
    return out


class SinkRedisOutageTest(unittest.TestCase):
    def setUp(self):
        tmp = tempfile.TemporaryDirectory()
        self.addCleanup(tmp.cleanup)
        self.redis = PersistentRedis(tmp.name)
        self.addCleanup(self.redis.stop)
        self.kafka = fh.kafka_dev(BUILD_DIR, topics={TOPIC: PARTITIONS})
        self.addCleanup(fh.stop_kafka, self.kafka)
        self.worker = fh.Worker(BUILD_DIR, tmp.name, self.kafka.bootstrap, start=False,
                                properties={"consumer.max.partition.fetch.bytes": "4096"})
        self.addCleanup(self.worker.close)
        fh.dump_on_failure(self, self.worker, self.redis, self.kafka)
        self.worker.start()

    def outage_run(self, name, exactly_once):
        per_partition = 10_000
        n = per_partition * PARTITIONS
        half = per_partition // 2

        def produce(first, last):
            for p in range(PARTITIONS):
                fh.kcat_produce(self.kafka.bootstrap, TOPIC,
                                [(None, {"p": p, "s": s}) for s in range(first, last)],
                                partition=p)
        # Half now, half while Redis is down: the sink has records to write during the outage
        # however fast it drains the first half.
        produce(0, half)
        self.assertEqual(self.kafka.control("rtt -1 20"), "OK")
        stream = f"{TOPIC}-{name}"
        self.worker.create_connector(name, fh.sink_config(
            self.redis, TOPIC, "STREAM", redis_keyspace=stream,
            redis_exactly_once=str(exactly_once).lower()))
        wait_until(lambda: (self.worker.check_not_failed(name)
                            or int(self.redis.cli("XLEN", stream)) >= n // 4),
                   60, f"a quarter of the records in {stream}", interval=0.02)

        # Stop Redis the way an operator does: SIGTERM, it writes what it has and exits.
        log_before = len(self.worker.log_text())
        self.redis.stop()
        self.assertEqual(self.redis.process.returncode, 0, self.redis.log_text()[-2000:])
        down_at = time.monotonic()
        at_stop = None
        produce(half, per_partition)

        def warned():
            text = self.worker.log_text()[log_before:]
            lines = [line for line in text.splitlines()
                     if "WARN" in line and "Redis at 127.0.0.1:" in line]
            return lines[0] if lines else None
        line = wait_until(warned, OUTAGE_SECONDS, "a WARN line naming Redis in the worker log")
        sys.stderr.write(f"\n{name}: while Redis is down: {line}\n")
        # Still RUNNING (it retries by itself), and the status says why nothing moves.
        def status_says_why():
            task = self.worker.status(name)["tasks"][0]
            return task["state"] == "RUNNING" and "Redis at 127.0.0.1:" in task.get("trace", "") \
                and task
        task = wait_until(status_says_why, OUTAGE_SECONDS, "the task status to name the problem")
        self.assertIn("retried", task["trace"])
        wait_until(lambda: time.monotonic() - down_at >= OUTAGE_SECONDS, OUTAGE_SECONDS + 5,
                   "the outage to last its 10 s", interval=0.2)
        self.worker.check_not_failed(name)

        self.redis.start()
        at_stop = int(self.redis.cli("XLEN", stream))
        sys.stderr.write(f"{name}: {at_stop} entries survived the restart\n")
        self.assertLess(at_stop, n, "the sink finished before the outage")

        def all_there():
            self.worker.check_not_failed(name)
            return len(set(stream_records(self.redis, stream))) == n
        wait_until(all_there, 90, f"all {n} records in {stream}", interval=0.5)
        self.assertIn("Retried batch written", self.worker.log_text()[log_before:])
        wait_until(lambda: "trace" not in self.worker.status(name)["tasks"][0], 30,
                   "the trace gone from the status once writing works again")
        return stream, n

    def test_redis_down_10s_loses_nothing(self):
        self.outage_run("outage-sink", False)

    def test_redis_down_10s_exactly_once(self):
        stream, n = self.outage_run("outage-eo-sink", True)
        entries = stream_records(self.redis, stream)
        self.assertEqual(len(entries), n, "duplicates with redis.exactly.once")
        for p in range(PARTITIONS):
            self.assertEqual([s for q, s in entries if q == p], list(range(n // PARTITIONS)))


if __name__ == "__main__":
    BUILD_DIR, argv = fh.parse_args()
    unittest.main(argv=argv)
