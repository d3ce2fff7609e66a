"""What a sink task may ask of the runtime (Kafka's SinkTaskContext), through ferry-worker-test's
ferry.test.FileSinkConnector: offset() called from open() makes the task consume its new
partitions from the offsets it keeps itself (how an exactly-once sink resumes), and those
offsets are committed to the connector's consumer group.

    /usr/bin/python3 tests/integration/test_sink_context.py --build-dir BUILD [-v] [-k name]
"""

import os
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
import ferry_harness as fh  # noqa: E402
from ferry_harness import wait_until  # noqa: E402

BUILD_DIR = None


class SinkContextTest(fh.StackTest):
    WORKER_KW = {"program": "ferry-worker-test"}

    def lines(self, path):
        try:
            with open(path) as f:
                return f.read().splitlines()
        except FileNotFoundError:
            return []

    def test_offset_from_open_positions_new_partitions(self):
        fh.kcat_produce(self.kafka.bootstrap, "t", [(f"k{i}", f"v{i}") for i in range(20)],
                        partition=0)
        out = os.path.join(self.dir, "out.txt")
        self.worker.create_connector("resumer", {
            "connector.class": "ferry.test.FileSinkConnector", "topics": "t", "file": out,
            "resume.from": "15",
            "value.converter": "org.apache.kafka.connect.storage.StringConverter"})
        wait_until(lambda: len(self.lines(out)) >= 5, 60, "5 records written")
        self.assertEqual(self.lines(out), [f"t-0@{i} v{i}" for i in range(15, 20)])
        self.assertIn("Resuming t-0 at offset 15 as the sink task asked", self.worker.log_text())

        def committed():
            status, body, _ = self.worker.get("/connectors/resumer/offsets")
            offsets = body.get("offsets", []) if status == 200 else []
            return [o["offset"]["kafka_offset"] for o in offsets
                    if o["partition"] == {"kafka_topic": "t", "kafka_partition": 0}]
        wait_until(lambda: committed() == [20], 30, "offset 20 committed")

    def test_without_offset_the_group_offset_is_used(self):
        fh.kcat_produce(self.kafka.bootstrap, "u", [(f"k{i}", f"v{i}") for i in range(3)],
                        partition=0)
        out = os.path.join(self.dir, "plain.txt")
        self.worker.create_connector("plain", {
            "connector.class": "ferry.test.FileSinkConnector", "topics": "u", "file": out,
            "value.converter": "org.apache.kafka.connect.storage.StringConverter"})
        wait_until(lambda: len(self.lines(out)) >= 3, 60, "3 records written")
        self.assertEqual(self.lines(out), ["u-0@0 v0", "u-0@1 v1", "u-0@2 v2"])


if __name__ == "__main__":
    BUILD_DIR, argv = fh.parse_args()
    unittest.main(argv=argv)
