"""Connector administration over REST like a user with curl: /health, PATCH config, and the
offsets endpoints (GET, PATCH, DELETE; writes only when the connector is STOPPED) for a source
and a sink connector. Results are checked with kcat and redis-cli.

    /usr/bin/python3 tests/integration/test_connector_admin_api.py --build-dir BUILD [-v]
"""

import json
import os
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
import ferry_harness as fh  # noqa: E402
from ferry_harness import wait_until  # noqa: E402

BUILD_DIR = None
STOPPED_MESSAGE = "must be in the STOPPED state"


class ConnectorAdminTest(unittest.TestCase):

    def setUp(self):
        tmp = tempfile.TemporaryDirectory(prefix="ferry-admin-")
        self.addCleanup(tmp.cleanup)
        # A short session lets the dev broker hand the group over quickly after a stop.
        self.redis, self.kafka, self.worker = fh.start_stack(
            self, BUILD_DIR, tmp.name, properties={"consumer.session.timeout.ms": "6000"})

    def stop(self, name):
        status, body, _ = self.worker.put(f"/connectors/{name}/stop")
        self.assertEqual(status, 204, body)
        wait_until(lambda: self.worker.status(name)["connector"]["state"] == "STOPPED", 30,
                   f"{name} STOPPED")

    def resume(self, name):
        status, body, _ = self.worker.put(f"/connectors/{name}/resume")
        self.assertEqual(status, 202, body)
        self.worker.wait_running(name)

    def test_health(self):
        status, body, _ = self.worker.get("/health")
        self.assertEqual(status, 200)
        self.assertEqual(body["status"], "healthy")

    def test_openapi(self):
        status, doc, _ = self.worker.get("/openapi.json")
        self.assertEqual(status, 200)
        self.assertEqual(doc["openapi"], "3.0.3")
        self.assertIn("patch", doc["paths"]["/connectors/{name}/offsets"])
        self.assertIn("put", doc["paths"]["/admin/loggers/{name}"])

    def test_loggers(self):
        status, body, _ = self.worker.get("/admin/loggers")
        self.assertEqual(status, 200)
        self.assertEqual(body["root"], {"level": "INFO", "last_modified": None})
        self.assertIn("main", body)  # every logger that has logged is listed
        status, body, _ = self.worker.put("/admin/loggers/herder", {"level": "debug"})
        self.assertEqual((status, body), (200, ["herder"]))
        status, body, _ = self.worker.get("/admin/loggers/herder")
        self.assertEqual(body["level"], "DEBUG")
        self.assertIsInstance(body["last_modified"], int)
        self.assertEqual(self.worker.get("/admin/loggers/root")[1]["level"], "INFO")
        self.assertEqual(self.worker.get("/admin/loggers/nope")[0], 404)
        self.assertEqual(self.worker.put("/admin/loggers/herder", {"level": "LOUD"})[0], 404)
        self.assertEqual(self.worker.put("/admin/loggers/herder", {"lvl": "INFO"})[0], 400)
        self.assertEqual(self.worker.put("/admin/loggers/herder?scope=cluster",
                                         {"level": "INFO"})[0], 204)
        # The sink logger at DEBUG writes a line per batch written.
        self.worker.put("/admin/loggers/sink", {"level": "DEBUG"})
        fh.kcat_produce(self.kafka.bootstrap, "t", [("k", json.dumps("v"))])
        self.worker.create_connector("s", fh.sink_config(self.redis, "t", "STRING"))
        wait_until(lambda: "DEBUG [sink] Wrote 1 records" in self.worker.log_text(), 30,
                   "a DEBUG line of the sink in the log")

    def test_active_topics(self):
        self.redis.cli("XADD", "a", "*", "n", "1")
        self.redis.cli("XADD", "b", "*", "n", "1")
        self.worker.create_connector("src", fh.source_config(self.redis, "a,b",
                                                             topic="topic-${stream}"))
        self.worker.wait_running("src")
        expected = {"src": {"topics": ["topic-a", "topic-b"]}}
        wait_until(lambda: self.worker.get("/connectors/src/topics")[1] == expected, 30,
                   "both topics tracked")
        status, _, _ = self.worker.put("/connectors/src/topics/reset")
        self.assertEqual(status, 202)
        self.assertEqual(self.worker.get("/connectors/src/topics")[1], {"src": {"topics": []}})
        self.redis.cli("XADD", "b", "*", "n", "2")  # only b is used after the reset
        wait_until(lambda: self.worker.get("/connectors/src/topics")[1] ==
                   {"src": {"topics": ["topic-b"]}}, 30, "topic-b tracked again")
        self.assertEqual(self.worker.get("/connectors/nope/topics")[0], 404)

    def test_patch_config(self):
        cfg = fh.sink_config(self.redis, "t", "STRING", redis_keyspace="a")
        self.worker.create_connector("s", cfg)
        status, body, _ = self.worker.request(
            "PATCH", "/connectors/s/config", {"redis.keyspace": "b", "redis.separator": None})
        self.assertEqual(status, 200, body)
        self.assertEqual(body["config"]["redis.keyspace"], "b")
        status, config, _ = self.worker.get("/connectors/s/config")
        self.assertEqual(config["redis.keyspace"], "b")
        self.assertNotIn("redis.separator", config)
        self.assertEqual(config["topics"], "t")
        status, body, _ = self.worker.request("PATCH", "/connectors/s/config", {"tasks.max": "x"})
        self.assertEqual(status, 400)
        self.assertIn("tasks.max", body["message"])
        status, body, _ = self.worker.request("PATCH", "/connectors/nope/config", {"a": "b"})
        self.assertEqual(status, 404)
        self.assertEqual(body["error_code"], 404)

    def test_source_offsets(self):
        ids = [self.redis.cli("XADD", "s", "*", "n", str(i)) for i in range(10)]
        self.worker.create_connector("src", fh.source_config(self.redis, "s", topic="s"))
        self.worker.wait_running("src")
        wait_until(lambda: fh.kafka_message_count(self.kafka.bootstrap, "s") == 10, 60,
                   "10 entries in Kafka")
        wait_until(lambda: self.worker.get("/connectors/src/offsets")[1]["offsets"] ==
                   [{"partition": {"stream": "s"}, "offset": {"offset": ids[-1]}}], 30,
                   "the committed offset of the last entry")

        rewind = {"offsets": [{"partition": {"stream": "s"}, "offset": {"offset": ids[4]}}]}
        status, body, _ = self.worker.request("PATCH", "/connectors/src/offsets", rewind)
        self.assertEqual(status, 400)
        self.assertIn(STOPPED_MESSAGE, body["message"])

        self.stop("src")
        status, body, _ = self.worker.request("PATCH", "/connectors/src/offsets", rewind)
        self.assertEqual(status, 200, body)
        self.assertIn("altered successfully", body["message"])
        self.assertEqual(self.worker.get("/connectors/src/offsets")[1]["offsets"],
                         rewind["offsets"])
        self.resume("src")
        wait_until(lambda: fh.kafka_message_count(self.kafka.bootstrap, "s") == 15, 60,
                   "entries 6..10 delivered again after the rewind")

        self.stop("src")
        status, body, _ = self.worker.delete("/connectors/src/offsets")
        self.assertEqual(status, 200, body)
        self.assertIn("reset successfully", body["message"])
        self.assertEqual(self.worker.get("/connectors/src/offsets")[1]["offsets"], [])
        self.resume("src")
        wait_until(lambda: fh.kafka_message_count(self.kafka.bootstrap, "s") == 25, 60,
                   "every entry delivered again after the reset")

        for bad in ({}, {"offsets": []}, {"offsets": [{"partition": 1, "offset": {}}]}):
            status, body, _ = self.worker.request("PATCH", "/connectors/src/offsets", bad)
            self.assertEqual(status, 400, bad)

    def test_sink_offsets(self):
        fh.kcat_produce(self.kafka.bootstrap, "t", [(f"k{i}", json.dumps(f"v{i}")) for i in range(20)],
                        partition=0)
        self.worker.create_connector("snk", fh.sink_config(self.redis, "t", "STRING"))
        self.worker.wait_running("snk")
        wait_until(lambda: self.redis.command_calls("set") == 20, 60, "20 SETs")
        self.stop("snk")
        partition0 = {"kafka_topic": "t", "kafka_partition": 0}
        status, body, _ = self.worker.get("/connectors/snk/offsets")
        self.assertEqual(status, 200, body)
        self.assertIn({"partition": partition0, "offset": {"kafka_offset": 20}}, body["offsets"])

        rewind = {"offsets": [{"partition": partition0, "offset": {"kafka_offset": 15}}]}
        status, body, _ = self.worker.request("PATCH", "/connectors/snk/offsets", rewind)
        self.assertEqual(status, 200, body)
        self.assertIn({"partition": partition0, "offset": {"kafka_offset": 15}},
                      self.worker.get("/connectors/snk/offsets")[1]["offsets"])
        self.resume("snk")
        wait_until(lambda: self.redis.command_calls("set") == 25, 90,
                   "records 15..19 written again after the rewind")

        self.stop("snk")
        status, body, _ = self.worker.delete("/connectors/snk/offsets")
        self.assertEqual(status, 200, body)
        self.assertIn({"partition": partition0, "offset": {"kafka_offset": 0}},
                      self.worker.get("/connectors/snk/offsets")[1]["offsets"])
        self.resume("snk")
        wait_until(lambda: self.redis.command_calls("set") == 45, 90,
                   "every record written again after the reset")
        self.assertEqual(self.redis.cli("GET", "t:k19"), "v19")


if __name__ == "__main__":
    BUILD_DIR, argv = fh.parse_args()
    unittest.main(argv=argv)
