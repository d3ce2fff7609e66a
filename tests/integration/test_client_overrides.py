"""Client config overrides (KIP-458): a connector's producer.override.*, consumer.override.* and
admin.override.* keys reach its tasks' Kafka clients, governed by the worker's
connector.client.config.override.policy (All, the default; None; Principal; Allowlist), with
Kafka Connect's validation messages. Real redis-server, ferry-kafka-dev, ferry-worker; the
sink's consumer group is read back with confluent_kafka.

    /usr/bin/python3 tests/integration/test_client_overrides.py --build-dir BUILD [-v] [-k name]
"""

import os
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
import ferry_harness as fh  # noqa: E402
from ferry_harness import wait_until  # noqa: E402

BUILD_DIR = None


def put_batches(worker, connector):
    _, body, _ = worker.get("/metrics")
    total = 0
    for line in body.splitlines():
        if (line.startswith("kafka_connect_sink_task_put_batch_total{")
                and f'connector="{connector}"' in line):
            total += float(line.rsplit(" ", 1)[1])
    return total


def failed_trace(worker, name):
    tasks = (worker.status(name) or {}).get("tasks") or []
    return tasks[0]["trace"] if tasks and tasks[0]["state"] == "FAILED" else None


class AllPolicyTest(fh.StackTest):
    """The default policy: every override applies."""

    def test_sink_consumer_group_and_batch_size_come_from_the_connector(self):
        n = 100
        fh.kcat_produce(self.kafka.bootstrap, "ov", [(f"k{i}", {"n": i}) for i in range(n)],
                        partition=0)
        self.worker.create_connector("ov", fh.sink_config(
            self.redis, "ov", "STRING", redis_keyspace="ov",
            consumer_override_group_id="ov-own-group",
            **{"consumer.override.max.poll.records": "7"}))
        wait_until(lambda: int(self.redis.cli("EVAL", "return #redis.call('KEYS','ov:*')", "0"))
                   == n, 60, "the sink's records in Redis")
        # max.poll.records=7: at least 15 put() calls for 100 records
        self.assertGreaterEqual(put_batches(self.worker, "ov"), -(-n // 7))
        # The tasks commit to the group the connector named, not connect-ov ...
        wait_until(lambda: fh.committed_offsets(self.kafka.bootstrap, "ov-own-group", "ov",
                                                [0]) == {0: n},
                   30, "offsets committed to ov-own-group")
        self.assertLess(fh.committed_offsets(self.kafka.bootstrap, "connect-ov", "ov", [0])[0],
                        0, "nothing committed to connect-ov")
        # ... and the offsets API reads (and writes) that group.
        status, body, _ = self.worker.get("/connectors/ov/offsets")
        self.assertEqual(status, 200, body)
        self.assertEqual(body["offsets"], [{"partition": {"kafka_topic": "ov",
                                                          "kafka_partition": 0},
                                            "offset": {"kafka_offset": n}}])
        self.assertNotIn("max.poll.records is unknown", self.worker.log_text())

    def test_source_producer_override_reaches_its_producer(self):
        # An invalid producer setting shows that the override reached librdkafka.
        self.worker.create_connector("src", fh.source_config(
            self.redis, "s", topic="s", **{"producer.override.linger.ms": "soon"}))
        trace = wait_until(lambda: failed_trace(self.worker, "src"), 30, "the task FAILED")
        self.assertIn("linger.ms", trace)

    def test_validate_lists_overrides_and_hides_secrets(self):
        config = fh.sink_config(self.redis, "ov", "STRING", name="ov")
        config["consumer.override.fetch.min.bytes"] = "1"
        config["consumer.override.sasl.jaas.config"] = "org.example.Login required pw=hunter22;"
        status, body, _ = self.worker.put(
            "/connector-plugins/ferry.redis.RedisSinkConnector/config/validate", config)
        self.assertEqual(status, 200, body)
        self.assertEqual(body["error_count"], 0, body)
        values = {c["value"]["name"]: c for c in body["configs"]}
        self.assertEqual(values["consumer.override.fetch.min.bytes"]["value"]["value"], "1")
        self.assertIsNone(values["consumer.override.fetch.min.bytes"]["definition"])
        self.assertEqual(values["consumer.override.sasl.jaas.config"]["value"]["value"],
                         "[hidden]")
        self.assertNotIn("hunter22", str(body))


class NonePolicyTest(fh.StackTest):
    WORKER_KW = {"properties": {"connector.client.config.override.policy": "None"}}

    def test_overrides_are_refused_with_kafkas_message(self):
        config = fh.sink_config(self.redis, "ov", "STRING", name="ov",
                                **{"consumer.override.max.poll.records": "7"})
        status, body, _ = self.worker.post("/connectors", {"name": "ov", "config": config})
        self.assertEqual(status, 400, body)
        refusal = ("The 'None' policy does not allow 'max.poll.records' to be overridden in "
                   "the connector configuration.")
        self.assertIn(refusal, body["message"])
        status, body, _ = self.worker.put(
            "/connector-plugins/ferry.redis.RedisSinkConnector/config/validate", config)
        self.assertEqual(status, 200, body)
        self.assertEqual(body["error_count"], 1, body)
        errors = {c["value"]["name"]: c["value"]["errors"] for c in body["configs"]}
        self.assertEqual(errors["consumer.override.max.poll.records"], [refusal])

    def test_overrides_of_clients_a_connector_does_not_use_are_not_checked(self):
        # A sink without a dead letter queue has no producer (Kafka Connect's rule).
        self.worker.create_connector("ov", fh.sink_config(
            self.redis, "ov", "STRING", **{"producer.override.linger.ms": "1"}))
        self.worker.wait_running("ov")


class PrincipalPolicyTest(fh.StackTest):
    WORKER_KW = {"properties": {
        "connector.client.config.override.policy":
            "org.apache.kafka.connect.connector.policy.PrincipalConnectorClientConfigOverridePolicy"}}

    def test_only_the_principal_settings_may_be_overridden(self):
        config = fh.source_config(self.redis, "s", topic="s", name="src",
                                  **{"producer.override.security.protocol": "PLAINTEXT",
                                     "producer.override.acks": "1"})
        status, body, _ = self.worker.put(
            "/connector-plugins/ferry.redis.RedisStreamSourceConnector/config/validate", config)
        self.assertEqual(status, 200, body)
        errors = {c["value"]["name"]: c["value"]["errors"] for c in body["configs"]}
        self.assertEqual(errors["producer.override.security.protocol"], [])
        self.assertEqual(errors["producer.override.acks"], [
            "The 'Principal' policy does not allow 'acks' to be overridden in the connector "
            "configuration."])
        self.assertEqual(body["error_count"], 1, body)


class BadPolicyTest(unittest.TestCase):

    def test_the_worker_refuses_an_unknown_policy(self):
        with tempfile.TemporaryDirectory(prefix="ferry-policy-") as tmp:
            done = fh.run_worker_once(BUILD_DIR, tmp,
                                      {"connector.client.config.override.policy": "Some"})
        self.assertNotEqual(done.returncode, 0)
        self.assertIn("connector.client.config.override.policy", done.stderr)
        self.assertIn("expected All, None, Principal or Allowlist", done.stderr)


if __name__ == "__main__":
    BUILD_DIR, argv = fh.parse_args()
    unittest.main(argv=argv)
