"""A connector that hangs (in start(), poll() or stop()) never blocks the REST API, other
connectors or shutdown; and the REST API keeps a low p99 under 200 concurrent clients (wrk)
while data streams. Uses ferry-worker-test, which adds ferry.test.HangingSourceConnector.

    /usr/bin/python3 tests/integration/test_hung_connector.py --build-dir BUILD [-v]
"""

import os
import re
import subprocess
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
import ferry_harness as fh  # noqa: E402
from ferry_harness import wait_until  # noqa: E402

BUILD_DIR = None
HANGING = "ferry.test.HangingSourceConnector"
# The acceptance bound is for the optimised build; the sanitizer build runs ~3x slower.
P99_LIMIT_MS = 150.0 if os.environ.get("ASAN_OPTIONS") else 50.0


def wrk_p99_ms(output):
    m = re.search(r"^\s*99%\s+([\d.]+)(us|ms|s)\s*$", output, re.M)
    if not m:
        raise AssertionError(f"no 99% latency in wrk output:\n{output}")
    value, unit = float(m.group(1)), m.group(2)
    return value / 1000.0 if unit == "us" else value * 1000.0 if unit == "s" else value


class HungConnectorTest(unittest.TestCase):

    def setUp(self):
        tmp = tempfile.TemporaryDirectory(prefix="ferry-hung-")
        self.addCleanup(tmp.cleanup)
        self.redis, self.kafka, self.worker = fh.start_stack(
            self, BUILD_DIR, tmp.name, program="ferry-worker-test",
            properties={"task.shutdown.graceful.timeout.ms": "2000",
                        "consumer.session.timeout.ms": "6000"})

    def timed(self, method, path, body=None):
        start = time.monotonic()
        result = self.worker.request(method, path, body, timeout=30)
        return result, time.monotonic() - start

    def test_rest_stays_fast_while_a_connector_hangs_and_data_streams(self):
        # Data moving all along: Redis stream -> Kafka -> Redis hashes, fed while wrk runs.
        self.worker.create_connector("src", fh.source_config(self.redis, "orders", topic="orders"))
        self.worker.create_connector("snk", fh.sink_config(self.redis, "orders", "HASH",
                                                           redis_keyspace="o"))
        (status, body, _), seconds = self.timed(
            "POST", "/connectors",
            {"name": "hang", "config": {"connector.class": HANGING, "hang.in": "connector.start"}})
        self.assertEqual(status, 201, body)
        self.assertLess(seconds, 2.0)
        self.worker.wait_running("src")
        self.worker.wait_running("snk")
        self.assertEqual(self.worker.status("hang")["connector"]["state"], "UNASSIGNED")

        stop = threading.Event()
        written = [0]

        def feed():  # bounded: at most 5000 batches, stops when told
            for i in range(5000):
                if stop.is_set():
                    return
                self.redis.cli("XADD", "orders", "*", "n", str(i))
                written[0] += 1
        feeder = threading.Thread(target=feed, daemon=True)
        feeder.start()
        try:
            url = f"http://127.0.0.1:{self.worker.port}/connectors/src/status"
            out = subprocess.run(["wrk", "-t2", "-c200", "-d5s", "--latency", "--timeout", "5s",
                                  url], capture_output=True, text=True, timeout=60).stdout
        finally:
            stop.set()
            feeder.join(timeout=30)
        p99 = wrk_p99_ms(out)
        self.assertLess(p99, P99_LIMIT_MS, out)
        self.assertNotIn("Non-2xx", out, out)
        self.assertNotRegex(out, r"Socket errors: connect [1-9]|read [1-9]|write [1-9]|timeout [1-9]")
        requests = int(re.search(r"(\d+) requests in", out).group(1))
        self.assertGreater(requests, 1000, out)
        sys.stderr.write(f"\nwrk: {requests} requests, p99 {p99:.2f} ms, "
                         f"{written[0]} entries fed meanwhile\n")
        wait_until(lambda: self.redis.command_calls("hset") >= written[0], 60,
                   "every fed entry back in Redis")

        # Writes still go through while one connector is stuck in start().
        (status, body, _), seconds = self.timed(
            "PUT", "/connectors/other/config", {"connector.class": HANGING})
        self.assertEqual(status, 201, body)
        self.assertLess(seconds, 2.0)
        self.worker.wait_running("other")
        # Deleting the hung connector waits at most the graceful timeout, then abandons it.
        (status, body, _), seconds = self.timed("DELETE", "/connectors/hang")
        self.assertEqual(status, 204, body)
        self.assertLess(seconds, 6.0)
        self.assertEqual(self.worker.get("/connectors/hang")[0], 404)

    def test_shutdown_is_not_blocked_by_hung_tasks(self):
        for name, step in (("poll", "task.poll"), ("stop", "task.stop"),
                           ("cstop", "connector.stop")):
            self.worker.create_connector(name, {"connector.class": HANGING, "hang.in": step})
            self.worker.wait_running(name)
        code, seconds = self.worker.terminate(timeout=30)
        self.assertEqual(code, 0, self.worker.log_text(tail=4000))
        self.assertLess(seconds, 10.0)
        self.assertIn("abandoning", self.worker.log_text())


class RequestTimeoutTest(unittest.TestCase):
    """A write that waits longer than rest.request.timeout.ms answers 500 saying what the
    worker is stuck on (Kafka's KAFKA-15563 message), and completes later on its own."""

    def test_timeout_names_what_the_worker_is_stuck_on(self):
        tmp = tempfile.TemporaryDirectory(prefix="ferry-timeout-")
        self.addCleanup(tmp.cleanup)
        _, _, worker = fh.start_stack(
            self, BUILD_DIR, tmp.name, program="ferry-worker-test",
            properties={"rest.request.timeout.ms": "1000",
                        "task.shutdown.graceful.timeout.ms": "4000"})
        worker.create_connector("hang", {"connector.class": HANGING, "hang.in": "connector.stop"})
        worker.wait_running("hang")

        start = time.monotonic()
        status, body, _ = worker.delete("/connectors/hang", timeout=30)
        self.assertEqual(status, 500, body)
        self.assertLess(time.monotonic() - start, 3.0)
        self.assertEqual(body["error_code"], 500)
        self.assertRegex(body["message"],
                         r"^Request timed out\. The worker is currently waiting for connector "
                         r"hang to stop, which began at \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
        # A write queued behind it names the same stage; reads answer at once.
        status, body, _ = worker.put("/connectors/other/config",
                                     {"connector.class": HANGING}, timeout=30)
        self.assertEqual(status, 500, body)
        self.assertIn("waiting for connector hang to stop", body["message"])
        start = time.monotonic()
        self.assertEqual(worker.get("/connectors/hang/status")[0], 200)
        self.assertLess(time.monotonic() - start, 0.5)
        # The delete finishes once the hung stop() is abandoned; the queued create too.
        wait_until(lambda: worker.get("/connectors/hang")[0] == 404, 30, "hang to be deleted")
        wait_until(lambda: worker.get("/connectors/other")[0] == 200, 30, "other to be created")


if __name__ == "__main__":
    BUILD_DIR, argv = fh.parse_args()
    unittest.main(argv=argv)
