"""Error tolerance (Kafka's errors.* keys): a record the converter cannot read fails the task
with errors.tolerance=none, and with all is skipped, logged and sent as consumed to the dead
letter queue with __connect.errors.* headers, while every other record arrives. Real
redis-server, ferry-kafka-dev and ferry-worker; checked with redis-cli and kcat.

    /usr/bin/python3 tests/integration/test_errors.py --build-dir BUILD [-v] [-k name]
"""

import json
import os
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
import ferry_harness as fh  # noqa: E402
from ferry_harness import wait_until  # noqa: E402

BUILD_DIR = None
POISON = "this is { not json"


def records(n, poison_at):
    out = []
    for i in range(n):
        out.append((f"k{i}", POISON if i == poison_at else json.dumps({"n": i})))
    return out


class ErrorToleranceTest(fh.StackTest):
    WORKER_KW = {"properties": fh.StackTest.SHORT_SESSIONS}

    def sink(self, topic, **extra):
        return fh.sink_config(self.redis, topic, "STRING", redis_keyspace="s",
                              key_converter="org.apache.kafka.connect.storage.StringConverter",
                              value_converter="org.apache.kafka.connect.json.JsonConverter",
                              value_converter_schemas_enable="false", **extra)

    def test_tolerance_all_sends_the_poison_record_to_the_dead_letter_queue(self):
        n, poison = 200, 77
        fh.kcat_produce(self.kafka.bootstrap, "in-all", records(n, poison), partition=0)
        self.worker.create_connector("tolerant", self.sink(
            "in-all", errors_tolerance="all", errors_log_enable="true",
            errors_deadletterqueue_topic_name="dlq",
            errors_deadletterqueue_topic_replication_factor="1",
            errors_deadletterqueue_context_headers_enable="true"))
        wait_until(lambda: int(self.redis.cli("DBSIZE")) == n - 1, 60, f"{n - 1} keys in Redis")
        self.assertEqual(self.redis.cli("EXISTS", f"s:k{poison}"), "0")
        self.assertEqual(json.loads(self.redis.cli("GET", "s:k5")), {"n": 5})

        wait_until(lambda: fh.kafka_message_count(self.kafka.bootstrap, "dlq") >= 1, 60,
                   "the poison record in the dead letter queue")
        [dead] = fh.kcat_consume_json(self.kafka.bootstrap, "dlq")
        self.assertEqual(dead["key"], f"k{poison}")
        self.assertEqual(dead["payload"], POISON)  # as consumed, byte for byte
        h = dead.get("headers") or []
        headers = dict(zip(h[0::2], h[1::2]))
        self.assertEqual(headers["__connect.errors.topic"], "in-all")
        self.assertEqual(headers["__connect.errors.partition"], "0")
        self.assertEqual(headers["__connect.errors.offset"], str(poison))
        self.assertEqual(headers["__connect.errors.connector.name"], "tolerant")
        self.assertEqual(headers["__connect.errors.task.id"], "0")
        self.assertEqual(headers["__connect.errors.stage"], "VALUE_CONVERTER")
        self.assertEqual(headers["__connect.errors.class.name"],
                         "org.apache.kafka.connect.json.JsonConverter")
        self.assertEqual(headers["__connect.errors.exception.class.name"],
                         "org.apache.kafka.connect.errors.DataException")
        self.assertTrue(headers["__connect.errors.exception.message"])

        self.worker.wait_running("tolerant")
        log = self.worker.log_text()
        self.assertIn("Executing stage 'VALUE_CONVERTER'", log)
        self.assertIn(f"offset={poison}", log)
        # The skipped record's offset is committed with the others: a restart re-reads nothing.
        code, _ = self.worker.terminate(timeout=30)
        self.assertEqual(code, 0)
        self.worker.start()
        self.worker.wait_running("tolerant")
        fh.kcat_produce(self.kafka.bootstrap, "in-all", [("late", json.dumps({"n": -1}))],
                        partition=0)
        wait_until(lambda: self.redis.cli("EXISTS", "s:late") == "1", 60, "the later record")
        self.assertEqual(fh.kafka_message_count(self.kafka.bootstrap, "dlq"), 1,
                         "the poison record was dead-lettered again after a restart")

    def test_tolerance_none_fails_the_task_with_a_trace(self):
        fh.kcat_produce(self.kafka.bootstrap, "in-none", records(10, 4), partition=0)
        self.worker.create_connector("strict", self.sink("in-none"))

        def failed():
            s = self.worker.status("strict")
            tasks = s.get("tasks") or []
            return tasks and tasks[0]["state"] == "FAILED" and tasks[0]
        task = wait_until(failed, 60, "task FAILED")
        self.assertIn("Tolerance exceeded in error handler", task["trace"])
        self.assertIn("VALUE_CONVERTER", task["trace"])
        self.assertIn("offset=4", task["trace"])
        # Nothing at or after the poison record was written (as in Kafka Connect, the batch
        # it came in is not put at all).
        for i in range(4, 10):
            self.assertEqual(self.redis.cli("EXISTS", f"s:k{i}"), "0")

    def test_bad_tolerance_value_is_refused(self):
        status, body, _ = self.worker.put("/connectors/bad/config",
                                          self.sink("x", errors_tolerance="some"))
        self.assertEqual(status, 400, body)
        self.assertIn("errors.tolerance", body["message"])


if __name__ == "__main__":
    BUILD_DIR, argv = fh.parse_args()
    unittest.main(argv=argv)
