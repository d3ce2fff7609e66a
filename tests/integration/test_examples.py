"""Runs every curl script of deploy/examples/ against a live worker, in the order a user would,
and checks both what they print and what they changed (ferry's REST view, Kafka via kcat,
Redis via redis-cli).

    /usr/bin/python3 tests/integration/test_examples.py --build-dir BUILD [-v]
"""

import json
import os
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
import ferry_harness as fh  # noqa: E402
from ferry_harness import wait_until  # noqa: E402

BUILD_DIR = None
EXAMPLES = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                                         "deploy", "examples"))


class ExamplesTest(unittest.TestCase):

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="ferry-examples-")
        self.addCleanup(self.tmp.cleanup)
        self.redis, self.kafka, self.worker = fh.start_stack(
            self, BUILD_DIR, self.tmp.name, properties={"consumer.session.timeout.ms": "6000"})

    def run_script(self, name, *args, ok=True):
        env = dict(os.environ, FERRY_URL=f"http://127.0.0.1:{self.worker.port}")
        p = subprocess.run([os.path.join(EXAMPLES, name), *args], env=env, capture_output=True,
                           text=True, timeout=60)
        if ok:
            self.assertEqual(p.returncode, 0, f"{name} {args}: {p.stdout}{p.stderr}")
        else:
            self.assertNotEqual(p.returncode, 0, f"{name} {args} should fail: {p.stdout}")
        return p.stdout

    def write(self, name, doc):
        path = os.path.join(self.tmp.name, name)
        with open(path, "w") as f:
            json.dump(doc, f)
        return path

    def state(self, name):
        return self.worker.status(name)["connector"]["state"]

    def test_every_example_script(self):
        self.assertIn("ferry.redis.RedisSinkConnector", self.run_script("plugins.sh"))
        self.assertIn("JsonConverter", self.run_script("plugins.sh", "--all"))
        self.assertIn("redis.type", self.run_script("plugins.sh", "ferry.redis.RedisSinkConnector"))

        ids = [self.redis.cli("XADD", "orders", "*", "sku", f"S{i}") for i in range(5)]
        out = json.loads(self.run_script("create-source.sh", "src", self.redis.uri, "orders",
                                         "orders"))
        self.assertEqual(out["name"], "src")
        out = json.loads(self.run_script("create-sink.sh", "snk", self.redis.uri, "orders",
                                         "HASH", "order"))
        self.assertEqual(out["config"]["redis.keyspace"], "order")
        self.worker.wait_running("src")
        self.worker.wait_running("snk")
        wait_until(lambda: self.redis.cli("EXISTS", f"order:{ids[-1]}") == "1", 60,
                   "the orders written back as hashes")
        self.run_script("create-source.sh", "src", self.redis.uri, "orders", ok=False)  # 409

        listing = json.loads(self.run_script("status.sh"))
        self.assertEqual(sorted(listing), ["snk", "src"])
        self.assertEqual(json.loads(self.run_script("status.sh", "src"))["name"], "src")

        out = json.loads(self.run_script("patch.sh", "snk", "redis.separator", "/"))
        self.assertEqual(out["config"]["redis.separator"], "/")
        out = json.loads(self.run_script("patch.sh", "snk", "redis.separator"))
        self.assertNotIn("redis.separator", out["config"])
        config = self.worker.get("/connectors/snk/config")[1]
        config["redis.keyspace"] = "order2"
        out = json.loads(self.run_script("update.sh", "snk", self.write("snk.json", config)))
        self.assertEqual(out["config"]["redis.keyspace"], "order2")

        bad = self.write("bad.json", {"connector.class": "ferry.redis.RedisSinkConnector",
                                      "redis.type": "NOPE"})
        result = json.loads(self.run_script("validate.sh", "ferry.redis.RedisSinkConnector", bad))
        self.assertGreaterEqual(result["error_count"], 2)  # redis.type and topics

        self.run_script("pause.sh", "src")
        wait_until(lambda: self.state("src") == "PAUSED", 30, "src PAUSED")
        self.run_script("resume.sh", "src")
        wait_until(lambda: self.state("src") == "RUNNING", 30, "src RUNNING")
        self.run_script("restart.sh", "src")
        self.run_script("restart.sh", "src", "--tasks")
        self.worker.wait_running("src")

        self.run_script("offsets-alter.sh", "src", "{}", ok=False)  # not stopped, empty body
        self.run_script("stop.sh", "src")
        wait_until(lambda: self.state("src") == "STOPPED", 30, "src STOPPED")
        offsets = json.loads(self.run_script("offsets-get.sh", "src"))["offsets"]
        self.assertEqual(offsets, [{"partition": {"stream": "orders"},
                                    "offset": {"offset": ids[-1]}}])
        body = json.dumps({"offsets": [{"partition": {"stream": "orders"},
                                        "offset": {"offset": ids[2]}}]})
        self.assertIn("altered", self.run_script("offsets-alter.sh", "src", body))
        self.assertIn("reset", self.run_script("offsets-reset.sh", "src"))
        self.assertEqual(json.loads(self.run_script("offsets-get.sh", "src"))["offsets"], [])

        levels = json.loads(self.run_script("loggers.sh"))
        self.assertEqual(levels["root"]["level"], "INFO")
        self.assertEqual(json.loads(self.run_script("loggers.sh", "sink", "DEBUG")), ["sink"])
        self.assertEqual(json.loads(self.run_script("loggers.sh"))["sink"]["level"], "DEBUG")
        self.run_script("loggers.sh", "sink", "LOUD", ok=False)

        self.run_script("delete.sh", "src")
        self.run_script("delete.sh", "snk")
        self.run_script("status.sh", "src", ok=False)  # 404 now
        self.assertEqual(self.worker.get("/connectors")[1], [])


if __name__ == "__main__":
    BUILD_DIR, argv = fh.parse_args()
    unittest.main(argv=argv)
