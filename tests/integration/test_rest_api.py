"""The REST API, used the way a person with curl uses Kafka Connect's: shapes, status codes,
lifecycle, and bad input (each answered with a 4xx JSON error, after which the worker still
serves). Also: bad worker .properties files make ferry-worker exit 2 with a clear message.

    /usr/bin/python3 tests/integration/test_rest_api.py --build-dir BUILD [-v] [-k name]

Every request goes on a new connection, as curl does.
"""

import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
import ferry_harness as fh  # noqa: E402
from ferry_harness import wait_until  # noqa: E402

BUILD_DIR = None


def raw_request(port, head, body_chunks=(), timeout=30.0):
    """Sends raw bytes (head, then each body chunk) on a new connection and returns
    (status, headers, body text) of the answer. Sending stops quietly when the server closes
    early (as it may after an early error answer); the answer is read anyway."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        try:
            sock.sendall(head)
            for chunk in body_chunks:
                sock.sendall(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass
        data = b""
        try:
            while True:
                part = sock.recv(65536)
                if not part:
                    break
                data += part
                if b"\r\n\r\n" in data:
                    header, _, rest = data.partition(b"\r\n\r\n")
                    m = re.search(rb"(?im)^content-length:\s*(\d+)", header)
                    if m and len(rest) >= int(m.group(1)):
                        break
        except ConnectionResetError:
            pass
    finally:
        sock.close()
    header, _, body = data.partition(b"\r\n\r\n")
    lines = header.decode(errors="replace").split("\r\n")
    if not lines or not lines[0].startswith("HTTP/"):
        raise AssertionError(f"no HTTP answer; got {data[:200]!r}")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        headers[k.strip().lower()] = v.strip()
    return status, headers, body.decode(errors="replace")


class RestApiTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        tmp = tempfile.TemporaryDirectory(prefix="ferry-rest-")
        cls.addClassCleanup(tmp.cleanup)
        cls.tmp = tmp.name
        cls.redis = fh.RedisServer(cls.tmp)
        cls.addClassCleanup(cls.redis.stop)
        cls.kafka = fh.kafka_dev(BUILD_DIR)
        cls.addClassCleanup(fh.stop_kafka, cls.kafka)
        cls.worker = fh.Worker(BUILD_DIR, cls.tmp, cls.kafka.bootstrap, start=False)
        cls.addClassCleanup(cls.worker.close)
        cls.worker.start()

    @classmethod
    def tearDownClass(cls):
        if not cls.worker.running():
            return  # the test during which it died has failed already
        code, _ = cls.worker.terminate(timeout=30)
        if code != 0:
            sys.stderr.write(cls.worker.log_text(tail=8000))
        assert code == 0, f"ferry-worker exited with {code} on SIGTERM"

    def setUp(self):
        # One worker serves every test of the class; if an earlier test crashed it (and
        # failed for it), a new one is started so later tests still test something.
        if not self.worker.running():
            self.worker.start()
        self._log_start = len(self.worker.log_text())
        fh.dump_on_failure(self, self.worker)

    def tearDown(self):
        new_log = self.worker.log_text()[self._log_start:]
        self.assertTrue(self.worker.running(),
                        f"ferry-worker died during this test (exit "
                        f"{self.worker.process.returncode}); log:\n{new_log[-6000:]}")
        found = [m for m in fh.CRASH_MARKERS if m in new_log]
        self.assertEqual(found, [], new_log[-6000:])

    # ---- helpers

    def source(self, stream="rest-stream", **extra):
        return fh.source_config(self.redis, stream, **extra)

    def sink(self, topic="rest-topic", **extra):
        return fh.sink_config(self.redis, topic, "STRING", **extra)

    def delete_later(self, name):
        def delete():
            if self.worker.running():  # a crash is reported by tearDown, not here
                try:
                    self.worker.delete(f"/connectors/{name}")
                except OSError:
                    pass
        self.addCleanup(delete)

    def assert_error(self, result, status, message_pattern=None):
        """A Kafka Connect error answer: the status, and a JSON body {error_code, message}."""
        code, body, headers = result
        self.assertEqual(code, status, f"expected {status}, got {code}: {body!r}")
        self.assertIsInstance(body, dict, f"error body is not JSON: {body!r}")
        self.assertEqual(body.get("error_code"), status, body)
        self.assertIsInstance(body.get("message"), str, body)
        self.assertTrue(body["message"].strip(), body)
        self.assertIn("application/json", headers.get("content-type", ""), headers)
        if message_pattern:
            self.assertRegex(body["message"], message_pattern)
        return body

    def assert_still_serving(self):
        self.assertTrue(self.worker.running(), "ferry-worker died")
        r = self.worker.get("/")
        self.assertEqual(r.status, 200, r)
        self.assertIn("version", r.body)

    # ---- shapes and lifecycle

    def test_root(self):
        status, body, headers = self.worker.get("/")
        self.assertEqual(status, 200)
        self.assertIn("application/json", headers["content-type"])
        self.assertIsInstance(body["version"], str)
        self.assertTrue(body["version"])
        self.assertIn("commit", body)
        self.assertIn("kafka_cluster_id", body)

    def test_connector_plugins(self):
        status, body, _ = self.worker.get("/connector-plugins")
        self.assertEqual(status, 200)
        classes = {p["class"]: p for p in body}
        for name in (fh.SOURCE_CLASS, fh.SOURCE_CLASS_FERRY, fh.SINK_CLASS, fh.SINK_CLASS_ALIAS):
            self.assertIn(name, classes)
        self.assertEqual(classes[fh.SOURCE_CLASS]["type"], "source")
        self.assertEqual(classes[fh.SINK_CLASS]["type"], "sink")
        for p in body:
            self.assertEqual(set(p), {"class", "type", "version"}, p)

    def test_create_list_get_update_status_delete(self):
        w = self.worker
        self.delete_later("life-source")
        self.delete_later("life-sink")
        r = w.post("/connectors", {"name": "life-source", "config": self.source()})
        self.assertEqual(r.status, 201, r.body)
        self.assertTrue(r.headers.get("location", "").endswith("/connectors/life-source"),
                        r.headers)
        self.assertEqual(r.body["name"], "life-source")
        self.assertEqual(r.body["type"], "source")
        self.assertEqual(r.body["config"]["redis.stream.name"], "rest-stream")
        self.assertEqual(r.body["config"]["name"], "life-source")
        self.assertIsInstance(r.body["tasks"], list)

        r = w.post("/connectors", {"name": "life-sink", "config": self.sink()})
        self.assertEqual(r.status, 201, r.body)
        self.assertEqual(r.body["type"], "sink")

        # The same name again: 409, and the first config is untouched.
        dup = w.post("/connectors", {"name": "life-source",
                                     "config": self.source(stream="other")})
        self.assert_error(dup, 409)
        self.assertEqual(w.get("/connectors/life-source/config").body["redis.stream.name"],
                         "rest-stream")

        status, names, _ = w.get("/connectors")
        self.assertEqual(status, 200)
        self.assertIn("life-source", names)
        self.assertIn("life-sink", names)

        status, cfg, _ = w.get("/connectors/life-source/config")
        self.assertEqual(status, 200)
        self.assertEqual(cfg, {**self.source(), "name": "life-source"})

        for name in ("life-source", "life-sink"):
            s = w.wait_running(name, tasks=1)
            self.assertEqual(s["name"], name)
            self.assertEqual(s["connector"]["worker_id"], w.worker_id)
            self.assertEqual(s["connector"]["worker_id"], f"127.0.0.1:{w.port}")
            self.assertEqual([t["id"] for t in s["tasks"]], [0])
            self.assertEqual(s["tasks"][0]["worker_id"], w.worker_id)

        status, info, _ = w.get("/connectors/life-source")
        self.assertEqual(status, 200)
        self.assertEqual(set(info), {"name", "config", "tasks", "type"})
        self.assertEqual(info["tasks"], [{"connector": "life-source", "task": 0}])

        status, tasks, _ = w.get("/connectors/life-source/tasks")
        self.assertEqual(status, 200)
        self.assertEqual(len(tasks), 1)
        self.assertEqual(tasks[0]["id"], {"connector": "life-source", "task": 0})
        self.assertIsInstance(tasks[0]["config"], dict)

        # Update by PUT: 200 and the new config is what GET returns; the connector runs again.
        new_cfg = self.source(stream="rest-stream-2", batch_size=100)
        r = w.put("/connectors/life-source/config", new_cfg)
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual(r.body["config"]["redis.stream.name"], "rest-stream-2")
        self.assertEqual(w.get("/connectors/life-source/config").body["batch.size"], "100")
        w.wait_running("life-source")

        # expand=status / expand=info
        status, body, _ = w.get("/connectors?expand=status")
        self.assertEqual(status, 200)
        entry = body["life-source"]
        self.assertEqual(set(entry), {"status"})
        self.assertEqual(entry["status"]["name"], "life-source")
        self.assertEqual(entry["status"]["connector"]["state"], "RUNNING")
        self.assertEqual(entry["status"]["type"], "source")
        status, body, _ = w.get("/connectors?expand=info")
        self.assertEqual(status, 200)
        self.assertEqual(set(body["life-sink"]), {"info"})
        self.assertEqual(body["life-sink"]["info"]["name"], "life-sink")
        self.assertEqual(body["life-sink"]["info"]["type"], "sink")
        self.assertEqual(body["life-sink"]["info"]["config"]["topics"], "rest-topic")
        status, body, _ = w.get("/connectors?expand=status&expand=info")
        self.assertEqual(status, 200)
        self.assertEqual(set(body["life-sink"]), {"status", "info"})

        # Delete: 204, then 404 everywhere.
        r = w.delete("/connectors/life-sink")
        self.assertEqual(r.status, 204, r.body)
        self.assertIn(r.body, (None, ""))
        self.assert_error(w.get("/connectors/life-sink"), 404)
        self.assert_error(w.get("/connectors/life-sink/status"), 404)
        self.assert_error(w.get("/connectors/life-sink/config"), 404)
        self.assert_error(w.delete("/connectors/life-sink"), 404)
        self.assertNotIn("life-sink", w.get("/connectors").body)
        self.assert_still_serving()

    def test_task_status(self):
        w = self.worker
        self.delete_later("task-status")
        w.create_connector("task-status", self.source(stream="task-status-stream"))
        w.wait_running("task-status")
        status, ts, _ = w.get("/connectors/task-status/tasks/0/status")
        self.assertEqual(status, 200, ts)
        self.assertEqual(ts, {"id": 0, "state": "RUNNING", "worker_id": w.worker_id})
        self.assert_error(w.get("/connectors/task-status/tasks/7/status"), 404)
        self.assert_error(w.get("/connectors/task-status/tasks/x/status"), 404)
        self.assert_still_serving()

    def test_create_by_put(self):
        w = self.worker
        self.delete_later("put-created")
        r = w.put("/connectors/put-created/config", self.sink(topic="put-topic"))
        self.assertEqual(r.status, 201, r.body)
        self.assertTrue(r.headers.get("location", "").endswith("/connectors/put-created"),
                        r.headers)
        self.assertEqual(r.body["name"], "put-created")
        w.wait_running("put-created")
        r = w.put("/connectors/put-created/config", self.sink(topic="put-topic-2"))
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual(w.get("/connectors/put-created/config").body["topics"], "put-topic-2")
        # A name in the body that differs from the URL's is refused.
        self.assert_error(w.put("/connectors/put-created/config",
                                {**self.sink(), "name": "something-else"}), 400)

    def test_pause_resume_stop_restart(self):
        w = self.worker
        self.delete_later("pausable")
        w.create_connector("pausable", self.source(stream="pausable-stream"))
        w.wait_running("pausable")

        r = w.put("/connectors/pausable/pause")
        self.assertEqual(r.status, 202, r.body)
        w.wait_running("pausable", state="PAUSED")
        r = w.put("/connectors/pausable/resume")
        self.assertEqual(r.status, 202, r.body)
        w.wait_running("pausable")

        r = w.post("/connectors/pausable/restart")
        self.assertIn(r.status, (200, 204), r.body)
        w.wait_running("pausable")

        r = w.put("/connectors/pausable/stop")
        self.assertEqual(r.status, 204, r.body)

        def stopped():
            s = w.status("pausable")
            return s if s["connector"]["state"] == "STOPPED" and s["tasks"] == [] else None
        wait_until(stopped, 30, "the connector to be STOPPED with no tasks")
        r = w.put("/connectors/pausable/resume")
        self.assertEqual(r.status, 202, r.body)
        w.wait_running("pausable")
        self.assert_error(w.put("/connectors/no-such-connector/pause"), 404)
        self.assert_error(w.post("/connectors/no-such-connector/restart"), 404)

    def test_unknown_connector_is_404_json(self):
        for method, path in (("GET", "/connectors/nope"), ("GET", "/connectors/nope/status"),
                             ("GET", "/connectors/nope/config"), ("GET", "/connectors/nope/tasks"),
                             ("DELETE", "/connectors/nope"), ("PUT", "/connectors/nope/resume")):
            body = self.assert_error(self.worker.request(method, path), 404)
            self.assertIn("nope", body["message"])
        self.assert_still_serving()

    def test_validate(self):
        w = self.worker
        path = f"/connector-plugins/{fh.SOURCE_CLASS}/config/validate"
        bad = {"connector.class": fh.SOURCE_CLASS, "redis.uri": self.redis.uri,
               "batch.size": "abc"}  # no redis.stream.name, batch.size not a number
        status, body, _ = w.put(path, bad)
        self.assertEqual(status, 200, body)
        self.assertIn(body["name"], (fh.SOURCE_CLASS, fh.SOURCE_CLASS_FERRY))
        self.assertGreaterEqual(body["error_count"], 2, body)
        self.assertIsInstance(body["groups"], list)
        values = {c["value"]["name"]: c["value"] for c in body["configs"]}
        for c in body["configs"]:
            self.assertEqual(set(c), {"definition", "value"}, c)
            self.assertIsInstance(c["value"]["errors"], list)
        self.assertTrue(values["batch.size"]["errors"], values["batch.size"])
        self.assertTrue(values["redis.stream.name"]["errors"], values["redis.stream.name"])
        self.assertEqual(values["redis.uri"]["errors"], [])
        self.assertEqual(body["error_count"],
                         sum(1 for v in values.values() if v["errors"]), body)

        good = {"name": "checked", "connector.class": fh.SOURCE_CLASS,
                "redis.uri": self.redis.uri, "redis.stream.name": "s", "batch.size": "10"}
        status, body, _ = w.put(path, good)
        self.assertEqual(status, 200, body)
        self.assertEqual(body["error_count"], 0, body)

        self.assert_error(w.put("/connector-plugins/NoSuchConnector/config/validate", good), 404)
        self.assert_error(w.put(path, "{not json", {"Content-Type": "application/json"}), 400)
        self.assert_still_serving()

    # ---- bad input: a 4xx JSON error each, and the worker keeps serving

    def test_malformed_json(self):
        for text in ('{"name": "x", "config": {', '{"name": "x" "config": {}}', "nul", "{}}"):
            r = self.worker.post("/connectors", text, {"Content-Type": "application/json"})
            body = self.assert_error(r, 400)
            self.assertRegex(body["message"], r"(?i)(line \d+|column \d+|position \d+|byte \d+"
                                              r"|offset \d+)", f"does not say where: {body}")
            self.assert_still_serving()
        self.assertNotIn("x", self.worker.get("/connectors").body)

    def test_missing_and_unknown_connector_class(self):
        cfg = self.source()
        del cfg["connector.class"]
        body = self.assert_error(self.worker.post("/connectors", {"name": "noclass",
                                                                  "config": cfg}), 400)
        self.assertIn("connector", body["message"].lower())
        self.assert_still_serving()
        body = self.assert_error(self.worker.post("/connectors", {
            "name": "unknown-class", "config": {**cfg, "connector.class": "com.example.Nope"}}),
            400)
        self.assertIn("com.example.Nope", body["message"])
        self.assert_still_serving()
        self.assert_error(self.worker.put("/connectors/unknown-class/config",
                                          {**cfg, "connector.class": "com.example.Nope"}), 400)
        names = self.worker.get("/connectors").body
        self.assertNotIn("noclass", names)
        self.assertNotIn("unknown-class", names)
        self.assert_still_serving()

    def test_wrong_types(self):
        w = self.worker
        cases = [
            {"name": "t1", "config": self.source(tasks_max="abc")},
            {"name": "t2", "config": {**self.source(), "batch.size": {"nested": "object"}}},
            {"name": "t3", "config": {**self.source(), "batch.size": ["a", "list"]}},
            {"name": "t4", "config": {**self.source(), "batch.size": None}},
            {"name": "t5", "config": "not an object"},
            {"name": 42, "config": self.source()},
            {"config": self.source()},
            ["a", "list"],
            json.dumps("just a string"),
        ]
        for body in cases:
            with self.subTest(body=body):
                r = w.post("/connectors", body, {"Content-Type": "application/json"})
                err = self.assert_error(r, 400)
                if body in cases[:2]:
                    key = "tasks.max" if body["name"] == "t1" else "batch.size"
                    self.assertIn(key, err["message"])
                self.assert_still_serving()
        names = w.get("/connectors").body
        self.assertFalse({"t1", "t2", "t3", "t4", "t5"} & set(names), names)
        self.assert_error(w.put("/connectors/t6/config", {**self.source(), "tasks.max": "abc"}),
                          400)
        self.assert_error(w.put("/connectors/t6/config", ["not", "an", "object"]), 400)
        self.assert_still_serving()

    def test_body_too_large(self):
        big = b'{"name": "big", "config": {"x": "' + b"a" * (10 * 1024 * 1024) + b'"}}'
        head = (f"POST /connectors HTTP/1.1\r\nHost: 127.0.0.1:{self.worker.port}\r\n"
                f"Content-Type: application/json\r\nContent-Length: {len(big)}\r\n"
                f"Connection: close\r\n\r\n").encode()
        chunks = [big[i:i + (1 << 20)] for i in range(0, len(big), 1 << 20)]
        status, headers, text = raw_request(self.worker.port, head, chunks)
        self.assertEqual(status, 413, text)
        self.assertIn('"error_code":413', text.replace(" ", ""))
        # A following request, on a new connection, works.
        self.assert_still_serving()

        # The same without Content-Length (chunked): the limit is found while reading.
        head = (f"POST /connectors HTTP/1.1\r\nHost: 127.0.0.1:{self.worker.port}\r\n"
                f"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n"
                f"Connection: close\r\n\r\n").encode()
        chunked = [b"%x\r\n%s\r\n" % (len(c), c) for c in chunks] + [b"0\r\n\r\n"]
        status, headers, text = raw_request(self.worker.port, head, chunked)
        self.assertEqual(status, 413, text)
        self.assert_still_serving()
        self.assertNotIn("big", self.worker.get("/connectors").body)

    def test_wrong_method_and_unknown_path(self):
        w = self.worker
        for method, path in (("DELETE", "/connectors"), ("PUT", "/connectors"),
                             ("POST", "/connector-plugins"), ("POST", "/"),
                             ("PATCH", "/connectors")):
            with self.subTest(method=method, path=path):
                self.assert_error(w.request(method, path), 405)
                self.assert_still_serving()
        for path in ("/nope", "/connectors/a/b/c/d", "/connector-plugins/x/y"):
            with self.subTest(path=path):
                self.assert_error(w.get(path), 404)
                self.assert_still_serving()

    def test_body_without_json_content_type(self):
        w = self.worker
        body = '{"name": "form", "config": {}}'
        for ctype in ("application/x-www-form-urlencoded", "text/plain"):  # curl -d's default
            with self.subTest(content_type=ctype):
                self.assert_error(w.post("/connectors", body, {"Content-Type": ctype}), 415)
                self.assert_still_serving()
        self.assert_error(w.put("/connectors/form/config", "{}", {"Content-Type": "text/plain"}),
                          415)
        self.assertNotIn("form", w.get("/connectors").body)
        self.assert_still_serving()


class BadWorkerConfigTest(unittest.TestCase):
    """ferry-worker refuses bad .properties: exit 2, a clear message, no crash, quickly."""

    def setUp(self):
        tmp = tempfile.TemporaryDirectory(prefix="ferry-badcfg-")
        self.addCleanup(tmp.cleanup)
        self.tmp = tmp.name
        self.exe = fh.binary(BUILD_DIR, "ferry-worker")

    def run_worker(self, properties_path):
        start = time.monotonic()
        try:
            result = subprocess.run([self.exe, "standalone", properties_path],
                                    stdin=subprocess.DEVNULL, capture_output=True, text=True,
                                    timeout=15)
        except subprocess.TimeoutExpired as e:
            self.fail(f"ferry-worker still running 15 s after start with {properties_path}; "
                      f"output: {e.stderr!r}")
        elapsed = time.monotonic() - start
        output = result.stdout + result.stderr
        for marker in fh.CRASH_MARKERS:
            self.assertNotIn(marker, output, output)
        self.assertEqual(result.returncode, 2, f"exit status; output:\n{output}")
        self.assertLess(elapsed, 5.0)
        self.assertTrue(result.stderr.strip(), "nothing on stderr")
        return result.stderr

    def write(self, lines):
        path = os.path.join(self.tmp, "worker.properties")
        base = {"bootstrap.servers": "127.0.0.1:1",
                "listeners": f"http://127.0.0.1:{fh.free_port()}",
                "offset.storage.file.filename": os.path.join(self.tmp, "offsets")}
        base.update(lines)
        with open(path, "w") as f:
            for k, v in base.items():
                f.write(f"{k}={v}\n")
        return path

    def test_missing_file(self):
        path = os.path.join(self.tmp, "does-not-exist.properties")
        err = self.run_worker(path)
        self.assertIn("does-not-exist.properties", err)

    def test_bad_number(self):
        err = self.run_worker(self.write({"offset.flush.interval.ms": "abc"}))
        self.assertIn("offset.flush.interval.ms", err)

    def test_unknown_listener_scheme(self):
        err = self.run_worker(self.write({"listeners": "ftp://x:1"}))
        self.assertIn("ftp://x:1", err)

    def test_https_listener_without_keystore(self):
        err = self.run_worker(self.write({"listeners": "https://127.0.0.1:1"}))
        self.assertIn("https://127.0.0.1:1", err)
        self.assertIn("ssl.keystore.location", err)

    def test_good_file_for_comparison(self):
        # The same base file without the defect starts (so the refusals above are about the
        # defect); it is stopped again at once.
        path = self.write({})
        props = dict(line.split("=", 1) for line in open(path).read().splitlines())
        port = int(props["listeners"].rsplit(":", 1)[1])
        log_path = os.path.join(self.tmp, "good.log")
        with open(log_path, "wb") as log:
            proc = subprocess.Popen([self.exe, "standalone", path], stdin=subprocess.DEVNULL,
                                    stdout=log, stderr=subprocess.STDOUT)
        self.addCleanup(lambda: proc.poll() is None and (proc.kill(), proc.wait()))
        wait_until(lambda: proc.poll() is not None or
                   fh.http_request("127.0.0.1", port, "GET", "/", timeout=2).status == 200,
                   30, "the worker to answer GET /")
        self.assertIsNone(proc.poll(), open(log_path, errors="replace").read())
        proc.terminate()
        self.assertEqual(proc.wait(timeout=15), 0, open(log_path, errors="replace").read())


if __name__ == "__main__":
    BUILD_DIR, argv = fh.parse_args()
    unittest.main(argv=argv)
