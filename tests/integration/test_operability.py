"""Operability: JSON log lines (log.format=json) and secrets — passwords in connector configs
(redis.password, a password in redis.uri, redis.key.password), the worker's own ssl.*password and
producer.*password settings and the basic-auth password — never appear in the worker's log or in
a REST answer other than the config reads (which return a config as written, as Kafka Connect's
do). Real redis-server (an ACL user with a password), ferry-kafka-dev, ferry-worker.

    /usr/bin/python3 tests/integration/test_operability.py --build-dir BUILD [-v] [-k name]
"""

import base64
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
import ferry_harness as fh  # noqa: E402
from ferry_harness import wait_until  # noqa: E402

BUILD_DIR = None

AUTH_PW = "BasicAuthPw-71f3"
WORKER_SSL_PW = "WorkerKeystorePw-2c9d"
PRODUCER_PW = "ProducerKeyPw-88aa"
REDIS_PW = "RedisAclPw-5e21"
WRONG_PW = "WrongRedisPw-0b7d"
KEY_PW = "TlsKeyPw-c4e0"
URI_PW = "BadUriPw-93ab"
NO_CLASS_PW = "NoClassPw-6d1e"
SECRETS = [AUTH_PW, WORKER_SSL_PW, PRODUCER_PW, REDIS_PW, WRONG_PW, KEY_PW, URI_PW, NO_CLASS_PW]


def basic(user, password):
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


def without_configs(doc):
    """`doc` without its "config" members: a ConnectorInfo returns the config as written."""
    if isinstance(doc, dict):
        return {k: without_configs(v) for k, v in doc.items() if k != "config"}
    if isinstance(doc, list):
        return [without_configs(v) for v in doc]
    return doc


def without_values(validation):
    """A validate answer without each key's "value" (an echo of the config as written)."""
    out = json.loads(json.dumps(validation))
    for c in out.get("configs", []):
        c.get("value", {}).pop("value", None)
    return out


class OperabilityTest(fh.StackTest):  # its tearDown: a clean stop of the worker

    def setUp(self):
        tmp = tempfile.TemporaryDirectory(prefix="ferry-OperabilityTest-")
        self.addCleanup(tmp.cleanup)
        self.dir = tmp.name
        credentials = os.path.join(self.dir, "credentials")
        fh.write_credentials(BUILD_DIR, credentials, "admin", AUTH_PW)
        self.auth = basic("admin", AUTH_PW)
        self.redis, self.kafka, self.worker = fh.start_stack(
            self, BUILD_DIR, self.dir,
            properties={"log.format": "json",
                        "rest.basic.auth.credentials.file": credentials,
                        "ssl.keystore.password": WORKER_SSL_PW,
                        "producer.ssl.key.password": PRODUCER_PW})

    def call(self, method, path, body=None):
        return self.worker.request(method, path, body, headers=self.auth)

    def log_lines(self):
        with open(self.worker.log_path, "r", errors="replace") as f:
            return [line for line in f.read().splitlines()
                    if line and not line.startswith("=====")]

    def test_json_logs_and_no_secret_in_logs_or_rest_answers(self):
        w, r = self.worker, self.redis
        r.cli("ACL", "SETUSER", "ferry", "on", ">" + REDIS_PW, "~*", "&*", "+@all")
        # Every line logged, DEBUG included, while the secrets are in use.
        self.assertEqual(self.call("PUT", "/admin/loggers/root", {"level": "DEBUG"})[0], 200)

        r.pipe([["XADD", "secret-src", "*", "n", str(i)] for i in range(10)])
        good_source = fh.source_config(r, "secret-src", topic="secret-src-out")
        good_source["redis.uri"] = f"redis://ferry:{REDIS_PW}@127.0.0.1:{r.port}"
        good_sink = fh.sink_config(r, "secret-out", "HASH", redis_keyspace="sec",
                                   redis_password=REDIS_PW, redis_username="ferry",
                                   redis_key_password=KEY_PW)
        good_sink["redis.uri"] = f"redis://127.0.0.1:{r.port}"
        wrong = fh.source_config(r, "secret-src", topic="wrong-out")
        wrong["redis.uri"] = f"redis://ferry:{WRONG_PW}@127.0.0.1:{r.port}"
        bad_uri = fh.source_config(r, "secret-src", topic="bad-out")
        bad_uri["redis.uri"] = f"redis://ferry:{URI_PW}@127.0.0.1:notaport"

        answers = []  # every REST answer that must be free of secrets

        def keep(result):
            body = result[1]
            answers.append(body if isinstance(body, str) else json.dumps(without_configs(body)))
            return result

        for name, cfg in (("good-src", good_source), ("good-snk", good_sink)):
            self.assertEqual(keep(self.call("POST", "/connectors",
                                            {"name": name, "config": cfg}))[0], 201)
        self.assertEqual(keep(self.call("POST", "/connectors",
                                        {"name": "wrong-pw", "config": wrong}))[0], 201)
        status = keep(self.call("POST", "/connectors", {"name": "bad-uri", "config": bad_uri}))
        self.assertEqual(status[0], 400, status)
        self.assertIn("[hidden]", status[1]["message"])
        # A refused config quoted whole in the error: its literal redis.password is hidden.
        status = keep(self.call("POST", "/connectors", {"name": "no-class", "config": {
            "tasks.max": "1", "redis.password": NO_CLASS_PW}}))
        self.assertEqual(status[0], 400, status)
        self.assertIn("contains no connector type", status[1]["message"])
        self.assertIn('"redis.password":"[hidden]"', status[1]["message"])

        fh.kcat_produce(self.kafka.bootstrap, "secret-out",
                        [(f"k{i}", {"n": i}) for i in range(100)])
        wait_until(lambda: int(r.cli("EVAL", "return #redis.call('KEYS','sec:*')", "0")) == 100,
                   60, "the 100 records into Redis hashes")

        def wrong_failed():
            s = keep(self.call("GET", "/connectors/wrong-pw/status"))[1]
            return s["tasks"] and s["tasks"][0]["state"] == "FAILED" and s
        failed = wait_until(wrong_failed, 30, "the task with a wrong password FAILED")
        self.assertIn("WRONGPASS", failed["tasks"][0]["trace"])

        plugin = "/connector-plugins/ferry.redis.RedisStreamSourceConnector/config/validate"
        for cfg in (good_source, wrong, bad_uri):
            status, validation, _ = self.call("PUT", plugin, cfg)
            self.assertEqual(status, 200, validation)
            answers.append(json.dumps(without_values(validation)))
        for path in ("/", "/health", "/connectors", "/connectors?expand=status", "/metrics",
                     "/admin/loggers", "/connector-plugins", "/connectors/good-src/status",
                     "/connectors/good-snk/tasks/0/status", "/connectors/good-src/offsets",
                     "/connectors/good-snk/offsets", "/connectors/good-src/topics",
                     "/openapi.json"):
            status, _, _ = keep(self.call("GET", path))
            self.assertEqual(status, 200, path)
        self.assertEqual(keep(self.call("POST", "/connectors/wrong-pw/restart?includeTasks=true"))
                         [0], 202)
        for name in ("good-src", "good-snk", "wrong-pw"):
            self.assertEqual(keep(self.call("DELETE", f"/connectors/{name}"))[0], 204)

        code, _ = w.terminate(timeout=30)
        self.assertEqual(code, 0, w.log_text(tail=4000))
        log_text = w.log_text()

        for secret in SECRETS:
            for encoded in {secret, base64.b64encode(secret.encode()).decode()}:
                self.assertNotIn(encoded, log_text, f"secret {secret} in the worker log")
                for a in answers:
                    self.assertNotIn(encoded, a, f"secret {secret} in a REST answer: {a[:2000]}")
        self.assertIn("WRONGPASS", log_text)  # the wrong login was logged
        # The DEBUG line with the config a connector starts with quotes the sink's literal
        # redis.password and redis.key.password: both hidden (secret by name and by type).
        started = [m for m in (json.loads(x)["message"] for x in self.log_lines())
                   if m.startswith("Starting connector with config") and "name=good-snk" in m]
        self.assertTrue(started, "no DEBUG line with the sink's config")
        self.assertIn("redis.password=[hidden]", started[0])
        self.assertIn("redis.key.password=[hidden]", started[0])

        # One JSON object per line, with the fields the format promises.
        lines = self.log_lines()
        self.assertGreater(len(lines), 20)
        task_lines = 0
        for line in lines:
            doc = json.loads(line)  # raises on any line that is not JSON
            for key in ("time", "level", "logger", "message"):
                self.assertIn(key, doc, line)
            self.assertRegex(doc["time"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
            self.assertIn(doc["level"], ("TRACE", "DEBUG", "INFO", "WARN", "ERROR"))
            if doc.get("connector") == "good-snk" and doc.get("task") == "0":
                task_lines += 1
        self.assertGreater(task_lines, 0, "no line from the sink task with connector and task")
        self.assertTrue(any(json.loads(x)["level"] == "DEBUG" for x in lines))


SAMPLE = re.compile(r'^([a-z_]+)(?:\{([^}]*)\})? (\S+)$')


def prometheus(text):
    """[(name, {label: value}, float)] from Prometheus text."""
    out = []
    for line in text.splitlines():
        if line.startswith("#") or not line:
            continue
        m = SAMPLE.match(line)
        assert m, f"not a Prometheus sample: {line!r}"
        labels = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', m.group(2) or ""))
        out.append((m.group(1), labels, float(m.group(3))))
    return out


class ClientMetricsTest(fh.StackTest):
    """Redis client counters and librdkafka statistics in GET /metrics, checked against Redis's
    own INFO commandstats and client list."""

    WORKER_KW = {"properties": {"consumer.statistics.interval.ms": "500",
                                "producer.statistics.interval.ms": "500"}}

    def scrape(self):
        status, body, _ = self.worker.get("/metrics")
        self.assertEqual(status, 200)
        return prometheus(body)

    @staticmethod
    def value(samples, name, **labels):
        found = [v for n, got, v in samples
                 if n == name and all(got.get(k) == want for k, want in labels.items())]
        return sum(found) if found else None

    def test_redis_and_kafka_client_metrics(self):
        r, n = self.redis, 3000
        fh.kcat_produce(self.kafka.bootstrap, "cm", [(f"k{i}", {"n": i}) for i in range(n)])
        self.worker.create_connector("snk", fh.sink_config(r, "cm", "STRING",
                                                           redis_keyspace="cm"))
        r.pipe([["XADD", "cm-src", "*", "n", str(i)] for i in range(200)])
        self.worker.create_connector("src", fh.source_config(r, "cm-src", topic="cm-out"))
        wait_until(lambda: r.command_calls("set") == n, 60, f"{n} SETs in Redis")
        snk = dict(connector="snk", task="0")

        def counted(want):
            def check():
                s = self.scrape()
                return self.value(s, "ferry_redis_commands_total", **snk) == want and s
            return check
        # Every command the sink sent is a SET Redis ran (INFO commandstats, Redis's own count).
        s = wait_until(counted(r.command_calls("set")), 30, "ferry_redis_commands_total == SETs")
        roundtrips = self.value(s, "ferry_redis_roundtrips_total", **snk)
        self.assertGreater(roundtrips, 0)
        self.assertLess(roundtrips, n)  # pipelined, not one round trip per record
        self.assertEqual(self.value(s, "ferry_redis_roundtrip_seconds_count", **snk), roundtrips)
        self.assertEqual(self.value(s, "ferry_redis_roundtrip_seconds_bucket", le="+Inf", **snk),
                         roundtrips)
        self.assertGreater(self.value(s, "ferry_redis_roundtrip_seconds_sum", **snk), 0)
        self.assertEqual(self.value(s, "ferry_redis_pipeline_commands_sum", **snk), n)
        self.assertEqual(self.value(s, "ferry_redis_pipeline_commands_count", **snk), roundtrips)
        self.assertEqual(self.value(s, "ferry_redis_connects_total", **snk), 1)
        self.assertEqual(self.value(s, "ferry_redis_reconnects_total", **snk), 0)
        self.assertEqual(self.value(s, "ferry_redis_error_replies_total", **snk), 0)
        self.assertGreater(self.value(s, "ferry_redis_commands_total", connector="src", task="0"),
                           0)

        # Redis drops the sink's connection: the next batch reconnects, and the metrics say so.
        r.cli("CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes")
        fh.kcat_produce(self.kafka.bootstrap, "cm", [(f"x{i}", {"n": i}) for i in range(100)])
        wait_until(lambda: r.command_calls("set") == n + 100, 60, "the next 100 SETs")
        # Commands count when sent: the batch that met the dead connection was sent again.
        s = wait_until(lambda: (lambda s: self.value(s, "ferry_redis_commands_total", **snk)
                                >= n + 100 and s)(self.scrape()),
                       30, "ferry_redis_commands_total after the reconnect")
        self.assertGreaterEqual(self.value(s, "ferry_redis_reconnects_total", **snk), 1)
        self.assertGreaterEqual(self.value(s, "ferry_redis_io_errors_total", **snk), 1)

        # librdkafka statistics of the sink's consumer and the source's producer.
        def kafka_stats():
            s = self.scrape()
            consumer = [l for name, l, v in s if name == "ferry_kafka_client_queue_messages"
                        and l.get("connector") == "snk" and l.get("type") == "consumer"]
            producer = [l for name, l, v in s if name == "ferry_kafka_client_queue_messages"
                        and l.get("connector") == "src" and l.get("type") == "producer"]
            rtt = [v for name, l, v in s if name == "ferry_kafka_broker_rtt_avg_seconds"
                   and l.get("connector") == "snk"]
            lag = self.value(s, "ferry_kafka_consumer_lag_records", **snk)
            return consumer and producer and rtt and lag == 0 and (rtt, s)
        rtt, s = wait_until(kafka_stats, 30, "librdkafka statistics of both tasks' clients")
        self.assertTrue(all(0 < v < 5 for v in rtt), rtt)
        self.assertGreater(self.value(s, "ferry_kafka_client_rx_bytes_total", **snk), 0)


class HealthTest(fh.StackTest):
    """GET /health (KIP-1017's answers, plus a Kafka check): 200 with the checks while all is
    well, 503 naming the brokers once Kafka is gone."""

    def test_health_follows_kafka(self):
        status, body, _ = self.worker.get("/health")
        self.assertEqual(status, 200, body)
        self.assertEqual(body["status"], "healthy")
        self.assertEqual(body["checks"], {"herder": "ok", "kafka": "ok"})

        fh.stop_kafka(self.kafka)

        def unhealthy():
            answer = self.worker.get("/health", timeout=20)
            return answer.status == 503 and answer
        status, body, _ = wait_until(unhealthy, 30, "/health 503 once Kafka is gone")
        self.assertEqual(body["status"], "unhealthy")
        self.assertIn("Cannot reach Kafka at " + self.kafka.bootstrap, body["message"])
        self.assertEqual(body["checks"]["herder"], "ok")
        # The rest of the API still answers.
        self.assertEqual(self.worker.get("/connectors")[0], 200)


class CommandLineTest(unittest.TestCase):
    """ferry-worker --help is a manual page whose exit statuses hold."""

    def run_worker(self, *args, timeout=30):
        return subprocess.run([fh.binary(BUILD_DIR, "ferry-worker"), *args], capture_output=True,
                              text=True, timeout=timeout, stdin=subprocess.DEVNULL)

    def test_help_and_exit_statuses(self):
        result = self.run_worker("--help")
        self.assertEqual(result.returncode, 0)
        text = result.stdout
        sections = re.findall(r"^([A-Z][A-Z ]*[A-Z])(?: \(.*\))?$", text, re.M)
        self.assertEqual(sections, ["NAME", "SYNOPSIS", "DESCRIPTION", "MODES", "OPTIONS",
                                    "WORKER SETTINGS", "REST API", "FILES", "LOGS", "SIGNALS",
                                    "EXIT STATUS", "ENVIRONMENT", "EXAMPLES", "SEE ALSO"])
        for word in ("standalone", "distributed", "dev", "hash-password", "SIGTERM",
                     "log.format", "statistics.interval.ms", "/health", "/metrics"):
            self.assertIn(word, text)
        self.assertTrue(all(len(line) <= 100 for line in text.splitlines()))
        self.assertEqual(self.run_worker("-h").stdout, text)

        with tempfile.TemporaryDirectory(prefix="ferry-cli-") as tmp:
            # 2: bad command line, bad configuration.
            bad = self.run_worker("nonsense")
            self.assertEqual(bad.returncode, 2)
            self.assertIn("unknown mode 'nonsense'", bad.stderr)
            self.assertIn("SYNOPSIS", bad.stderr)
            props = os.path.join(tmp, "w.properties")
            with open(props, "w") as f:
                f.write(f"log.format=xml\noffset.storage.file.filename={tmp}/o\n")
            bad = self.run_worker("standalone", props)
            self.assertEqual(bad.returncode, 2)
            self.assertIn("log.format", bad.stderr)
            # 1: a failure at run time (the REST port is taken).
            with socket.socket() as taken:
                taken.bind(("127.0.0.1", 0))
                taken.listen()
                with open(props, "w") as f:
                    f.write(f"listeners=http://127.0.0.1:{taken.getsockname()[1]}\n"
                            f"offset.storage.file.filename={tmp}/o\n"
                            "bootstrap.servers=127.0.0.1:1\n")
                failed = self.run_worker("standalone", props)
            self.assertEqual(failed.returncode, 1, failed.stderr)
            self.assertIn("Address already in use", failed.stderr)


if __name__ == "__main__":
    BUILD_DIR, argv = fh.parse_args()
    unittest.main(argv=argv)
