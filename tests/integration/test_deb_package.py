"""The Debian package: `cpack -G DEB` in the build dir (cmake/packaging.cmake) builds
ferry_<version>_<arch>.deb; its control data, contents and conffiles are what a package needs
(dpkg-deb -I / -c: nothing but the runtime, stripped), the systemd units pass `systemd-analyze
verify`, the manual pages render, and the packaged worker runs from the extracted tree with the
packaged worker.properties (pointed at a dev broker) until SIGTERM.

    /usr/bin/python3 tests/integration/test_deb_package.py --build-dir BUILD [-v]
"""

import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
import ferry_harness as fh  # noqa: E402
from ferry_harness import wait_until  # noqa: E402

BUILD_DIR = None
REPO = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))


def run(*argv, **kw):
    kw.setdefault("timeout", 300)
    return subprocess.run(list(argv), capture_output=True, text=True, check=True, **kw)


class DebPackageTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="ferry-deb-")
        out = os.path.join(cls.tmp.name, "out")
        # The build dir as CI built it (the manual pages are part of the default build).
        made = run("cpack", "-G", "DEB", "-B", out, cwd=os.path.abspath(BUILD_DIR)).stdout
        debs = [f for f in os.listdir(out) if f.endswith(".deb")]
        assert len(debs) == 1, made
        cls.deb = os.path.join(out, debs[0])
        cls.root = os.path.join(cls.tmp.name, "root")
        run("dpkg-deb", "-x", cls.deb, cls.root)

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def test_control_contents_and_conffiles(self):
        with open(os.path.join(REPO, "CMakeLists.txt")) as f:
            version = re.search(r"project\(ferry VERSION ([0-9.]+)", f.read()).group(1)
        arch = run("dpkg", "--print-architecture").stdout.strip()
        self.assertEqual(os.path.basename(self.deb), f"ferry_{version}_{arch}.deb")
        fields = {k: run("dpkg-deb", "-f", self.deb, k).stdout.strip()
                  for k in ("Package", "Version", "Architecture", "Depends", "Description",
                            "Maintainer", "Section", "Priority", "Homepage", "Recommends")}
        self.assertEqual(fields["Package"], "ferry")
        self.assertEqual(fields["Version"], version)
        self.assertEqual(fields["Architecture"], arch)
        self.assertEqual(fields["Maintainer"], "ferry maintainers <ferry@localhost>")
        self.assertEqual((fields["Section"], fields["Priority"]), ("net", "optional"))
        self.assertTrue(fields["Homepage"].startswith("https://"))
        self.assertEqual(fields["Recommends"], "redis-server")
        synopsis, _, rest = fields["Description"].partition("\n")
        self.assertIn("Kafka Connect compatible worker", synopsis)
        self.assertIn("ferry-worker@NAME.service", rest)
        for dep in ("libc6", "librdkafka1", "libhiredis", "libssl3", "libstdc++6", "adduser"):
            self.assertIn(dep, fields["Depends"])
        info = run("dpkg-deb", "-I", self.deb).stdout
        for script in ("postinst", "prerm", "postrm", "conffiles"):
            self.assertIn(script, info)
        self.assertEqual(run("dpkg-deb", "--ctrl-tarfile", self.deb).returncode, 0)

        listing = run("dpkg-deb", "-c", self.deb).stdout
        entries = {line.split()[-1]: line.split()[0] for line in listing.splitlines()}
        expected = {
            "./usr/bin/ferry-worker": "-rwxr-xr-x",
            "./usr/bin/ferry-kafka-dev": "-rwxr-xr-x",
            "./lib/systemd/system/ferry-worker.service": "-rw-r--r--",
            "./lib/systemd/system/ferry-worker@.service": "-rw-r--r--",
            "./etc/ferry/worker.properties": "-rw-r-----",
            "./usr/share/man/man1/ferry-worker.1.gz": "-rw-r--r--",
            "./usr/share/man/man1/ferry-kafka-dev.1.gz": "-rw-r--r--",
            "./usr/share/doc/ferry/examples/orders-source.properties": "-rw-r--r--",
            "./usr/share/doc/ferry/examples/orders-sink.properties": "-rw-r--r--",
        }
        for path, mode in expected.items():
            self.assertEqual(entries.get(path), mode, path)
        self.assertTrue(all(" root/root " in line for line in listing.splitlines()))
        # The runtime only: no plug-in headers or CMake package (cmake --install), no tests, no
        # static libraries, no build paths; the binaries stripped.
        files = [p for p in entries if not p.endswith("/")]
        for path in files:
            self.assertTrue(path.startswith(("./usr/bin/", "./usr/share/", "./lib/systemd/system/",
                                             "./etc/ferry/")), path)
            self.assertFalse(path.endswith((".a", ".hpp", ".h", ".cmake")), path)
            self.assertNotIn("test", os.path.basename(path), path)
        self.assertEqual(sorted(p for p in files if p.startswith("./usr/bin/")),
                         ["./usr/bin/ferry-kafka-dev", "./usr/bin/ferry-worker"])
        self.assertFalse(any(os.path.abspath(BUILD_DIR) in line or REPO in line
                             for line in listing.splitlines()))
        for program in ("ferry-worker", "ferry-kafka-dev"):
            kind = run("file", "-b", os.path.join(self.root, "usr/bin", program)).stdout
            self.assertIn(", stripped", kind, program)
        conffiles = run("sh", "-c", f"dpkg-deb --ctrl-tarfile {self.deb} | tar -xO ./conffiles")
        self.assertEqual(conffiles.stdout.split(), ["/etc/ferry/worker.properties"])
        # Every library the packaged worker needs is found.
        ldd = run("ldd", os.path.join(self.root, "usr/bin/ferry-worker")).stdout
        self.assertNotIn("not found", ldd)
        # The postinst makes the unprivileged user the units run as.
        with open(os.path.join(self.root, "lib/systemd/system/ferry-worker@.service")) as f:
            unit = f.read()
        self.assertIn("User=ferry", unit)
        self.assertIn("Restart=on-failure", unit)
        postinst = subprocess.run(["sh", "-c", f"dpkg-deb --ctrl-tarfile {self.deb} | "
                                   "tar -xO ./postinst"], capture_output=True, text=True).stdout
        self.assertIn("adduser --system", postinst)

    @unittest.skipUnless(shutil.which("systemd-analyze"), "systemd-analyze not installed")
    def test_units_verify(self):
        units = os.path.join(self.tmp.name, "units")
        os.makedirs(units, exist_ok=True)
        for name in ("ferry-worker.service", "ferry-worker@.service"):
            with open(os.path.join(self.root, "lib/systemd/system", name)) as f:
                text = f.read()
            # The packaged binary where the unit expects /usr/bin/ferry-worker.
            text = text.replace("/usr/bin/ferry-worker",
                                os.path.join(self.root, "usr/bin/ferry-worker"))
            with open(os.path.join(units, name), "w") as f:
                f.write(text)
        env = dict(os.environ, MANPATH=os.path.join(self.root, "usr/share/man"))
        for unit in ("ferry-worker.service", "ferry-worker@test.service"):
            path = os.path.join(units, unit)
            if unit.endswith("@test.service"):
                shutil.copy(os.path.join(units, "ferry-worker@.service"), path)
            result = subprocess.run(["systemd-analyze", "verify", path], capture_output=True,
                                    text=True, env=env, timeout=60)
            self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
            self.assertEqual(result.stderr.strip(), "", unit)

    def test_man_page_and_packaged_worker_run(self):
        env = dict(os.environ, MANPATH=os.path.join(self.root, "usr/share/man"), MANWIDTH="100")
        if shutil.which("man"):
            page = subprocess.run(["man", "ferry-worker"], capture_output=True, text=True,
                                  env=env, timeout=60).stdout
            self.assertIn("EXIT STATUS", page)
            self.assertIn("SIGTERM", page)

        kafka = fh.KafkaDev(os.path.join(self.root, "usr/bin/ferry-kafka-dev"))
        self.addCleanup(fh.stop_kafka, kafka)
        port = fh.free_port()
        with open(os.path.join(self.root, "etc/ferry/worker.properties")) as f:
            props = f.read()
        props = (props.replace("bootstrap.servers=localhost:9092",
                               f"bootstrap.servers={kafka.bootstrap}")
                 .replace("listeners=http://127.0.0.1:8083", f"listeners=http://127.0.0.1:{port}")
                 .replace("/var/lib/ferry", self.tmp.name))
        self.assertIn(kafka.bootstrap, props)
        path = os.path.join(self.tmp.name, "worker.properties")
        with open(path, "w") as f:
            f.write(props)
        log_path = os.path.join(self.tmp.name, "worker.log")
        with open(log_path, "wb") as log:
            worker = subprocess.Popen([os.path.join(self.root, "usr/bin/ferry-worker"),
                                       "standalone", path], stdout=log, stderr=subprocess.STDOUT,
                                      stdin=subprocess.DEVNULL)
        self.addCleanup(lambda: worker.poll() is None and worker.kill())

        def healthy():
            if worker.poll() is not None:
                with open(log_path) as f:
                    raise AssertionError(f"the packaged worker exited: {f.read()}")
            try:
                return fh.http_request("127.0.0.1", port, "GET", "/health", timeout=2).status == 200
            except OSError:
                return False
        wait_until(healthy, 30, "the packaged worker's /health")
        worker.terminate()
        code = worker.wait(timeout=30)
        with open(log_path) as f:
            log = f.read()
        self.assertEqual(code, 0, log)
        self.assertIn("Stopped cleanly", log)
        self.assertNotIn("was supplied but isn't a known config", log)


if __name__ == "__main__":
    BUILD_DIR, argv = fh.parse_args()
    unittest.main(argv=argv)
