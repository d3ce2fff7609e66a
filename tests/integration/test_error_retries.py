"""errors.retry.timeout / errors.retry.delay.max.ms: an operation of the transformation stage that
throws a retriable error is retried with backoff (Kafka Connect's RetryWithToleranceOperator)
until it succeeds or the timeout passes; then errors.tolerance decides (none: the task FAILS with
a trace; all: the record is skipped and dead-lettered), in sinks and sources; a pause holds the
retries, a stop ends a wait at once. The test worker's ferry.test.FlakyTransform fails chosen
records a number of times. Real redis-server,
ferry-kafka-dev and ferry-worker-test; the dead letter queue is read with kcat.

    /usr/bin/python3 tests/integration/test_error_retries.py --build-dir BUILD [-v] [-k name]
"""

import json
import os
import re
import sys
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
import ferry_harness as fh  # noqa: E402
from ferry_harness import wait_until  # noqa: E402

BUILD_DIR = None
N = 40
EVERY = 10  # offsets 0, 10, 20, 30 are flaky


def retries_metric(worker, connector):
    status, text, _ = worker.get("/metrics")
    assert status == 200, text
    total = 0
    for line in text.splitlines():
        m = re.match(r'kafka_connect_task_error_total_retries\{([^}]*)\} (\S+)', line)
        if m and f'connector="{connector}"' in m.group(1):
            total += float(m.group(2))
    return total


class ErrorRetryTest(fh.StackTest):
    WORKER_KW = {"program": "ferry-worker-test"}

    def produce(self, topic):
        fh.kcat_produce(self.kafka.bootstrap, topic,
                        [(f"k{i}", json.dumps({"n": i})) for i in range(N)], partition=0)

    def sink(self, topic, failures, **extra):
        return fh.sink_config(self.redis, topic, "STRING", redis_keyspace="s",
                              key_converter="org.apache.kafka.connect.storage.StringConverter",
                              value_converter="org.apache.kafka.connect.json.JsonConverter",
                              value_converter_schemas_enable="false",
                              transforms="flaky", transforms_flaky_type="ferry.test.FlakyTransform",
                              transforms_flaky_failures=str(failures),
                              transforms_flaky_every=str(EVERY), **extra)

    def test_retries_until_the_transformation_succeeds(self):
        self.produce("in-retry")
        began = time.monotonic()
        # Each flaky record fails twice: waits of 300 ms and 600 ms (Kafka's schedule).
        self.worker.create_connector("retrying", self.sink(
            "in-retry", 2, errors_retry_timeout="30000", errors_tolerance="all",
            errors_deadletterqueue_topic_name="dlq-retry",
            errors_deadletterqueue_topic_replication_factor="1"))
        wait_until(lambda: int(self.redis.cli("DBSIZE")) == N, 60, f"{N} keys in Redis")
        took = time.monotonic() - began
        for i in range(0, N, EVERY):
            self.assertEqual(json.loads(self.redis.cli("GET", f"s:k{i}")), {"n": i})
        self.assertEqual(retries_metric(self.worker, "retrying"), 2 * (N // EVERY))
        # Four records waited 0.9 s each, one after the other.
        self.assertGreater(took, 3.6)
        self.worker.wait_running("retrying")
        self.assertEqual(fh.kafka_message_count(self.kafka.bootstrap, "dlq-retry"), 0)

    def test_delay_max_caps_each_wait(self):
        self.produce("in-capped")
        began = time.monotonic()
        # Five failures each: uncapped that is 300+600+1200+2400+4800 ms per record; with
        # errors.retry.delay.max.ms=50 every wait is a random one below 50 ms.
        self.worker.create_connector("capped", self.sink(
            "in-capped", 5, errors_retry_timeout="-1", errors_retry_delay_max_ms="50"))
        wait_until(lambda: int(self.redis.cli("DBSIZE")) == N, 30, f"{N} keys in Redis")
        self.assertLess(time.monotonic() - began, 15)
        self.assertEqual(retries_metric(self.worker, "capped"), 5 * (N // EVERY))

    def test_no_retry_with_tolerance_all_dead_letters_the_flaky_records(self):
        self.produce("in-noretry")
        self.worker.create_connector("noretry", self.sink(
            "in-noretry", 1, errors_retry_timeout="0", errors_tolerance="all",
            errors_deadletterqueue_topic_name="dlq-noretry",
            errors_deadletterqueue_topic_replication_factor="1",
            errors_deadletterqueue_context_headers_enable="true"))
        flaky = N // EVERY
        wait_until(lambda: int(self.redis.cli("DBSIZE")) == N - flaky, 60,
                   f"{N - flaky} keys in Redis")
        wait_until(lambda: fh.kafka_message_count(self.kafka.bootstrap, "dlq-noretry") >= flaky,
                   60, "the flaky records in the dead letter queue")
        dead = fh.kcat_consume_json(self.kafka.bootstrap, "dlq-noretry")
        self.assertEqual(sorted(d["key"] for d in dead),
                         sorted(f"k{i}" for i in range(0, N, EVERY)))
        for d in dead:
            h = d.get("headers") or []
            headers = dict(zip(h[0::2], h[1::2]))
            self.assertEqual(headers["__connect.errors.stage"], "TRANSFORMATION")
            # The failing transformation's class, as Kafka Connect names it.
            self.assertEqual(headers["__connect.errors.class.name"], "ferry.test.FlakyTransform")
            self.assertEqual(headers["__connect.errors.exception.class.name"],
                             "org.apache.kafka.connect.errors.RetriableException")
        for i in range(0, N, EVERY):
            self.assertEqual(self.redis.cli("EXISTS", f"s:k{i}"), "0")
        self.assertEqual(self.redis.cli("EXISTS", "s:k1"), "1")
        self.assertEqual(retries_metric(self.worker, "noretry"), 0)

    def test_tolerance_none_fails_the_task_once_the_timeout_passed(self):
        self.produce("in-strict")
        began = time.monotonic()
        self.worker.create_connector("strict", self.sink(
            "in-strict", 1000000, errors_retry_timeout="1500"))

        def failed():
            tasks = self.worker.status("strict").get("tasks") or []
            return tasks and tasks[0]["state"] == "FAILED" and tasks[0]
        task = wait_until(failed, 60, "task FAILED")
        self.assertGreater(time.monotonic() - began, 1.5)  # it retried for the whole timeout
        self.assertIn("Tolerance exceeded in error handler", task["trace"])
        self.assertIn("TRANSFORMATION", task["trace"])
        self.assertIn("org.apache.kafka.connect.errors.RetriableException", task["trace"])
        self.assertIn("flaky transform", task["trace"])
        self.assertIn("offset=0", task["trace"])
        self.assertEqual(int(self.redis.cli("DBSIZE")), 0)

    def test_a_source_retries_its_transformation_too(self):
        n = 5
        self.redis.pipe([["XADD", "src", "*", "n", str(i)] for i in range(n)])
        # A source record has no Kafka offset: every record fails twice (counted by its value).
        self.worker.create_connector("flaky-source", fh.source_config(
            self.redis, "src", transforms="flaky", transforms_flaky_type="ferry.test.FlakyTransform",
            transforms_flaky_failures="2", errors_retry_timeout="-1",
            errors_retry_delay_max_ms="50"))

        def all_in_kafka():
            self.worker.check_not_failed("flaky-source")
            return fh.kafka_message_count(self.kafka.bootstrap, "src") >= n
        wait_until(all_in_kafka, 60, f"{n} records in topic src")
        self.assertEqual(sorted(json.loads(v)["body"]["n"]
                                for _, v in fh.kcat_consume(self.kafka.bootstrap, "src")),
                         [str(i) for i in range(n)])
        self.assertEqual(retries_metric(self.worker, "flaky-source"), 2 * n)

    def test_a_pause_holds_the_retries(self):
        self.produce("in-pause")
        self.worker.create_connector("pausing", self.sink(
            "in-pause", 2, errors_retry_timeout="-1"))
        wait_until(lambda: retries_metric(self.worker, "pausing") >= 1, 30, "a first retry")
        status, body, _ = self.worker.put("/connectors/pausing/pause")
        self.assertEqual(status, 202, body)
        self.worker.wait_running("pausing", state="PAUSED")
        held = retries_metric(self.worker, "pausing")
        time.sleep(1.5)  # an observation window: a retry would be due within 0.6 s
        self.assertEqual(retries_metric(self.worker, "pausing"), held)
        self.assertEqual(self.worker.status("pausing")["tasks"][0]["state"], "PAUSED")
        status, body, _ = self.worker.put("/connectors/pausing/resume")
        self.assertEqual(status, 202, body)
        wait_until(lambda: int(self.redis.cli("DBSIZE")) == N, 60, f"{N} keys in Redis")
        self.worker.wait_running("pausing")
        self.assertEqual(retries_metric(self.worker, "pausing"), 2 * (N // EVERY))

    def test_a_stop_ends_a_retry_wait(self):
        self.produce("in-stop")
        self.worker.create_connector("forever", self.sink(
            "in-stop", 1000000, errors_retry_timeout="-1", errors_retry_delay_max_ms="60000"))
        wait_until(lambda: retries_metric(self.worker, "forever") >= 4, 30, "four retries")
        # The next wait is 4.8 s; a stop ends it at once.
        began = time.monotonic()
        code, _ = self.worker.terminate(timeout=30)
        self.assertEqual(code, 0)
        took = time.monotonic() - began
        self.assertLess(took, 4.0)
        self.assertIn("was being retried", self.worker.log_text())
        self.assertEqual(int(self.redis.cli("DBSIZE")), 0)


if __name__ == "__main__":
    BUILD_DIR, argv = fh.parse_args()
    unittest.main(argv=argv)
