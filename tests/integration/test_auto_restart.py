"""Automatic restart (ferry's auto.restart.* keys; Kafka Connect has none): a sink task that
fails on data Redis refuses is FAILED with a trace that says when it restarts, and comes back
RUNNING by itself once the cause is gone, writing what it could not before. Without the key it
stays FAILED. Real redis-server, ferry-kafka-dev and ferry-worker.

    /usr/bin/python3 tests/integration/test_auto_restart.py --build-dir BUILD [-v] [-k name]
"""

import json
import os
import sys
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
import ferry_harness as fh  # noqa: E402
from ferry_harness import wait_until  # noqa: E402

BUILD_DIR = None


class AutoRestartTest(fh.StackTest):
    WORKER_KW = {"properties": fh.StackTest.SHORT_SESSIONS}

    def sink(self, topic, **extra):
        return fh.sink_config(self.redis, topic, "HASH", redis_keyspace="h",
                              key_converter="org.apache.kafka.connect.storage.StringConverter",
                              value_converter="org.apache.kafka.connect.json.JsonConverter",
                              value_converter_schemas_enable="false", **extra)

    def task_state(self, name):
        tasks = self.worker.status(name).get("tasks") or []
        return tasks[0] if tasks else {}

    def test_failed_task_comes_back_by_itself_once_the_cause_is_gone(self):
        self.redis.cli("SET", "h:k1", "a string, so HSET gets WRONGTYPE")
        fh.kcat_produce(self.kafka.bootstrap, "in", [("k1", json.dumps({"a": "1"})),
                                                     ("k2", json.dumps({"b": "2"}))], partition=0)
        self.worker.create_connector("healing", self.sink(
            "in", auto_restart_enable="true", auto_restart_initial_delay_ms="200",
            auto_restart_max_delay_ms="1000"))

        def failed_with_restart_pending():
            t = self.task_state("healing")
            return t.get("state") == "FAILED" and "restarts it automatically" in t.get("trace", "")
        wait_until(failed_with_restart_pending, 60, "FAILED with a pending automatic restart")
        self.assertIn("WRONGTYPE", self.task_state("healing")["trace"])
        # Several attempts while the cause is still there, each visible in the log.
        wait_until(lambda: self.worker.log_text().count("Restarting the task in") >= 2, 60,
                   "two automatic restarts")

        self.redis.cli("DEL", "h:k1")  # the cause goes away
        wait_until(lambda: self.redis.cli("HGET", "h:k1", "a") == "1", 60,
                   "the refused record written after a restart")
        self.assertEqual(self.redis.cli("HGET", "h:k2", "b"), "2")
        self.worker.wait_running("healing", timeout=30)

    def test_without_auto_restart_the_task_stays_failed(self):
        self.redis.cli("SET", "h:k1", "a string")
        fh.kcat_produce(self.kafka.bootstrap, "in2", [("k1", json.dumps({"a": "1"}))],
                        partition=0)
        self.worker.create_connector("plain", self.sink("in2"))
        wait_until(lambda: self.task_state("plain").get("state") == "FAILED", 60, "FAILED")
        self.assertNotIn("automatically", self.task_state("plain")["trace"])
        self.redis.cli("DEL", "h:k1")
        deadline = time.monotonic() + 3  # long enough for several restarts had there been any
        while time.monotonic() < deadline:
            self.assertEqual(self.task_state("plain").get("state"), "FAILED")
            time.sleep(0.2)
        self.assertEqual(self.redis.cli("EXISTS", "h:k1"), "0")

    def test_bad_auto_restart_value_is_refused(self):
        status, body, _ = self.worker.put("/connectors/bad/config",
                                          self.sink("x", auto_restart_max_attempts="-5"))
        self.assertEqual(status, 400, body)
        self.assertIn("auto.restart.max.attempts", body["message"])


if __name__ == "__main__":
    BUILD_DIR, argv = fh.parse_args()
    unittest.main(argv=argv)
