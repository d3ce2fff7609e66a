"""Pub/Sub source (ferry.redis.RedisPubSubSourceConnector): messages PUBLISHed to channels and
to channels matching a pattern arrive in Kafka (read with kcat), one topic per channel; a killed
subscriber connection is subscribed again (messages published meanwhile are lost: Pub/Sub is
at-most-once by nature).

    /usr/bin/python3 tests/integration/test_pubsub_source.py --build-dir BUILD [-v] [-k name]
"""

import json
import os
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
import ferry_harness as fh  # noqa: E402
from ferry_harness import wait_until  # noqa: E402

CONNECTOR = "pubsub"


def messages(kafka, topic):
    """[(key, value dict)] of `topic`, [] while it does not exist."""
    try:
        out = fh.kcat_consume_json(kafka.bootstrap, topic, timeout=60)
    except AssertionError:
        return []
    return [(m.get("key"), json.loads(m["payload"])) for m in out]


class PubSubSourceTest(fh.StackTest):

    def start_connector(self, tasks="1", **extra):
        cfg = {"connector.class": "ferry.redis.RedisPubSubSourceConnector", "tasks.max": tasks,
               "redis.uri": self.redis.uri}
        cfg.update(extra)
        self.worker.create_connector(CONNECTOR, cfg)
        self.worker.wait_running(CONNECTOR, tasks=int(tasks))

    def wait_subscribers(self, channels=0, patterns=0):
        def ready():
            numsub = self.redis.cli_lines("PUBSUB", "NUMSUB", *channels) if channels else []
            subs = all(int(n) >= 1 for n in numsub[1::2])
            return subs and int(self.redis.cli("PUBSUB", "NUMPAT")) >= patterns
        wait_until(ready, 30, "the task's subscriptions")

    def test_channels_and_patterns_arrive_in_kafka(self):
        self.start_connector(tasks="2", **{"redis.pubsub.channels": "orders,alerts",
                                           "redis.pubsub.patterns": "sport*"})
        self.wait_subscribers(channels=("orders", "alerts"), patterns=1)
        for i in range(100):
            self.assertEqual(self.redis.cli("PUBLISH", "orders", f"order {i}"), "1")
        self.redis.cli("PUBLISH", "alerts", "fire")
        self.redis.cli("PUBLISH", "sport.tennis", "6-4")
        self.redis.cli("PUBLISH", "sport:golf", "hole in one")  # ':' is not allowed in topics
        self.redis.cli("PUBLISH", "weather", "rain")  # nobody subscribed: goes nowhere

        wait_until(lambda: len(messages(self.kafka, "orders")) == 100, 30, "100 orders in Kafka")
        orders = messages(self.kafka, "orders")
        # One channel goes to one task and keeps its order within a Kafka partition.
        self.assertEqual([v["message"] for _, v in orders], [f"order {i}" for i in range(100)])
        self.assertEqual(orders[0], ("orders", {"channel": "orders", "pattern": None,
                                                "message": "order 0"}))
        wait_until(lambda: messages(self.kafka, "alerts"), 30, "the alert in Kafka")
        self.assertEqual(messages(self.kafka, "alerts")[0][1]["message"], "fire")
        wait_until(lambda: messages(self.kafka, "sport.tennis"), 30, "the pattern's message")
        self.assertEqual(messages(self.kafka, "sport.tennis"),
                         [("sport.tennis", {"channel": "sport.tennis", "pattern": "sport*",
                                            "message": "6-4"})])
        wait_until(lambda: messages(self.kafka, "sport_golf"), 30, "sport:golf as topic sport_golf")
        self.assertEqual(messages(self.kafka, "sport_golf")[0][1]["channel"], "sport:golf")

    def test_killed_connection_subscribes_again(self):
        self.start_connector(**{"redis.pubsub.channels": "news", "topic": "all-news"})
        self.wait_subscribers(channels=("news",))
        self.redis.cli("PUBLISH", "news", "before")
        wait_until(lambda: messages(self.kafka, "all-news"), 30, "the first message")
        self.redis.cli("CLIENT", "KILL", "TYPE", "pubsub")
        # PUBLISH answers how many subscribers received the message: retry until one did.
        wait_until(lambda: self.redis.cli("PUBLISH", "news", "after") == "1", 30,
                   "a subscriber again", interval=0.1)
        wait_until(lambda: "after" in [v["message"] for _, v in messages(self.kafka, "all-news")],
                   30, "the message published after the reconnect")
        self.assertIn("Reading from the source failed", self.worker.log_text())

    def test_no_channel_is_a_config_error(self):
        status, body, _ = self.worker.put(
            "/connector-plugins/ferry.redis.RedisPubSubSourceConnector/config/validate",
            {"connector.class": "ferry.redis.RedisPubSubSourceConnector",
             "redis.uri": self.redis.uri, "batch.size": "0"})
        self.assertEqual(status, 200)
        errors = {c["value"]["name"]: c["value"]["errors"] for c in body["configs"]}
        self.assertTrue(errors["batch.size"])
        status, body, _ = self.worker.post("/connectors", {
            "name": CONNECTOR, "config": {"connector.class": "ferry.redis.RedisPubSubSourceConnector",
                                          "redis.uri": self.redis.uri}})

        def failed():
            s = self.worker.status(CONNECTOR)
            return s and s["connector"]["state"] == "FAILED" and s["connector"].get("trace")
        trace = wait_until(failed, 30, "the connector to fail")
        self.assertIn("redis.pubsub.channels", trace)


if __name__ == "__main__":
    BUILD_DIR, argv = fh.parse_args()
    unittest.main(argv=argv)
