"""Kafka's single message transforms and predicates in a live worker: a sink chaining
transforms under a predicate writes exactly the Redis data Kafka Connect would; a source's
records are transformed before they reach Kafka; a record a transform cannot handle follows
errors.tolerance. Real redis-server, ferry-kafka-dev and ferry-worker; checked with redis-cli
and kcat.

    /usr/bin/python3 tests/integration/test_transforms.py --build-dir BUILD [-v] [-k name]
"""

import json
import os
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
import ferry_harness as fh  # noqa: E402
from ferry_harness import wait_until  # noqa: E402

BUILD_DIR = None
T = "org.apache.kafka.connect.transforms."


class TransformsTest(fh.StackTest):

    def test_sink_chain_with_predicate(self):
        orders = [(f"o{i}", {"id": i, "card": f"4111-{i:04d}", "city": "Oslo"}) for i in range(50)]
        fh.kcat_produce(self.kafka.bootstrap, "orders-eu", orders, partition=0)
        # These carry a "test" header: the Filter under HasHeaderKey drops them.
        fh.kcat_produce(self.kafka.bootstrap, "orders-eu",
                        [(f"t{i}", {"id": 1000 + i, "card": "x", "city": "Nowhere"})
                         for i in range(5)], partition=0, extra=["-H", "test=1"])
        cfg = fh.sink_config(self.redis, "orders-eu", "STRING", redis_keyspace="${topic}",
                             key_converter="org.apache.kafka.connect.storage.StringConverter",
                             value_converter="org.apache.kafka.connect.json.JsonConverter",
                             value_converter_schemas_enable="false")
        cfg.update({
            "transforms": "dropTests,mask,stamp,route",
            "transforms.dropTests.type": T + "Filter",
            "transforms.dropTests.predicate": "isTest",
            "transforms.mask.type": T + "MaskField$Value",
            "transforms.mask.fields": "card",
            "transforms.stamp.type": T + "InsertField$Value",
            "transforms.stamp.static.field": "pipeline",
            "transforms.stamp.static.value": "ferry",
            "transforms.route.type": T + "RegexRouter",
            "transforms.route.regex": "orders-(.*)",
            "transforms.route.replacement": "o_$1",
            "predicates": "isTest",
            "predicates.isTest.type": T + "predicates.HasHeaderKey",
            "predicates.isTest.name": "test",
        })
        self.worker.create_connector("chained", cfg)
        wait_until(lambda: int(self.redis.cli("DBSIZE")) == 50, 60, "50 keys in Redis")
        for i in (0, 17, 49):
            self.assertEqual(json.loads(self.redis.cli("GET", f"o_eu:o{i}")),
                             {"id": i, "card": "", "city": "Oslo", "pipeline": "ferry"})
        self.assertEqual(self.redis.cli("EXISTS", "o_eu:t0"), "0")
        self.assertEqual(self.redis.cli("EXISTS", "orders-eu:o0"), "0")
        self.worker.wait_running("chained")
        # Offsets go to the consumed topic, not the routed one: all 55 committed, so a restart
        # writes nothing again (a GET-able counter would show rewrites; check the commit).
        wait_until(lambda: self.committed("chained", "orders-eu") == 55, 30,
                   "offset 55 committed for orders-eu")

    def committed(self, name, topic):
        status, body, _ = self.worker.get(f"/connectors/{name}/offsets")
        if status != 200:
            return None
        for o in body.get("offsets", []):
            if o["partition"].get("kafka_topic") == topic:
                return o["offset"].get("kafka_offset")
        return None

    def test_source_records_are_transformed(self):
        self.redis.pipe([["XADD", "s", "*", "n", str(i)] for i in range(20)])
        cfg = fh.source_config(self.redis, "s", topic="raw",
                               value_converter="org.apache.kafka.connect.json.JsonConverter",
                               value_converter_schemas_enable="false")
        cfg.update({
            "transforms": "body,hoist",
            "transforms.body.type": T + "ExtractField$Value",
            "transforms.body.field": "body",
            "transforms.hoist.type": T + "HoistField$Value",
            "transforms.hoist.field": "entry",
        })
        self.worker.create_connector("shaped", cfg)
        wait_until(lambda: fh.kafka_message_count(self.kafka.bootstrap, "raw") >= 20, 60,
                   "20 records in Kafka")
        values = [json.loads(v) for _, v in fh.kcat_consume(self.kafka.bootstrap, "raw")]
        self.assertEqual(sorted(values, key=lambda v: int(v["entry"]["n"])),
                         [{"entry": {"n": str(i)}} for i in range(20)])

    def test_a_record_a_transform_refuses_follows_errors_tolerance(self):
        # ExtractField on a value that is not an object fails for that record only.
        fh.kcat_produce(self.kafka.bootstrap, "mixed",
                        [("a", {"v": "1"}), ("b", json.dumps("just a string")), ("c", {"v": "3"})],
                        partition=0)
        cfg = fh.sink_config(self.redis, "mixed", "STRING", redis_keyspace="m",
                             key_converter="org.apache.kafka.connect.storage.StringConverter",
                             value_converter="org.apache.kafka.connect.json.JsonConverter",
                             value_converter_schemas_enable="false",
                             errors_tolerance="all", errors_log_enable="true")
        cfg.update({"transforms": "pick", "transforms.pick.type": T + "ExtractField$Value",
                    "transforms.pick.field": "v"})
        self.worker.create_connector("picky", cfg)
        wait_until(lambda: self.redis.cli("EXISTS", "m:c") == "1", 60, "record c written")
        self.assertEqual(self.redis.cli("GET", "m:a"), "1")
        self.assertEqual(self.redis.cli("EXISTS", "m:b"), "0")
        self.assertIn("Executing stage 'TRANSFORMATION' with class "
                      "'org.apache.kafka.connect.transforms.ExtractField$Value'",
                      self.worker.log_text())

    def test_plugins_list_and_describe_transforms_and_predicates(self):
        status, plugins, _ = self.worker.get("/connector-plugins?connectorsOnly=false")
        self.assertEqual(status, 200)
        kinds = {p["class"]: p["type"] for p in plugins}
        self.assertEqual(kinds[T + "RegexRouter"], "transformation")
        self.assertEqual(kinds[T + "Cast$Value"], "transformation")
        self.assertEqual(kinds[T + "predicates.HasHeaderKey"], "predicate")
        self.assertEqual(sum(1 for t in kinds.values() if t == "predicate"), 3)
        status, keys, _ = self.worker.get(f"/connector-plugins/{T}RegexRouter/config")
        self.assertEqual(status, 200)
        self.assertEqual({k["name"] for k in keys}, {"regex", "replacement"})
        status, plugins, _ = self.worker.get("/connector-plugins")
        self.assertNotIn("transformation", {p["type"] for p in plugins})

    def test_bad_transform_config_is_refused(self):
        cfg = fh.sink_config(self.redis, "x", "STRING")
        cfg.update({"transforms": "nope", "transforms.nope.type": T + "DoesNotExist"})
        status, body, _ = self.worker.put("/connectors/bad/config", cfg)
        self.assertEqual(status, 400, body)
        self.assertIn("transforms.nope.type", body["message"])


if __name__ == "__main__":
    BUILD_DIR, argv = fh.parse_args()
    unittest.main(argv=argv)
