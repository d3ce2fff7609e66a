"""Config providers (Kafka's KIP-297): connector configs reference secrets as
${file:path:key} / ${env:VAR} / ${directory:dir:file}; the worker resolves them only where they
are used, so the secret reaches Redis but never the REST answers, the stored config files, task
configs, failure traces or the log. Worker settings can use the same references.

    /usr/bin/python3 tests/integration/test_config_providers.py --build-dir BUILD [-v]
"""

import os
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
import ferry_harness as fh  # noqa: E402

BUILD_DIR = None
SECRET = "Sup3r-S3cret-Pw-7f2a"
PROVIDERS = {
    "config.providers": "file,env,directory",
    "config.providers.file.class": "org.apache.kafka.common.config.provider.FileConfigProvider",
    "config.providers.env.class": "org.apache.kafka.common.config.provider.EnvVarConfigProvider",
    "config.providers.directory.class":
        "org.apache.kafka.common.config.provider.DirectoryConfigProvider",
}


class ConfigProvidersTest(unittest.TestCase):

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="ferry-providers-")
        self.addCleanup(self.tmp.cleanup)
        self.creds = os.path.join(self.tmp.name, "redis-creds.properties")
        with open(self.creds, "w") as f:
            f.write(f"# Redis credentials\npassword={SECRET}\n")
        self.secret_dir = os.path.join(self.tmp.name, "secrets")
        os.mkdir(self.secret_dir)
        with open(os.path.join(self.secret_dir, "redis-user"), "w") as f:
            f.write("ferry")
        os.environ["FERRY_TEST_ADVERTISED"] = "ferry-host.example"

    def assert_no_secret(self, what, text):
        self.assertNotIn(SECRET, text, f"the secret leaked into {what}")

    def test_secret_reaches_redis_and_nothing_else(self):
        props = dict(PROVIDERS)
        props["rest.advertised.host.name"] = "${env:FERRY_TEST_ADVERTISED}"
        redis, kafka, worker = fh.start_stack(self, BUILD_DIR, self.tmp.name, properties=props,
                                              program="ferry-worker-test")
        # Only the ACL user "ferry" with the secret password can write; the default user is off.
        redis.cli("ACL", "SETUSER", "ferry", "on", f">{SECRET}", "~*", "&*", "+@all")
        redis.cli("ACL", "SETUSER", "default", "off")

        def cli(*args):
            return redis.cli("--user", "ferry", "--pass", SECRET, "--no-auth-warning", *args)

        ref = f"${{file:{self.creds}:password}}"
        config = fh.sink_config(redis, "orders", "STRING")
        user_ref = f"${{directory:{self.secret_dir}:redis-user}}"
        config["redis.username"] = user_ref
        config["redis.password"] = ref
        status, body, _ = worker.post("/connectors", {"name": "s", "config": config})
        self.assertEqual(status, 201, body)
        worker.wait_running("s")
        fh.kcat_produce(kafka.bootstrap, "orders", [(f"o{i}", {"n": i}) for i in range(3)])
        fh.wait_until(lambda: cli("EXISTS", "orders:o0", "orders:o1", "orders:o2") == "3", 60,
                      "the sink to write with the resolved credentials")
        self.assertEqual(cli("GET", "orders:o2"), '{"n":2}')

        # REST shows the references, never the secret.
        answers = {}
        for path in ("/connectors/s", "/connectors/s/config", "/connectors/s/tasks",
                     "/connectors/s/status", "/connectors?expand=info&expand=status"):
            status, body, _ = worker.get(path)
            self.assertEqual(status, 200, path)
            answers[path] = body
            self.assert_no_secret(path, repr(body))
        self.assertEqual(answers["/connectors/s/config"]["redis.password"], ref)
        self.assertEqual(answers["/connectors/s/config"]["redis.username"], user_ref)
        task_config = answers["/connectors/s/tasks"][0]["config"]
        self.assertEqual(task_config.get("redis.password"), ref, task_config)
        # The worker setting was resolved too: it is this worker's id in status.
        self.assertEqual(answers["/connectors/s/status"]["connector"]["worker_id"],
                         f"ferry-host.example:{worker.port}")

        status, infos, _ = worker.put(
            "/connector-plugins/ferry.redis.RedisSinkConnector/config/validate",
            dict(config, name="s"))
        self.assertEqual(status, 200, infos)
        self.assertEqual(infos["error_count"], 0, infos)
        values = {c["value"]["name"]: c["value"]["value"] for c in infos["configs"]}
        self.assertEqual(values["redis.password"], "[hidden]")
        self.assertEqual(values["redis.username"], user_ref)
        self.assert_no_secret("validate", repr(infos))

        # A connector whose own error message quotes a resolved secret: the trace and the log
        # show the reference instead.
        status, body, _ = worker.post("/connectors", {"name": "f", "config": {
            "connector.class": "ferry.test.HangingSourceConnector", "tasks.max": "1",
            "fail.in": "task.start", "fail.message": f"cannot log in with {ref}"}})
        self.assertEqual(status, 201, body)

        def failed_trace():
            tasks = worker.status("f")["tasks"]
            return tasks and tasks[0]["state"] == "FAILED" and tasks[0]["trace"]
        trace = fh.wait_until(failed_trace, 30, "task f-0 to fail")
        self.assertIn(f"cannot log in with {ref}", trace)
        self.assert_no_secret("the failure trace", trace)
        fh.wait_until(lambda: "About to fail in task.start" in worker.log_text(), 30,
                      "the test task to log its failure")

        worker.close()
        self.assert_no_secret("the worker log", worker.log_text())
        for name in os.listdir(self.tmp.name):
            path = os.path.join(self.tmp.name, name)
            if name.startswith("worker.") and os.path.isfile(path):
                with open(path, errors="replace") as f:
                    self.assert_no_secret(name, f.read())
        with open(worker.offsets_path + ".connectors.json") as f:
            self.assertIn(ref, f.read())

    def test_unresolvable_reference_is_a_400_naming_the_file(self):
        redis, kafka, worker = fh.start_stack(self, BUILD_DIR, self.tmp.name, properties=PROVIDERS)
        config = fh.sink_config(redis, "t", "STRING")
        config["redis.password"] = "${file:/nonexistent/ferry-creds.properties:password}"
        status, body, _ = worker.put("/connectors/s/config", config)
        self.assertEqual(status, 400, body)
        self.assertIn("/nonexistent/ferry-creds.properties", body["message"])
        self.assertEqual(worker.get("/connectors/s")[0], 404)
        # A reference to a provider that is not configured stays as written (Kafka's rule).
        config["redis.password"] = "${vault:secret/redis:password}"
        status, body, _ = worker.put("/connectors/s/config", config)
        self.assertEqual(status, 201, body)

    def test_bad_provider_settings_stop_the_worker(self):
        p = fh.run_worker_once(BUILD_DIR, self.tmp.name, {
            "config.providers": "vault",
            "config.providers.vault.class": "com.example.VaultConfigProvider"})
        self.assertEqual(p.returncode, 2, p.stderr)
        self.assertIn("com.example.VaultConfigProvider", p.stderr)


if __name__ == "__main__":
    BUILD_DIR, argv = fh.parse_args()
    unittest.main(argv=argv)
