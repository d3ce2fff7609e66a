"""HTTPS REST listeners: `listeners=https://...` with Kafka Connect's `listeners.https.ssl.*` keys
(or the worker's `ssl.*` keys when none is set): PKCS12 and PEM keystores, client certificates
(ssl.client.auth), protocol versions; bad TLS settings stop the worker with exit 2 and a message
naming the setting. Certificates are made here with the openssl command.

    /usr/bin/python3 tests/integration/test_https.py --build-dir BUILD [-v]
"""

import http.client
import json
import os
import ssl
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
import ferry_harness as fh  # noqa: E402

BUILD_DIR = None
EXAMPLES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "deploy", "examples")
STORE_PASSWORD = "store-pw-1"
KEY_PASSWORD = "key-pw-2"


def openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=60)


def make_pki(d):
    """A CA, a server certificate for 127.0.0.1 and a client certificate signed by it, and a
    second CA with its own client certificate (not trusted by the worker)."""
    def key_and_csr(name, cn):
        openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                "-keyout", f"{name}.key", "-out", f"{name}.csr", "-subj", f"/CN={cn}", cwd=d)

    def sign(name, ca, ext=None):
        args = ["x509", "-req", "-in", f"{name}.csr", "-CA", f"{ca}.pem", "-CAkey", f"{ca}.key",
                "-CAcreateserial", "-out", f"{name}.pem", "-days", "2"]
        if ext:
            with open(os.path.join(d, f"{name}.ext"), "w") as f:
                f.write(ext)
            args += ["-extfile", f"{name}.ext"]
        openssl(*args, cwd=d)

    for ca in ("ca", "other-ca"):
        openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                "-keyout", f"{ca}.key", "-out", f"{ca}.pem", "-days", "2",
                "-subj", f"/CN=ferry test {ca}", cwd=d)
    key_and_csr("server", "127.0.0.1")
    sign("server", "ca", "subjectAltName=IP:127.0.0.1\n")
    key_and_csr("client", "ferry-client")
    sign("client", "ca")
    key_and_csr("stranger", "stranger")
    sign("stranger", "other-ca")
    openssl("pkcs12", "-export", "-in", "server.pem", "-inkey", "server.key", "-certfile",
            "ca.pem", "-out", "server.p12", "-passout", f"pass:{STORE_PASSWORD}", cwd=d)
    # A PEM keystore: encrypted key, then the certificate chain.
    openssl("pkcs8", "-topk8", "-in", "server.key", "-out", "server-enc.key",
            "-passout", f"pass:{KEY_PASSWORD}", cwd=d)
    with open(os.path.join(d, "server-bundle.pem"), "w") as out:
        for part in ("server-enc.key", "server.pem", "ca.pem"):
            with open(os.path.join(d, part)) as f:
                out.write(f.read())
    return {name: os.path.join(d, name) for name in os.listdir(d)}


def client_context(pki, cert=None, trust="ca.pem", max_version=None):
    ctx = ssl.create_default_context(cafile=pki[trust])
    if cert:
        ctx.load_cert_chain(pki[f"{cert}.pem"], pki[f"{cert}.key"])
    if max_version:
        ctx.maximum_version = max_version
    return ctx


def https_get(port, path, ctx, timeout=10):
    conn = http.client.HTTPSConnection("127.0.0.1", port, context=ctx, timeout=timeout)
    try:
        conn.request("GET", path)
        resp = conn.getresponse()
        return resp.status, json.loads(resp.read() or b"null")
    finally:
        conn.close()


class HttpsTest(unittest.TestCase):

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="ferry-https-")
        self.addCleanup(self.tmp.cleanup)
        pki_dir = os.path.join(self.tmp.name, "pki")
        os.mkdir(pki_dir)
        self.pki = make_pki(pki_dir)

    def start(self, tls_settings):
        """A worker with an http listener (for the harness) and an https one; returns
        (redis, worker, https port)."""
        http_port, https_port = fh.free_port(), fh.free_port()
        props = {"listeners": f"http://127.0.0.1:{http_port},https://127.0.0.1:{https_port}"}
        props.update(tls_settings)
        redis, kafka, worker = fh.start_stack(self, BUILD_DIR, self.tmp.name, port=http_port,
                                              properties=props)
        return redis, worker, https_port

    def assert_refused(self, port, ctx, what):
        try:
            status, _ = https_get(port, "/connectors", ctx)
        except (ssl.SSLError, ConnectionError, OSError):
            return
        self.fail(f"{what}: got HTTP {status} instead of a refused TLS connection")

    def test_pkcs12_keystore_with_required_client_certificates(self):
        redis, worker, port = self.start({
            "listeners.https.ssl.keystore.location": self.pki["server.p12"],
            "listeners.https.ssl.keystore.password": STORE_PASSWORD,
            "listeners.https.ssl.keystore.type": "PKCS12",
            "listeners.https.ssl.truststore.location": self.pki["ca.pem"],
            "listeners.https.ssl.truststore.type": "PEM",
            "listeners.https.ssl.client.auth": "required",
        })
        # curl, as users script it.
        out = subprocess.run(
            ["curl", "-sS", "--fail", "--cacert", self.pki["ca.pem"], "--cert",
             self.pki["client.pem"], "--key", self.pki["client.key"],
             "-H", "Content-Type: application/json", "-X", "PUT",
             "--data", json.dumps(fh.sink_config(redis, "t", "STRING")),
             f"https://127.0.0.1:{port}/connectors/s/config"],
            capture_output=True, text=True, timeout=30)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertEqual(json.loads(out.stdout)["name"], "s")
        status, body = https_get(port, "/connectors", client_context(self.pki, cert="client"))
        self.assertEqual((status, body), (200, ["s"]))
        # The example scripts work over HTTPS with FERRY_CURL_OPTS.
        env = dict(os.environ, FERRY_URL=f"https://127.0.0.1:{port}",
                   FERRY_CURL_OPTS=f"--cacert {self.pki['ca.pem']} --cert {self.pki['client.pem']}"
                                   f" --key {self.pki['client.key']}")
        out = subprocess.run([os.path.join(EXAMPLES, "status.sh"), "s"], env=env,
                             capture_output=True, text=True, timeout=30)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertEqual(json.loads(out.stdout)["name"], "s")
        self.assertEqual(worker.get("/connectors")[:2], (200, ["s"]))  # the http listener too

        self.assert_refused(port, client_context(self.pki), "no client certificate")
        self.assert_refused(port, client_context(self.pki, cert="stranger"),
                            "a client certificate from an untrusted CA")
        self.assert_refused(port, client_context(self.pki, cert="client", trust="other-ca.pem"),
                            "a client that does not trust the server's CA")
        # Plain HTTP on the TLS port gets no HTTP answer.
        try:
            status = fh.http_request("127.0.0.1", port, "GET", "/connectors", timeout=5).status
        except Exception:
            status = None
        self.assertNotEqual(status, 200)
        # The worker is still fine after all those failed handshakes.
        status, _ = https_get(port, "/connectors/s/status", client_context(self.pki, cert="client"))
        self.assertEqual(status, 200)

    def test_pem_keystore_from_worker_ssl_settings_and_tls13_only(self):
        redis, worker, port = self.start({
            "ssl.keystore.type": "PEM",
            "ssl.keystore.location": self.pki["server-bundle.pem"],
            "ssl.key.password": KEY_PASSWORD,
            "ssl.enabled.protocols": "TLSv1.3",
        })
        status, body = https_get(port, "/", client_context(self.pki))
        self.assertEqual(status, 200)
        self.assertIn("version", body)
        self.assert_refused(port, client_context(self.pki, max_version=ssl.TLSVersion.TLSv1_2),
                            "a TLS 1.2 client when only TLSv1.3 is enabled")

    def run_worker_expecting_exit_2(self, settings):
        p = fh.run_worker_once(BUILD_DIR, self.tmp.name, dict(
            {"listeners": f"https://127.0.0.1:{fh.free_port()}"}, **settings))
        self.assertEqual(p.returncode, 2, p.stderr)
        return p.stderr

    def test_bad_tls_settings_stop_the_worker_with_a_clear_message(self):
        jks = os.path.join(self.tmp.name, "server.jks")
        with open(jks, "wb") as f:
            f.write(b"\xfe\xed\xfe\xed\x00\x00\x00\x02" + b"\x00" * 64)
        err = self.run_worker_expecting_exit_2({
            "listeners.https.ssl.keystore.location": jks,
            "listeners.https.ssl.keystore.password": STORE_PASSWORD})
        self.assertIn("keytool -importkeystore", err)

        err = self.run_worker_expecting_exit_2({
            "listeners.https.ssl.keystore.location": self.pki["server.p12"],
            "listeners.https.ssl.keystore.password": "not-the-store-pw"})
        self.assertIn("wrong password", err)
        self.assertNotIn("not-the-store-pw", err)  # a password is never logged

        err = self.run_worker_expecting_exit_2({
            "listeners.https.ssl.keystore.location": self.pki["server.p12"],
            "listeners.https.ssl.keystore.password": STORE_PASSWORD,
            "listeners.https.ssl.client.auth": "required"})
        self.assertIn("ssl.truststore", err)

        err = self.run_worker_expecting_exit_2({})
        self.assertIn("ssl.keystore.location", err)


if __name__ == "__main__":
    BUILD_DIR, argv = fh.parse_args()
    unittest.main(argv=argv)
