"""Shared helpers for ferry's integration tests (stdlib + CLI clients only).

Every test starts its own processes on free loopback ports and waits on conditions with
deadlines; nothing sleeps for a fixed time to "let things settle".

    BUILD_DIR, argv = parse_args()                     # --build-dir; the rest for unittest
    ...
    def setUp(self):
        tmp = tempfile.TemporaryDirectory(); self.addCleanup(tmp.cleanup)
        redis, kafka, worker = start_stack(self, BUILD_DIR, tmp.name)  # cleanups registered
        status, body, headers = worker.post("/connectors", {"name": ..., "config": ...})
        wait_until(lambda: redis.cli("EXISTS", "k") == "1", 30, "key k in Redis")

Pieces: free_port, wait_until (+ GiveUp), RedisServer (.cli, .pipe, .command_calls),
kafka_dev (a KafkaDev from kafka_dev.py), Worker (properties file, start/terminate/kill9,
REST calls, offsets file), kcat_consume / kcat_produce / kafka_end_offsets.

The environment (ASAN_OPTIONS and friends) is passed through to every child untouched.
"""

import argparse
import atexit
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from kafka_dev import KafkaDev, KafkaDevError  # noqa: E402,F401  (re-exported)

KCAT = shutil.which("kcat") or "kcat"
REDIS_SERVER = shutil.which("redis-server") or "redis-server"
REDIS_CLI = shutil.which("redis-cli") or "redis-cli"

STRING_CONVERTER = "org.apache.kafka.connect.storage.StringConverter"
JSON_CONVERTER = "org.apache.kafka.connect.json.JsonConverter"
SOURCE_CLASS = "com.redis.kafka.connect.RedisStreamSourceConnector"
SOURCE_CLASS_FERRY = "ferry.redis.RedisStreamSourceConnector"
SINK_CLASS = "ferry.redis.RedisSinkConnector"
SINK_CLASS_ALIAS = "com.redis.kafka.connect.RedisSinkConnector"

# What a crashed or sanitizer-flagged process leaves in its output.
CRASH_MARKERS = ("Segmentation fault", "terminate called", "AddressSanitizer", "LeakSanitizer",
                 "UndefinedBehaviorSanitizer", "ThreadSanitizer", "runtime error:",
                 "SUMMARY: ")


# Every process started here, so that none outlives the test run even when a test is
# interrupted before its cleanups run.
_STARTED = []


def _popen(*args, **kwargs):
    process = subprocess.Popen(*args, **kwargs)
    _STARTED.append(process)
    return process


@atexit.register
def _kill_leftovers():
    for process in _STARTED:
        if process.poll() is None:
            process.kill()
            process.wait()


# ---------------------------------------------------------------- command line / build dir

def parse_args(argv=None):
    """Returns (build_dir, remaining argv for unittest.main)."""
    argv = list(sys.argv if argv is None else argv)
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--build-dir", default=os.environ.get("FERRY_BUILD_DIR"))
    args, rest = parser.parse_known_args(argv[1:])
    build = args.build_dir
    if not build:
        here = os.path.dirname(os.path.abspath(__file__))
        build = os.path.normpath(os.path.join(here, "..", "..", "build"))
    build = os.path.abspath(build)
    global BUILD_DIR
    BUILD_DIR = build
    return build, [argv[0]] + rest


BUILD_DIR = None  # set by parse_args(), for StackTest


def sanitized_build(build_dir):
    """True for a build configured with FERRY_SANITIZE (ASan + UBSan), which e.g. valgrind
    cannot run."""
    with open(os.path.join(build_dir, "CMakeCache.txt")) as f:
        return any(line.strip() == "FERRY_SANITIZE:BOOL=ON" for line in f)


class StackTest(unittest.TestCase):
    """A test with its own redis-server, dev broker and standalone worker, started in setUp as
    self.redis, self.kafka, self.worker (temp dir self.dir). tearDown requires a clean stop:
    exit code 0 and a log free of crashes and sanitizer reports. A subclass may set WORKER_KW
    (start_stack's worker arguments, e.g. program= or properties=)."""

    WORKER_KW = {}
    # Tests that restart a sink or add consumers to its group set this: the dev broker's
    # group rebalances then take a couple of seconds instead of most of a minute.
    SHORT_SESSIONS = {"consumer.session.timeout.ms": "3000",
                      "consumer.heartbeat.interval.ms": "500"}

    def setUp(self):
        tmp = tempfile.TemporaryDirectory(prefix="ferry-" + type(self).__name__ + "-")
        self.addCleanup(tmp.cleanup)
        self.dir = tmp.name
        self.redis, self.kafka, self.worker = start_stack(self, BUILD_DIR, tmp.name,
                                                          **self.WORKER_KW)

    def tearDown(self):
        if self.worker.running():
            code, _ = self.worker.terminate(timeout=30)
            self.assertEqual(code, 0, self.worker.log_text(tail=4000))
        self.assertEqual(self.worker.crash_markers(), [], self.worker.log_text(tail=6000))


def write_credentials(build_dir, path, user, password):
    """A basic-auth credentials file (rest.basic.auth.credentials.file) with one user, its
    password hashed by `ferry-worker hash-password`; returns the hash."""
    hashed = subprocess.run([binary(build_dir, "ferry-worker"), "hash-password"],
                            input=password + "\n", capture_output=True, text=True, check=True,
                            timeout=30).stdout.strip()
    with open(path, "w") as f:
        f.write(f"# ferry users\n{user}:{hashed}\n")
    return hashed


def binary(build_dir, name):
    """Path of an executable in the build dir; fails clearly when it is missing."""
    for candidate in (os.path.join(build_dir, name),
                      os.path.join(build_dir, "runtime", "app", name)):
        if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    raise AssertionError(f"{name} not found in build dir {build_dir}; build it first "
                         f"(ninja -C {build_dir} {name})")


# ---------------------------------------------------------------- one-shot worker runs

def run_worker_once(build_dir, tmp_dir, properties, mode="standalone", timeout=30):
    """Runs ferry-worker `mode` with a properties file holding `properties` (plus a free loopback
    listener and, for standalone, an offsets file in `tmp_dir`, unless given) and waits for it
    to exit: for configurations the worker must refuse. Returns the CompletedProcess."""
    props = {"listeners": f"http://127.0.0.1:{free_port()}"}
    if mode == "standalone":
        props["offset.storage.file.filename"] = os.path.join(tmp_dir, "o")
    props.update(properties)
    path = os.path.join(tmp_dir, "once.properties")
    with open(path, "w") as f:
        for k, v in props.items():
            f.write(f"{k}={v}\n")
    return subprocess.run([binary(build_dir, "ferry-worker"), mode, path], capture_output=True,
                          text=True, timeout=timeout)


# ---------------------------------------------------------------- waiting / ports

def free_port():
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class GiveUp(AssertionError):
    """Raised by a wait_until predicate to stop waiting at once (e.g. a task FAILED)."""


def wait_until(predicate, timeout=30.0, what="condition", interval=0.05):
    """Polls predicate() until it returns a truthy value (which is returned).

    Raises AssertionError naming `what` (and the last exception the predicate raised) after
    `timeout` seconds. Exceptions from the predicate count as "not yet", except GiveUp, which
    is passed on at once."""
    deadline = time.monotonic() + timeout
    last_error = None
    while True:
        try:
            value = predicate()
            if value:
                return value
        except GiveUp:
            raise
        except Exception as e:  # noqa: BLE001 - a condition may fail while things converge
            last_error = e
        if time.monotonic() >= deadline:
            break
        time.sleep(interval)
    detail = f"; last error: {last_error!r}" if last_error is not None else ""
    raise AssertionError(f"timed out after {timeout}s waiting for {what}{detail}")


_STREAM_ID = re.compile(r"^\d+-\d+$")


def stream_id_like(text):
    """True when `text` has the form of a stream entry id (e.g. a line of redis-cli --raw
    XRANGE output)."""
    return bool(_STREAM_ID.match(text))


def stream_id(text):
    """A Redis stream entry id as a comparable (ms, seq) tuple."""
    ms, _, seq = str(text).partition("-")
    return int(ms), int(seq or 0)


# ---------------------------------------------------------------- redis

class RedisServer:
    """A private redis-server on a free loopback port, data in `tmp_dir`, no persistence."""

    def __init__(self, tmp_dir, port=None, start_timeout=10.0):
        self.tmp_dir = tmp_dir
        self.port = port or free_port()
        self.log_path = os.path.join(tmp_dir, f"redis-{self.port}.log")
        self.process = None
        self.start(start_timeout)

    @property
    def uri(self):
        return f"redis://127.0.0.1:{self.port}"

    def start(self, timeout=10.0):
        self._log = open(self.log_path, "ab")
        self.process = _popen(
            [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", self.tmp_dir, "--protected-mode", "no"],
            stdin=subprocess.DEVNULL, stdout=self._log, stderr=subprocess.STDOUT)

        def ready():
            if self.process.poll() is not None:
                raise AssertionError(f"redis-server exited with {self.process.returncode}: "
                                     f"{self.log_text()}")
            return self.cli("PING", check=False) == "PONG"
        try:
            wait_until(ready, timeout, f"redis-server on port {self.port} to answer PING")
        except BaseException:
            self.stop()
            raise

    def log_text(self):
        try:
            with open(self.log_path, "r", errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def cli(self, *args, input=None, check=True, timeout=30, strip=True):
        """Runs redis-cli with `args`; returns stdout without the trailing newline (all of it
        with strip=False)."""
        argv = [REDIS_CLI, "-h", "127.0.0.1", "-p", str(self.port), *map(str, args)]
        result = subprocess.run(argv, input=input, capture_output=True, text=True,
                                timeout=timeout)
        if check and (result.returncode != 0 or result.stdout.startswith("ERR")):
            raise AssertionError(f"redis-cli {' '.join(map(str, args))} failed "
                                 f"({result.returncode}): {result.stdout}{result.stderr}")
        return result.stdout.rstrip("\n") if strip else result.stdout

    def cli_lines(self, *args, **kw):
        out = self.cli(*args, **kw)
        return out.split("\n") if out else []

    def pipe(self, commands, timeout=120):
        """Sends many commands (lists of arguments) with `redis-cli --pipe` in RESP form."""
        chunks = []
        for cmd in commands:
            parts = [c if isinstance(c, bytes) else str(c).encode() for c in cmd]
            chunks.append(b"*%d\r\n" % len(parts))
            for p in parts:
                chunks.append(b"$%d\r\n%s\r\n" % (len(p), p))
        data = b"".join(chunks)
        result = subprocess.run([REDIS_CLI, "-h", "127.0.0.1", "-p", str(self.port), "--pipe"],
                                input=data, capture_output=True, timeout=timeout)
        out = result.stdout.decode(errors="replace")
        if result.returncode != 0 or "errors: 0" not in out:
            raise AssertionError(f"redis-cli --pipe failed ({result.returncode}): {out} "
                                 f"{result.stderr.decode(errors='replace')}")
        return out

    def info(self, section):
        """INFO <section> as a dict of key -> raw value."""
        out = {}
        for line in self.cli("INFO", section).splitlines():
            line = line.strip()
            if line and not line.startswith("#") and ":" in line:
                k, _, v = line.partition(":")
                out[k] = v
        return out

    def command_calls(self, command):
        """How many times `command` ran (INFO commandstats), 0 when it never ran."""
        stat = self.info("commandstats").get(f"cmdstat_{command.lower()}")
        if not stat:
            return 0
        m = re.search(r"calls=(\d+)", stat)
        return int(m.group(1)) if m else 0

    def stop(self):
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if getattr(self, "_log", None) is not None:
            self._log.close()
            self._log = None


# ---------------------------------------------------------------- kafka via kcat

def _kcat(*args, input=None, timeout=60):
    result = subprocess.run([KCAT, *args], input=input, capture_output=True, timeout=timeout)
    if result.returncode != 0:
        raise AssertionError(f"kcat {' '.join(args)} failed ({result.returncode}): "
                             f"{result.stderr.decode(errors='replace')}")
    return result.stdout.decode()


def kcat_consume_json(bootstrap, topic, timeout=120):
    """Every message of `topic` (all partitions, from the start) as kcat -J dicts."""
    out = _kcat("-C", "-b", bootstrap, "-t", topic, "-o", "beginning", "-e", "-q", "-J",
                timeout=timeout)
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def kcat_consume(bootstrap, topic, timeout=120):
    """Every message of `topic` as (key, value) strings (None for a missing key / tombstone)."""
    return [(m.get("key"), m.get("payload")) for m in kcat_consume_json(bootstrap, topic, timeout)]


def kcat_produce(bootstrap, topic, records, partition=None, extra=(), timeout=120):
    """Produces (key, value) pairs; value None is a tombstone (kcat -Z), key None sends no key.
    A str value is sent as is (so a JSON string must be given as json.dumps("text")); any
    other value is sent as its JSON text.

    Keys go through the default (key-hashing) partitioner unless `partition` is given, so
    records with the same key keep their order. Keys and values must not contain tab/newline.
    `extra` is more kcat arguments (e.g. ["-X", "batch.num.messages=100"])."""
    lines = []
    for key, value in records:
        k = "" if key is None else str(key)
        v = "" if value is None else (value if isinstance(value, str) else json.dumps(value))
        if "\t" in k + v or "\n" in k + v:
            raise ValueError(f"tab or newline in record {key!r}: {value!r}")
        lines.append(f"{k}\t{v}\n")
    args = ["-P", "-b", bootstrap, "-t", topic, "-K", "\t", "-Z"]
    if partition is not None:
        args += ["-p", str(partition)]
    args += list(extra)
    _kcat(*args, input="".join(lines).encode(), timeout=timeout)


def kafka_partitions(bootstrap, topic):
    """Partition ids of `topic`, or [] when the broker does not know it."""
    doc = json.loads(_kcat("-L", "-J", "-b", bootstrap, "-t", topic, "-m", "5"))
    for t in doc.get("topics", []):
        if t.get("topic") == topic and not t.get("error"):
            return sorted(p["partition"] for p in t.get("partitions", []))
    return []


def kafka_end_offsets(bootstrap, topic, partitions=None):
    """{partition: high watermark} of `topic` (kcat -Q with offset -1)."""
    parts = partitions if partitions is not None else kafka_partitions(bootstrap, topic)
    if not parts:
        return {}
    args = ["-Q", "-J", "-b", bootstrap]
    for p in parts:
        args += ["-t", f"{topic}:{p}:-1"]
    doc = json.loads(_kcat(*args))
    out = {}
    for key, value in doc.get(topic, {}).items():
        if isinstance(value, dict) and "offset" in value:
            out[int(value["partition"])] = int(value["offset"])
    return out


def kafka_message_count(bootstrap, topic):
    """Records in `topic` (sum of end offsets: the dev broker does not compact or trim below
    its ~5 MB per-partition limit)."""
    return sum(kafka_end_offsets(bootstrap, topic).values())


def committed_offsets(bootstrap, group, topic, partitions):
    """The group's committed offsets {partition: offset} (OffsetFetch, no group join); a
    partition without a committed offset reads as a negative number. Needs confluent_kafka
    (python3-confluent-kafka, installed by deploy/install-deps.sh)."""
    import confluent_kafka
    consumer = confluent_kafka.Consumer({"bootstrap.servers": bootstrap, "group.id": group,
                                         "enable.auto.commit": False})
    try:
        tps = consumer.committed([confluent_kafka.TopicPartition(topic, p) for p in partitions],
                                 timeout=10)
    finally:
        consumer.close()
    return {tp.partition: tp.offset for tp in tps}


# ---------------------------------------------------------------- the worker

class HttpResult(tuple):
    """(status, body, headers) with attribute access; body is parsed JSON when possible."""

    def __new__(cls, status, body, headers):
        return super().__new__(cls, (status, body, headers))

    status = property(lambda self: self[0])
    body = property(lambda self: self[1])
    headers = property(lambda self: self[2])


def http_request(host, port, method, path, body=None, headers=None, timeout=30.0):
    """One request on a NEW connection, like curl. `body` may be a JSON-able object, str or
    bytes; objects are sent as application/json. Returns HttpResult(status, body, headers)
    with lower-case header names."""
    hdrs = dict(headers or {})
    data = None
    if body is not None:
        if isinstance(body, (bytes, bytearray)):
            data = bytes(body)
        elif isinstance(body, str):
            data = body.encode()
        else:
            data = json.dumps(body).encode()
            hdrs.setdefault("Content-Type", "application/json")
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        conn.request(method, path, body=data, headers=hdrs)
        resp = conn.getresponse()
        raw = resp.read()
        resp_headers = {k.lower(): v for k, v in resp.getheaders()}
        status = resp.status
    finally:
        conn.close()
    text = raw.decode(errors="replace")
    parsed = text
    if text:
        try:
            parsed = json.loads(text)
        except ValueError:
            parsed = text
    else:
        parsed = None
    return HttpResult(status, parsed, resp_headers)


class Worker:
    """ferry-worker (standalone or dev) with its own properties file and log in `tmp_dir`.

    Files: <tmp>/<name>.properties, <tmp>/<name>.offsets (offset.storage.file.filename; the
    connector configs go to <offsets>.connectors.json), <tmp>/<name>.log (stdout+stderr of every
    run, appended). start() can be called again after terminate()/kill9() to restart with the
    same files."""

    def __init__(self, build_dir, tmp_dir, bootstrap=None, name="worker", port=None,
                 properties=None, mode="standalone", connector_files=(), start=True,
                 start_timeout=30.0, flush_interval_ms=1000, program="ferry-worker"):
        # program: "ferry-worker", or "ferry-worker-test" (adds the instrumented test
        # connectors of tests/support/test_connectors.cpp)
        self.exe = binary(build_dir, program)
        self.tmp_dir = tmp_dir
        self.name = name
        self.mode = mode
        self.port = port or free_port()
        self.offsets_path = os.path.join(tmp_dir, f"{name}.offsets")
        self.properties_path = os.path.join(tmp_dir, f"{name}.properties")
        self.log_path = os.path.join(tmp_dir, f"{name}.log")
        self.connector_files = list(connector_files)
        self.process = None
        self.runs = 0
        props = {
            "listeners": f"http://127.0.0.1:{self.port}",
            "offset.storage.file.filename": self.offsets_path,
            "offset.flush.interval.ms": str(flush_interval_ms),
            "key.converter": STRING_CONVERTER,
            "value.converter": JSON_CONVERTER,
            "value.converter.schemas.enable": "false",
            "task.shutdown.graceful.timeout.ms": "5000",
        }
        if bootstrap:
            props["bootstrap.servers"] = bootstrap
        props.update(properties or {})
        self.properties = props
        self.write_properties()
        if start:
            self.start(start_timeout)

    @property
    def worker_id(self):
        return f"127.0.0.1:{self.port}"

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def write_properties(self):
        with open(self.properties_path, "w") as f:
            for k, v in self.properties.items():
                f.write(f"{k}={v}\n")

    def start(self, timeout=30.0):
        """Starts the process and waits until `GET /health` answers 200 (it needs no
        credentials, so this works with authentication on too)."""
        if self.process is not None and self.process.poll() is None:
            raise AssertionError("worker already running")
        self.runs += 1
        with open(self.log_path, "ab") as log:
            banner = f"\n===== run {self.runs}: {self.mode} {self.properties_path} =====\n"
            log.write(banner.encode())
            log.flush()
            self.process = _popen(
                [self.exe, self.mode, self.properties_path, *self.connector_files],
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)

        def up():
            if self.process.poll() is not None:
                raise AssertionError(f"ferry-worker exited with {self.process.returncode} "
                                     f"during start-up; log:\n{self.log_text(tail=4000)}")
            return self.get("/health", timeout=2.0).status == 200
        try:
            wait_until(up, timeout, f"ferry-worker REST API at {self.url}")
        except BaseException:
            self.kill9()
            raise
        return self

    def running(self):
        return self.process is not None and self.process.poll() is None

    # ---- REST

    def request(self, method, path, body=None, headers=None, timeout=30.0):
        return http_request("127.0.0.1", self.port, method, path, body, headers, timeout)

    def get(self, path, headers=None, timeout=30.0):
        return self.request("GET", path, None, headers, timeout)

    def post(self, path, body=None, headers=None, timeout=30.0):
        return self.request("POST", path, body, headers, timeout)

    def put(self, path, body=None, headers=None, timeout=30.0):
        return self.request("PUT", path, body, headers, timeout)

    def delete(self, path, body=None, headers=None, timeout=30.0):
        return self.request("DELETE", path, body, headers, timeout)

    def create_connector(self, name, config):
        """POST /connectors, insisting on 201."""
        r = self.post("/connectors", {"name": name, "config": config})
        if r.status != 201:
            raise AssertionError(f"creating connector {name} answered {r.status}: {r.body}")
        return r

    def status(self, name):
        r = self.get(f"/connectors/{name}/status")
        return r.body if r.status == 200 else None

    def wait_running(self, name, tasks=1, timeout=30.0, state="RUNNING"):
        """Waits until the connector and `tasks` tasks report `state`; returns the status."""
        last = {}

        def check():
            if not self.running():
                raise GiveUp(f"ferry-worker exited with {self.process.returncode}; log:\n"
                             f"{self.log_text(tail=4000)}")
            s = last["status"] = self.status(name)
            if not s or s["connector"]["state"] != state:
                return None
            ts = s.get("tasks", [])
            if len(ts) < tasks or any(t["state"] != state for t in ts):
                return None
            return s
        try:
            return wait_until(check, timeout, f"connector {name} and {tasks} task(s) to be {state}")
        except GiveUp:
            raise
        except AssertionError as e:
            raise AssertionError(f"{e}; last status: {last.get('status')}") from None

    def check_not_failed(self, *names):
        """Raises GiveUp (ends a wait_until at once) when the worker died or a connector or
        task of `names` is FAILED."""
        if not self.running():
            raise GiveUp(f"ferry-worker exited with {self.process.returncode}; log:\n"
                         f"{self.log_text(tail=4000)}")
        for name in names:
            s = self.status(name)
            if not s:
                continue
            states = [s["connector"]] + list(s.get("tasks", []))
            failed = [x for x in states if x.get("state") == "FAILED"]
            if failed:
                raise GiveUp(f"connector {name} has FAILED parts: {failed}")

    # ---- lifecycle

    def terminate(self, timeout=30.0):
        """SIGTERM; returns (exit code, seconds until exit). Kills it after `timeout`."""
        if self.process is None:
            return None, 0.0
        start = time.monotonic()
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            code = self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            code = self.process.wait()
            return None, time.monotonic() - start
        return code, time.monotonic() - start

    def kill9(self):
        """SIGKILL (no cleanup in the worker at all); returns the exit code."""
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.kill()
        return self.process.wait()

    def log_text(self, tail=None):
        try:
            with open(self.log_path, "r", errors="replace") as f:
                text = f.read()
        except OSError:
            return ""
        return text[-tail:] if tail else text

    def read_offsets(self):
        """The offsets file as {(connector, json partition): value}, {} when absent."""
        try:
            with open(self.offsets_path) as f:
                doc = json.load(f)
        except FileNotFoundError:
            return {}
        return {(e["key"][0], json.dumps(e["key"][1], sort_keys=True)): e["value"]
                for e in doc.get("offsets", [])}

    def source_offset(self, connector, stream):
        """The committed stream entry id of `stream`, or None."""
        key = (connector, json.dumps({"stream": stream}, sort_keys=True))
        value = self.read_offsets().get(key)
        return value.get("offset") if isinstance(value, dict) else None

    def crash_markers(self):
        text = self.log_text()
        return [m for m in CRASH_MARKERS if m in text]

    def close(self):
        """Cleanup path, safe to call twice: stops a still running worker the way an operator
        would (SIGTERM), then fails the test if it did not exit 0 in time, or if its log shows a
        crash or a sanitizer report (so every test also checks the sanitizer build's verdict)."""
        problem = None
        if self.process is not None and self.process.poll() is None:
            code, seconds = self.terminate(timeout=20.0)
            if code != 0:
                problem = f"exit code {code} after SIGTERM ({seconds:.1f} s)"
        markers = self.crash_markers()
        if markers:
            problem = f"its log shows {markers}"
        if problem:
            raise AssertionError(f"{self.name}: {problem}\n{self.log_text(tail=8000)}")


def dump_on_failure(testcase, *things):
    """Registers a cleanup that prints the logs of `things` (Workers, RedisServers, KafkaDevs)
    when `testcase` failed. Register it after the cleanups that stop them: cleanups run last
    in, first out, so the logs are dumped while everything is still there."""
    def dump():
        # Inside a cleanup, unittest resets _outcome.success; the result lists are reliable.
        result = getattr(getattr(testcase, "_outcome", None), "result", None)
        failed = [t for t, _ in getattr(result, "failures", []) + getattr(result, "errors", [])]
        if not any(t is testcase for t in failed):
            return
        for t in things:
            if isinstance(t, Worker):
                sys.stderr.write(f"\n----- {t.name} log ({t.log_path}) -----\n"
                                 f"{t.log_text(tail=20000)}\n")
            elif isinstance(t, RedisServer):
                sys.stderr.write(f"\n----- redis {t.port} log -----\n{t.log_text()[-4000:]}\n")
            elif isinstance(t, KafkaDev):
                sys.stderr.write(f"\n----- ferry-kafka-dev stderr -----\n{t.stderr()[-4000:]}\n")
    testcase.addCleanup(dump)


def kafka_dev(build_dir, **kwargs):
    """A ferry-kafka-dev from `build_dir` (see kafka_dev.KafkaDev), killed at exit at the latest."""
    kafka = KafkaDev(binary(build_dir, "ferry-kafka-dev"), **kwargs)
    _STARTED.append(kafka.process)
    return kafka


def start_stack(testcase, build_dir, tmp_dir, worker=True, **worker_kw):
    """Starts redis-server + ferry-kafka-dev (+ a standalone worker), registering cleanups.
    Returns (redis, kafka, worker or None)."""
    redis = RedisServer(tmp_dir)
    testcase.addCleanup(redis.stop)
    kafka = kafka_dev(build_dir)
    testcase.addCleanup(stop_kafka, kafka)
    w = None
    if worker:
        w = Worker(build_dir, tmp_dir, kafka.bootstrap, start=False, **worker_kw)
        testcase.addCleanup(w.close)
        dump_on_failure(testcase, w, redis, kafka)
        w.start()
    else:
        dump_on_failure(testcase, redis, kafka)
    return redis, kafka, w


def stop_kafka(kafka):
    """Stops ferry-kafka-dev, reporting (not raising) an unclean exit."""
    try:
        kafka.stop(timeout=10)
    except KafkaDevError as e:
        sys.stderr.write(f"ferry-kafka-dev did not stop cleanly: {e}\n")


def source_config(redis, stream, topic=None, **extra):
    cfg = {"connector.class": SOURCE_CLASS, "tasks.max": "1", "redis.uri": redis.uri,
           "redis.stream.name": stream}
    if topic:
        cfg["topic"] = topic
    cfg.update({k.replace("_", "."): str(v) for k, v in extra.items()})
    return cfg


def sink_config(redis, topics, redis_type, **extra):
    cfg = {"connector.class": SINK_CLASS, "tasks.max": "1", "redis.uri": redis.uri,
           "topics": topics, "redis.type": redis_type}
    cfg.update({k.replace("_", "."): str(v) for k, v in extra.items()})
    return cfg
