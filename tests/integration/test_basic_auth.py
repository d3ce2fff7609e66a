"""HTTP basic authentication: with rest.basic.auth.credentials.file set, every endpoint the
worker serves (taken from its own /openapi.json) answers 401 without valid credentials, except
/health; with them, the API works as usual. Bad credentials files stop the worker with exit 2.

    /usr/bin/python3 tests/integration/test_basic_auth.py --build-dir BUILD [-v]
"""

import base64
import os
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
import ferry_harness as fh  # noqa: E402

BUILD_DIR = None


def basic(user, password):
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


class BasicAuthTest(unittest.TestCase):

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="ferry-auth-")
        self.addCleanup(self.tmp.cleanup)
        self.credentials = os.path.join(self.tmp.name, "credentials")
        hashed = fh.write_credentials(BUILD_DIR, self.credentials, "admin", "s3cret")
        self.assertTrue(hashed.startswith("$pbkdf2-sha256$"), hashed)

    def test_every_endpoint_but_health_needs_credentials(self):
        redis, kafka, worker = fh.start_stack(
            self, BUILD_DIR, self.tmp.name,
            properties={"rest.basic.auth.credentials.file": self.credentials})
        good = basic("admin", "s3cret")
        status, doc, _ = worker.get("/openapi.json", headers=good)
        self.assertEqual(status, 200)
        checked = 0
        for path, ops in doc["paths"].items():
            concrete = (path.replace("{name}", "c").replace("{task}", "0")
                        .replace("{plugin}", "ferry.redis.RedisSinkConnector"))
            for method in ops:
                body = {} if method in ("post", "put", "patch") else None
                for headers in (None, basic("admin", "wrong"), basic("nobody", "s3cret")):
                    status, answer, resp_headers = worker.request(method.upper(), concrete, body,
                                                                  headers=headers)
                    if path == "/health":
                        self.assertEqual(status, 200)
                        continue
                    self.assertEqual(status, 401, f"{method.upper()} {concrete}: {answer}")
                    self.assertEqual(answer["error_code"], 401)
                    self.assertIn("Basic", resp_headers.get("www-authenticate", ""))
                    checked += 1
        self.assertGreater(checked, 80)
        # With credentials everything works as usual.
        self.assertEqual(worker.get("/connectors", headers=good)[:2], (200, []))
        status, body, _ = worker.post(
            "/connectors", {"name": "s", "config": fh.sink_config(redis, "t", "STRING")},
            headers=good)
        self.assertEqual(status, 201, body)
        self.assertEqual(worker.get("/connectors/s/config")[0], 401)

    def test_bad_credentials_file_stops_the_worker(self):
        for content in ("admin:plain-text-password\n", "# nobody\n"):
            with open(self.credentials, "w") as f:
                f.write(content)
            p = fh.run_worker_once(BUILD_DIR, self.tmp.name,
                                   {"rest.basic.auth.credentials.file": self.credentials})
            self.assertEqual(p.returncode, 2, p.stderr)
            self.assertIn("Credentials file", p.stderr)


if __name__ == "__main__":
    BUILD_DIR, argv = fh.parse_args()
    unittest.main(argv=argv)
