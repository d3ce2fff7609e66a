"""Topic creation for source connectors (Kafka Connect's KIP-158 keys): topic.creation.groups,
topic.creation.<group>.include / .exclude / .partitions / .replication.factor and topic configs.

    /usr/bin/python3 tests/integration/test_topic_creation.py --build-dir BUILD [-v]

The dev broker (librdkafka's mock cluster) has no CreateTopics and names no controller, so the
worker's Admin call cannot create anything there: the worker logs, per topic, the group it chose
and the exact spec to create it with, and the records still flow (the broker auto-creates the
topic with its own 4 partitions). These tests check the group choice and the spec through that
log line and the refusal of bad values through REST; with the worker's dev.broker.control the
worker creates the topic through the dev broker's control channel (its only way to get a
partition count there), and kcat sees the group's partition count.
"""

import os
import re
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
import ferry_harness as fh  # noqa: E402

BUILD_DIR = None


class TopicCreationTest(fh.StackTest):

    def source(self, name, streams, **extra):
        config = {"connector.class": fh.SOURCE_CLASS_FERRY, "tasks.max": "1",
                  "redis.uri": self.redis.uri, "redis.stream.name": ",".join(streams),
                  "key.converter": fh.STRING_CONVERTER}
        config.update(extra)
        return self.worker.post("/connectors", {"name": name, "config": config})

    def spec_line(self, topic):
        """The worker's topic creation line for `topic`: (group, spec text)."""
        pattern = re.compile(r"Topic creation \(group '([^']+)'\): Topic '" + re.escape(topic) +
                             r"' does not exist and cannot be created: .*?Create it with (.*?)"
                             r"(?: \(connector=\S+ task=\d+\))?$",
                             re.M)
        m = pattern.search(self.worker.log_text())
        return (m.group(1), m.group(2).strip()) if m else None

    def test_groups_choose_the_settings(self):
        for s in ("state-users", "state-tmp", "events-1", "misc"):
            self.redis.cli("XADD", s, "*", "f", "v")
        r = self.source("tc", ["state-users", "state-tmp", "events-1", "misc"], **{
            "topic.creation.default.partitions": "3",
            "topic.creation.default.replication.factor": "1",
            "topic.creation.groups": "compacted,big",
            "topic.creation.compacted.include": "state-.*",
            "topic.creation.compacted.exclude": "state-tmp",
            "topic.creation.compacted.cleanup.policy": "compact",
            "topic.creation.big.include": "events-.*,state-tmp",
            "topic.creation.big.partitions": "12",
        })
        self.assertEqual(r.status, 201, r)
        self.worker.wait_running("tc")
        expected = {
            "state-users": ("compacted", "3 partition(s), replication factor 1, "
                                         "cleanup.policy=compact"),
            "state-tmp": ("big", "12 partition(s), replication factor 1"),  # exclude wins
            "events-1": ("big", "12 partition(s), replication factor 1"),
            "misc": ("default", "3 partition(s), replication factor 1"),
        }
        for topic, want in expected.items():
            got = fh.wait_until(lambda t=topic: self.spec_line(t), 30, f"creation line of {topic}")
            self.assertEqual(got, want, topic)
            # The records still arrive (the dev broker auto-creates the topic its own way).
            fh.wait_until(lambda t=topic: fh.kafka_message_count(self.kafka.bootstrap, t) == 1,
                          30, f"the record in {topic}")
        # Asked once per topic and task, not per record.
        self.redis.cli("XADD", "misc", "*", "f", "v2")
        fh.wait_until(lambda: fh.kafka_message_count(self.kafka.bootstrap, "misc") == 2, 30,
                      "the second record in misc")
        self.assertEqual(self.worker.log_text().count("Topic 'misc' does not exist"), 1)

    def test_existing_topic_is_left_alone_and_creation_off_asks_nothing(self):
        # A topic that exists (the dev broker auto-creates it with 4 partitions) is used as is.
        fh.kcat_produce(self.kafka.bootstrap, "ready", [("k", "v")])
        self.assertEqual(fh.kafka_partitions(self.kafka.bootstrap, "ready"), [0, 1, 2, 3])
        self.redis.cli("XADD", "ready", "*", "f", "v")
        self.redis.cli("XADD", "plain", "*", "f", "v")
        r = self.source("tc-ready", ["ready"], **{
            "topic.creation.default.partitions": "5",
            "topic.creation.default.replication.factor": "1"})
        self.assertEqual(r.status, 201, r)
        fh.wait_until(lambda: "Topic creation (group 'default'): topic 'ready' has 4 partition(s)"
                      in self.worker.log_text(), 30, "the existing topic's line")
        fh.wait_until(lambda: fh.kafka_message_count(self.kafka.bootstrap, "ready") == 2, 30,
                      "the record in ready")
        self.assertEqual(fh.kafka_partitions(self.kafka.bootstrap, "ready"), [0, 1, 2, 3])
        # Without topic.creation.* keys nothing is created or asked (Kafka Connect's rule).
        r = self.source("tc-plain", ["plain"])
        self.assertEqual(r.status, 201, r)
        fh.wait_until(lambda: fh.kafka_message_count(self.kafka.bootstrap, "plain") == 1, 30,
                      "the record in plain")
        self.assertNotIn("'plain'", self.worker.log_text())

    def test_invalid_values_are_refused(self):
        cases = [
            ({"topic.creation.default.partitions": "0",
              "topic.creation.default.replication.factor": "1"},
             "Invalid value 0 for configuration topic.creation.default.partitions"),
            ({"topic.creation.default.partitions": "3",
              "topic.creation.default.replication.factor": "many"},
             "Invalid value many for configuration topic.creation.default.replication.factor"),
            ({"topic.creation.groups": "g", "topic.creation.g.include": "a.*"},
             "topic.creation.default.partitions must be set"),
            ({"topic.creation.default.partitions": "3",
              "topic.creation.default.replication.factor": "1",
              "topic.creation.groups": "g", "topic.creation.g.include": "(unclosed"},
             "'(unclosed' is not a valid regular expression"),
            ({"topic.creation.default.partitions": "3",
              "topic.creation.default.replication.factor": "1",
              "topic.creation.groups": "default"},
             "must not list 'default'"),
        ]
        for extra, message in cases:
            r = self.source("bad", ["s"], **extra)
            self.assertEqual(r.status, 400, (extra, r))
            self.assertIn(message, r.body["message"], extra)
        # The validate endpoint names the same key.
        r = self.worker.put(f"/connector-plugins/{fh.SOURCE_CLASS_FERRY}/config/validate", {
            "connector.class": fh.SOURCE_CLASS_FERRY, "name": "bad", "redis.stream.name": "s",
            "topic.creation.default.partitions": "-5",
            "topic.creation.default.replication.factor": "1"})
        self.assertEqual(r.status, 200, r)
        doc = r.body
        errors = {c["value"]["name"]: c["value"]["errors"] for c in doc["configs"]}
        self.assertTrue(errors["topic.creation.default.partitions"], errors)
        # A standalone worker refuses exactly.once.support=required the same way.
        r = self.source("needs-eos", ["s"], **{"exactly.once.support": "required"})
        self.assertEqual(r.status, 400, r)
        self.assertIn("a standalone worker never has it", r.body["message"])


class DevBrokerChannelTest(unittest.TestCase):
    """With the worker's dev.broker.control naming ferry-kafka-dev's control channel, topic
    creation gives the topic its group's partition count on the dev broker too (its only way:
    the mock cluster has no CreateTopics)."""

    def test_partitions_from_the_group(self):
        import tempfile
        tmp = tempfile.TemporaryDirectory(prefix="ferry-tc-")
        self.addCleanup(tmp.cleanup)
        redis = fh.RedisServer(tmp.name)
        self.addCleanup(redis.stop)
        kafka = fh.kafka_dev(BUILD_DIR, control_port=0)
        self.addCleanup(fh.stop_kafka, kafka)
        host, port = kafka.control_address
        worker = fh.Worker(BUILD_DIR, tmp.name, kafka.bootstrap, start=False,
                           properties={"dev.broker.control": f"{host}:{port}"})
        self.addCleanup(worker.close)
        fh.dump_on_failure(self, worker, redis, kafka)
        worker.start()
        for s in ("tc-orders", "audit-1"):
            redis.cli("XADD", s, "*", "f", "v")
        r = worker.post("/connectors", {"name": "tc", "config": {
            "connector.class": fh.SOURCE_CLASS_FERRY, "redis.uri": redis.uri,
            "redis.stream.name": "tc-orders,audit-1", "key.converter": fh.STRING_CONVERTER,
            "topic.creation.default.partitions": "3",
            "topic.creation.default.replication.factor": "1",
            "topic.creation.groups": "audit",
            "topic.creation.audit.include": "audit-.*",
            "topic.creation.audit.partitions": "6"}})
        self.assertEqual(r.status, 201, r)
        for topic, partitions in (("tc-orders", 3), ("audit-1", 6)):
            # Not a metadata request before the worker created it: the dev broker would
            # auto-create the topic with 4 partitions on a client's first look.
            fh.wait_until(lambda t=topic: f"created topic '{t}'" in worker.log_text(), 30,
                          f"the worker's creation of {topic}")
            fh.wait_until(lambda t=topic: fh.kafka_message_count(kafka.bootstrap, t) == 1, 30,
                          f"the record in {topic}")
            self.assertEqual(fh.kafka_partitions(kafka.bootstrap, topic),
                             list(range(partitions)), topic)
        log = worker.log_text()
        self.assertIn("Topic creation (group 'default'): created topic 'tc-orders' with 3 "
                      "partition(s) through the development broker's control channel", log)
        self.assertIn("Topic creation (group 'audit'): created topic 'audit-1' with 6 "
                      "partition(s)", log)


if __name__ == "__main__":
    BUILD_DIR, argv = fh.parse_args()
    unittest.main(argv=argv)
