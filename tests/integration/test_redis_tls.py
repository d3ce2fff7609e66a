"""TLS and ACL logins against real redis-server processes: a sink over mutual TLS (redis.tls and
the rediss:// form, an encrypted client key), a stream source over TLS, an ACL user, and the
failures that must stop a task instead of retrying forever (wrong password, a server
certificate from another CA, a missing CA file). Certificates are made with the openssl
command line; data is checked with redis-cli --tls, independently of ferry.

    /usr/bin/python3 tests/integration/test_redis_tls.py --build-dir BUILD [-v] [-k name]
"""

import json
import os
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
import ferry_harness as fh  # noqa: E402
from ferry_harness import wait_until  # noqa: E402

BUILD_DIR = None
OPENSSL = "openssl"
KEY_PASSWORD = "k3y-secret"


def openssl(*args, cwd):
    result = subprocess.run([OPENSSL, *args], cwd=cwd, capture_output=True, text=True, timeout=60)
    if result.returncode != 0:
        raise AssertionError(f"openssl {' '.join(args)} failed: {result.stderr}")


def make_ca(d, name):
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", f"{name}.key", "-out", f"{name}.crt", "-days", "2",
            "-subj", f"/CN=ferry test {name}",
            "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign,cRLSign", cwd=d)


def make_cert(d, name, ca, extensions):
    with open(os.path.join(d, f"{name}.ext"), "w") as f:
        f.write(extensions)
    openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", f"{name}.key", "-out", f"{name}.csr", "-subj", f"/CN={name}", cwd=d)
    openssl("x509", "-req", "-in", f"{name}.csr", "-CA", f"{ca}.crt", "-CAkey", f"{ca}.key",
            "-set_serial", str(abs(hash(name)) % 100000 + 1), "-days", "2",
            "-out", f"{name}.crt", "-extfile", f"{name}.ext", cwd=d)


def make_material(d):
    """ca + server (127.0.0.1) + client; rogue-ca + rogue-server (127.0.0.1); the client key
    also as encrypted PKCS#8."""
    make_ca(d, "ca")
    make_ca(d, "rogue-ca")
    server_ext = "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n"
    make_cert(d, "server", "ca", server_ext)
    make_cert(d, "rogue-server", "rogue-ca", server_ext)
    make_cert(d, "client", "ca", "extendedKeyUsage=clientAuth\n")
    openssl("pkcs8", "-topk8", "-in", "client.key", "-out", "client-encrypted.key",
            "-v2", "aes-256-cbc", "-passout", f"pass:{KEY_PASSWORD}", cwd=d)
    return {n: os.path.join(d, n) for n in os.listdir(d)}


class TlsRedis:
    """A redis-server with only a TLS port; `auth_clients` makes it require client certs."""

    def __init__(self, tmp_dir, files, cert="server", auth_clients=True):
        self.files = files
        self.port = fh.free_port()
        self.dir = os.path.join(tmp_dir, f"redis-tls-{self.port}")
        os.makedirs(self.dir)
        self.log_path = os.path.join(self.dir, "redis.log")
        self._log = open(self.log_path, "ab")
        self.process = fh._popen(
            [fh.REDIS_SERVER, "--port", "0", "--tls-port", str(self.port), "--bind", "127.0.0.1",
             "--tls-cert-file", files[f"{cert}.crt"], "--tls-key-file", files[f"{cert}.key"],
             "--tls-ca-cert-file", files["ca.crt"],
             "--tls-auth-clients", "yes" if auth_clients else "no",
             "--save", "", "--appendonly", "no", "--dir", self.dir, "--protected-mode", "no"],
            stdin=subprocess.DEVNULL, stdout=self._log, stderr=subprocess.STDOUT)
        # A server with a rogue certificate is reached without verification by redis-cli.
        self.verify = cert == "server"

        def ready():
            if self.process.poll() is not None:
                raise fh.GiveUp(f"redis-server exited with {self.process.returncode}: "
                                f"{self.log_text()}")
            return self.cli("PING", check=False) == "PONG"
        try:
            wait_until(ready, 10, f"TLS redis-server on port {self.port} to answer PING")
        except BaseException:
            self.stop()
            raise

    def log_text(self):
        with open(self.log_path, "r", errors="replace") as f:
            return f.read()

    def cli(self, *args, check=True):
        tls = ["--tls", "--cert", self.files["client.crt"], "--key", self.files["client.key"]]
        tls += ["--cacert", self.files["ca.crt"]] if self.verify else ["--insecure"]
        argv = [fh.REDIS_CLI, "-h", "127.0.0.1", "-p", str(self.port), *tls, *map(str, args)]
        result = subprocess.run(argv, capture_output=True, text=True, timeout=30)
        if check and (result.returncode != 0 or result.stdout.startswith("ERR")):
            raise AssertionError(f"redis-cli --tls {' '.join(map(str, args))} failed "
                                 f"({result.returncode}): {result.stdout}{result.stderr}")
        return result.stdout.rstrip("\n")

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()


def failed_trace(worker, name):
    """The trace of the first FAILED part (connector or task) of `name`, or None."""
    s = worker.status(name)
    if not s:
        return None
    for part in [s["connector"]] + list(s.get("tasks", [])):
        if part.get("state") == "FAILED":
            return part.get("trace") or "(no trace)"
    return None


def wait_failed(worker, name, timeout=30):
    def check():
        if not worker.running():
            raise fh.GiveUp(f"ferry-worker exited; log:\n{worker.log_text(tail=4000)}")
        return failed_trace(worker, name)
    return wait_until(check, timeout, f"connector {name} to be FAILED")


class RedisTlsTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.material_dir = tempfile.TemporaryDirectory(prefix="ferry-tls-certs-")
        cls.files = make_material(cls.material_dir.name)

    @classmethod
    def tearDownClass(cls):
        cls.material_dir.cleanup()

    def setUp(self):
        tmp = tempfile.TemporaryDirectory(prefix="ferry-tls-")
        self.addCleanup(tmp.cleanup)
        self.tmp = tmp.name
        # The harness's plain redis-server serves the ACL cases.
        self.redis, self.kafka, self.worker = fh.start_stack(self, BUILD_DIR, tmp.name)

    def tls_redis(self, **kw):
        server = TlsRedis(self.tmp, self.files, **kw)
        self.addCleanup(server.stop)
        self.addCleanup(lambda: self._dump_if_failed(server))
        return server

    def _dump_if_failed(self, server):
        result = getattr(getattr(self, "_outcome", None), "result", None)
        failed = [t for t, _ in getattr(result, "failures", []) + getattr(result, "errors", [])]
        if any(t is self for t in failed):
            sys.stderr.write(f"\n----- TLS redis {server.port} log -----\n"
                             f"{server.log_text()[-4000:]}\n")

    def tls_keys(self, key="client.key", **extra):
        cfg = {"redis.cacert": self.files["ca.crt"], "redis.key.cert": self.files["client.crt"],
               "redis.key.file": self.files[key]}
        cfg.update(extra)
        return cfg

    def sink(self, name, topic, uri, **extra):
        cfg = fh.sink_config(self.redis, topic, "STRING")
        cfg["redis.uri"] = uri
        cfg.update(extra)
        self.worker.create_connector(name, cfg)

    def produce(self, topic, n):
        """n records with text values (JSON strings for the worker's JsonConverter); returns
        (key, text) pairs as they should land in Redis."""
        records = [(f"k{i}", f"value {i}") for i in range(n)]
        fh.kcat_produce(self.kafka.bootstrap, topic, [(k, json.dumps(v)) for k, v in records])
        return records

    def wait_written(self, server, name, topic, records):
        # The records spread over partitions: any key may come last.
        def written():
            self.worker.check_not_failed(name)
            return int(server.cli("DBSIZE")) >= len(records)
        wait_until(written, 60, f"{len(records)} keys of {topic} in the TLS Redis")
        self.assertEqual(int(server.cli("DBSIZE")), len(records))
        for k, v in records:
            self.assertEqual(server.cli("--raw", "GET", f"{topic}:{k}"), v)

    def assert_stays_failed(self, name, redis_stat, observe=3.0):
        """Watches `name` for `observe` seconds: it stays FAILED, and `redis_stat()` (a count
        of login attempts the server saw) does not grow, so nothing restarts the task."""
        before = redis_stat()
        end = time.monotonic() + observe
        while time.monotonic() < end:
            self.assertIsNotNone(failed_trace(self.worker, name), self.worker.status(name))
            self.assertEqual(redis_stat(), before, "the failed task keeps logging in")
            time.sleep(0.2)

    # ---- (a) redis.tls with a CA and a client certificate (server requires one)

    def test_sink_with_mutual_tls(self):
        server = self.tls_redis()
        records = self.produce("mtls", 50)
        self.sink("mtls-sink", "mtls", f"redis://127.0.0.1:{server.port}",
                  **{"redis.tls": "true"}, **self.tls_keys())
        self.wait_written(server, "mtls-sink", "mtls", records)
        self.worker.wait_running("mtls-sink")

    # ---- (b) rediss:// with an encrypted PKCS#8 client key

    def test_sink_with_rediss_uri_and_encrypted_key(self):
        server = self.tls_redis()
        records = self.produce("rediss", 30)
        self.sink("rediss-sink", "rediss", f"rediss://127.0.0.1:{server.port}",
                  **self.tls_keys("client-encrypted.key", **{"redis.key.password": KEY_PASSWORD}))
        self.wait_written(server, "rediss-sink", "rediss", records)
        self.assertNotIn(KEY_PASSWORD, self.worker.log_text())

    def test_wrong_key_password_fails_naming_the_key_file(self):
        server = self.tls_redis()
        self.sink("badkey-sink", "badkey", f"rediss://127.0.0.1:{server.port}",
                  **self.tls_keys("client-encrypted.key", **{"redis.key.password": "nope"}))
        trace = wait_failed(self.worker, "badkey-sink")
        self.assertIn("redis.key.file", trace)
        self.assertIn(self.files["client-encrypted.key"], trace)

    def test_missing_ca_file_fails_naming_key_and_file(self):
        server = self.tls_redis()
        missing = os.path.join(self.tmp, "no-such-ca.pem")
        self.sink("noca-sink", "noca", f"rediss://127.0.0.1:{server.port}",
                  **self.tls_keys(**{"redis.cacert": missing}))
        trace = wait_failed(self.worker, "noca-sink")
        self.assertIn("redis.cacert", trace)
        self.assertIn(missing, trace)
        self.assertIn("No such file", trace)

    def test_no_client_certificate_fails_when_the_server_requires_one(self):
        server = self.tls_redis()
        self.produce("nocert", 5)
        self.sink("nocert-sink", "nocert", f"rediss://127.0.0.1:{server.port}",
                  **{"redis.cacert": self.files["ca.crt"]})
        trace = wait_failed(self.worker, "nocert-sink")
        self.assertIn("client certificate", trace)
        self.assertIn("redis.key.cert", trace)

        # A certificate from a CA the server does not trust fails the same way.
        self.sink("roguecert-sink", "nocert", f"rediss://127.0.0.1:{server.port}",
                  **{"redis.cacert": self.files["ca.crt"],
                     "redis.key.cert": self.files["rogue-server.crt"],
                     "redis.key.file": self.files["rogue-server.key"]})
        trace = wait_failed(self.worker, "roguecert-sink")
        self.assertIn("client certificate", trace)
        self.assertIn(self.files["rogue-server.crt"], trace)
        self.assertEqual(server.cli("DBSIZE"), "0")

    # ---- TLS stream source

    def test_stream_source_over_tls(self):
        server = self.tls_redis()
        ids = [server.cli("XADD", "events", "*", "n", str(i)) for i in range(20)]
        cfg = fh.source_config(self.redis, "events", topic="events-tls")
        cfg["redis.uri"] = f"rediss://127.0.0.1:{server.port}"
        cfg["redis.stream.offset"] = "0-0"
        cfg.update(self.tls_keys())
        self.worker.create_connector("tls-source", cfg)

        def in_kafka():
            self.worker.check_not_failed("tls-source")
            return fh.kafka_message_count(self.kafka.bootstrap, "events-tls") >= len(ids)
        wait_until(in_kafka, 60, "the stream entries in Kafka")
        keys = [k for k, _ in fh.kcat_consume(self.kafka.bootstrap, "events-tls")]
        self.assertEqual(sorted(keys), sorted(ids))

    # ---- (c) ACL user

    def test_sink_as_acl_user(self):
        self.redis.cli("ACL", "SETUSER", "writer", "on", ">wr1ter-pw", "~acl:*", "+@all")
        records = self.produce("acl", 20)
        self.sink("acl-sink", "acl", self.redis.uri,
                  **{"redis.username": "writer", "redis.password": "wr1ter-pw"})

        def written():
            self.worker.check_not_failed("acl-sink")
            return int(self.redis.cli("DBSIZE")) >= len(records)
        wait_until(written, 60, "the ACL user's writes")
        self.assertEqual(int(self.redis.cli("DBSIZE")), len(records))
        for k, v in records:
            self.assertEqual(self.redis.cli("--raw", "GET", f"acl:{k}"), v)
        clients = self.redis.cli("CLIENT", "LIST")
        self.assertIn("user=writer", clients)

    # ---- (d) wrong password: FAILED, no retry loop

    def test_wrong_password_fails_the_task_once(self):
        self.redis.cli("ACL", "SETUSER", "writer", "on", ">right-pw", "~*", "+@all")
        self.produce("wrongpw", 5)
        started = time.monotonic()
        self.sink("wrongpw-sink", "wrongpw", self.redis.uri,
                  **{"redis.username": "writer", "redis.password": "wrong-pw"})
        trace = wait_failed(self.worker, "wrongpw-sink", timeout=30)
        self.assertLess(time.monotonic() - started, 30)
        self.assertIn("refused the login of user 'writer'", trace)
        self.assertIn("WRONGPASS", trace)
        self.assertIn("redis.password", trace)
        self.assertNotIn("wrong-pw", trace)

        def auth_calls():
            return self.redis.command_calls("auth")
        self.assertGreaterEqual(auth_calls(), 1)
        self.assert_stays_failed("wrongpw-sink", auth_calls)
        self.assertEqual(self.redis.cli("DBSIZE"), "0")

    def test_missing_password_fails_with_noauth(self):
        self.redis.cli("CONFIG", "SET", "requirepass", "server-pw")
        self.sink("noauth-sink", "noauth", self.redis.uri)
        trace = wait_failed(self.worker, "noauth-sink")
        self.assertIn("NOAUTH", trace)
        self.assertIn("redis.password", trace)

    # ---- (e) server certificate from another CA

    def test_untrusted_server_certificate_fails_and_insecure_works(self):
        server = self.tls_redis(cert="rogue-server", auth_clients=False)
        records = self.produce("rogue", 10)
        self.sink("rogue-sink", "rogue", f"rediss://127.0.0.1:{server.port}",
                  **{"redis.cacert": self.files["ca.crt"]})
        trace = wait_failed(self.worker, "rogue-sink")
        self.assertIn("certificate failed verification", trace)
        self.assertIn("redis.cacert", trace)
        self.assertIn("redis.insecure", trace)

        asked = [0]

        def ferry_connections():
            # Each look is itself one connection (redis-cli): not counted.
            asked[0] += 1
            info = server.cli("INFO", "stats")
            return int(info.split("total_connections_received:")[1].split()[0]) - asked[0]
        self.assert_stays_failed("rogue-sink", ferry_connections)
        self.assertEqual(server.cli("DBSIZE"), "0")

        self.sink("insecure-sink", "rogue", f"rediss://127.0.0.1:{server.port}",
                  **{"redis.cacert": self.files["ca.crt"], "redis.insecure": "true"})
        self.wait_written(server, "insecure-sink", "rogue", records)


if __name__ == "__main__":
    BUILD_DIR, argv = fh.parse_args()
    unittest.main(argv=argv)
