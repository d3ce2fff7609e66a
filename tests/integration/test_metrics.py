"""GET /metrics: the Prometheus text format with Kafka Connect's metric names, during a source
and a sink run — totals match what moved (counted with kcat and redis-cli) and the sink's
consumer lag drops to 0 once it caught up. Real redis-server, ferry-kafka-dev, ferry-worker.

    /usr/bin/python3 tests/integration/test_metrics.py --build-dir BUILD [-v] [-k name]
"""

import os
import re
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
import ferry_harness as fh  # noqa: E402
from ferry_harness import wait_until  # noqa: E402

BUILD_DIR = None
SAMPLE = re.compile(r'^([a-z_]+)(?:\{([^}]*)\})? (\S+)$')


def parse(text):
    """[(name, {label: value}, float)] from Prometheus text; checks the format on the way."""
    out, typed = [], set()
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            name = line.split()[2]
            assert name not in typed, f"family {name} declared twice"
            typed.add(name)
            continue
        if line.startswith("#") or not line:
            continue
        m = SAMPLE.match(line)
        assert m, f"not a Prometheus sample: {line!r}"
        labels = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', m.group(2) or ""))
        family = m.group(1)
        for suffix in ("_bucket", "_sum", "_count"):  # a histogram's samples
            if family not in typed and family.endswith(suffix):
                family = family[:-len(suffix)]
        assert family in typed, f"sample before its TYPE line: {line!r}"
        out.append((m.group(1), labels, float(m.group(3))))
    return out


class MetricsTest(fh.StackTest):

    def scrape(self):
        status, body, headers = self.worker.get("/metrics")
        self.assertEqual(status, 200)
        self.assertTrue(headers["content-type"].startswith("text/plain; version=0.0.4"), headers)
        self.assertIsInstance(body, str)
        return parse(body)

    def value(self, samples, name, **labels):
        found = [v for n, got, v in samples
                 if n == name and all(got.get(k) == want for k, want in labels.items())]
        return sum(found) if found else None

    def test_totals_match_what_moved_and_lag_drops_to_zero(self):
        n_src, n_snk = 3000, 2000
        self.redis.pipe([["XADD", "metered", "*", "n", str(i)] for i in range(n_src)])
        fh.kcat_produce(self.kafka.bootstrap, "in", [(f"k{i}", {"n": i}) for i in range(n_snk)])
        self.worker.create_connector("src", fh.source_config(self.redis, "metered", topic="out"))
        self.worker.create_connector("snk", fh.sink_config(
            self.redis, "in", "STRING", redis_keyspace="m",
            key_converter="org.apache.kafka.connect.storage.StringConverter",
            value_converter="org.apache.kafka.connect.json.JsonConverter",
            value_converter_schemas_enable="false"))
        wait_until(lambda: fh.kafka_message_count(self.kafka.bootstrap, "out") == n_src, 60,
                   "the source's records in Kafka")
        wait_until(lambda: int(self.redis.cli("EVAL", "return #redis.call('KEYS','m:*')", "0"))
                   == n_snk, 60, "the sink's records in Redis")

        partitions = len(fh.kafka_partitions(self.kafka.bootstrap, "in"))

        def settled():
            s = self.scrape()
            src = dict(connector="src", task="0")
            snk = dict(connector="snk", task="0")
            lags = [v for n, l, v in s if n == "kafka_connect_sink_task_consumer_lag_records"
                    and l.get("connector") == "snk"]
            if len(lags) != partitions:  # a partition's watermark is known after its first fetch
                return None
            return (self.value(s, "kafka_connect_source_task_source_record_write_total", **src)
                    == n_src
                    and self.value(s, "kafka_connect_sink_task_sink_record_send_total", **snk)
                    == n_snk
                    and lags and all(v == 0 for v in lags)) and s
        s = wait_until(settled, 60, "totals equal to what moved and lag 0")
        src = dict(connector="src", task="0")
        snk = dict(connector="snk", task="0")
        self.assertEqual(self.value(s, "kafka_connect_source_task_source_record_poll_total", **src),
                         n_src)
        self.assertEqual(self.value(s, "kafka_connect_sink_task_sink_record_read_total", **snk),
                         n_snk)
        self.assertGreater(self.value(s, "kafka_connect_sink_task_put_batch_total", **snk), 0)
        self.assertGreater(
            self.value(s, "kafka_connect_source_task_offset_commit_completion_total", **src), 0)
        self.assertEqual(self.value(s, "kafka_connect_task_error_total_record_errors", **snk), 0)
        self.assertEqual(self.value(s, "kafka_connect_worker_task_count"), 2)
        self.assertEqual(self.value(s, "kafka_connect_worker_tasks", state="RUNNING"), 2)
        # Partitions of the sink's topic are each reported.
        parts = {l["partition"] for n, l, v in s
                 if n == "kafka_connect_sink_task_consumer_lag_records"}
        self.assertEqual(len(parts), partitions,
                         [x for x in s if "lag" in x[0]])

        # More data: the lag shows it until the sink catches up again (pause it to hold the lag).
        self.assertEqual(self.worker.put("/connectors/snk/pause")[0], 202)
        self.worker.wait_running("snk", state="PAUSED")
        fh.kcat_produce(self.kafka.bootstrap, "in", [(f"x{i}", {"n": i}) for i in range(500)])

        def lag_total():
            return sum(v for n, l, v in self.scrape()
                       if n == "kafka_connect_sink_task_consumer_lag_records")
        wait_until(lambda: lag_total() == 500, 30, "lag 500 while paused")
        self.assertEqual(self.worker.put("/connectors/snk/resume")[0], 202)
        wait_until(lambda: lag_total() == 0, 60, "lag back to 0")


class MaxPollRecordsTest(fh.StackTest):
    """consumer.max.poll.records (a Java consumer setting) bounds the records of each put(), as
    in Kafka Connect, instead of going to librdkafka as an unknown key."""

    WORKER_KW = {"properties": {"consumer.max.poll.records": "7"}}

    def test_each_put_gets_at_most_max_poll_records(self):
        n = 100
        fh.kcat_produce(self.kafka.bootstrap, "mp", [(f"k{i}", {"n": i}) for i in range(n)])
        self.worker.create_connector("mp", fh.sink_config(
            self.redis, "mp", "STRING", redis_keyspace="mp",
            key_converter="org.apache.kafka.connect.storage.StringConverter",
            value_converter="org.apache.kafka.connect.json.JsonConverter",
            value_converter_schemas_enable="false"))
        wait_until(lambda: int(self.redis.cli("EVAL", "return #redis.call('KEYS','mp:*')", "0"))
                   == n, 60, "the sink's records in Redis")
        _, body, _ = self.worker.get("/metrics")
        batches = sum(v for name, labels, v in parse(body)
                      if name == "kafka_connect_sink_task_put_batch_total"
                      and labels.get("connector") == "mp")
        self.assertGreaterEqual(batches, -(-n // 7))  # 100 records, at most 7 per put()
        self.assertNotIn("max.poll.records is unknown", self.worker.log_text())


class BadMaxPollRecordsTest(fh.StackTest):
    WORKER_KW = {"properties": {"consumer.max.poll.records": "0"}}

    def test_a_bad_value_fails_the_task_and_says_why(self):
        self.worker.create_connector("mp", fh.sink_config(self.redis, "mp", "STRING"))
        def failed_task():
            tasks = (self.worker.status("mp") or {}).get("tasks") or []
            return tasks and tasks[0]["state"] == "FAILED" and tasks[0]
        task = wait_until(failed_task, 30, "the task FAILED")
        self.assertEqual(task["trace"], "Invalid value 0 for consumer setting max.poll.records: "
                         "expected an integer >= 1")


if __name__ == "__main__":
    BUILD_DIR, argv = fh.parse_args()
    unittest.main(argv=argv)
