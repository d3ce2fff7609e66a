"""Process helpers for bench/run.py: redis-server, ferry-kafka-dev, ferry-worker and the
baseline programs, each on free 127.0.0.1 ports, each with a deadline on every wait.

Every process started here is registered in PROCESSES; kill_all() (run at exit and on
SIGTERM/SIGINT by run.py) ends the ones still running, by their own pid.
"""

import http.client
import json
import os
import re
import selectors
import shutil
import signal
import socket
import subprocess
import time

PROCESSES = []  # every Popen started by this module


def kill_all():
    for p in PROCESSES:
        if p.poll() is None:
            try:
                p.kill()
                p.wait(timeout=5)
            except Exception:  # noqa: BLE001 - best effort at exit
                pass


def _popen(argv, **kw):
    p = subprocess.Popen(argv, **kw)
    PROCESSES.append(p)
    return p


def _stop(process, timeout=15.0):
    """SIGTERM, then SIGKILL after `timeout`; returns the exit code (None when killed)."""
    if process is None:
        return None
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    try:
        return process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        return None


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(predicate, timeout, what, interval=0.02):
    deadline = time.monotonic() + timeout
    last = None
    while True:
        try:
            value = predicate()
            if value:
                return value
        except Exception as e:  # noqa: BLE001 - "not yet"
            last = e
        if time.monotonic() >= deadline:
            raise BenchError(f"timed out after {timeout:.0f}s waiting for {what}"
                             + (f" (last error: {last!r})" if last else ""))
        time.sleep(interval)


class BenchError(RuntimeError):
    pass


def vmhwm_kb(pid):
    """Peak resident set size (VmHWM) of a live process, in kB."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return -1


def cpu_seconds(pid):
    """User + system CPU time of a live process (all its threads), in seconds."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def tail(path, chars=3000):
    try:
        with open(path, "r", errors="replace") as f:
            return f.read()[-chars:]
    except OSError:
        return ""


def _read_lines(process, count, timeout, what):
    """The first `count` stdout lines of `process`, without blocking past the deadline."""
    deadline = time.monotonic() + timeout
    data = b""
    fd = process.stdout.fileno()
    with selectors.DefaultSelector() as sel:
        sel.register(fd, selectors.EVENT_READ)
        while data.count(b"\n") < count:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise BenchError(f"{what} printed {data!r} within {timeout}s")
            if not sel.select(remaining):
                continue
            chunk = os.read(fd, 4096)
            if not chunk:
                process.wait(timeout=5)
                raise BenchError(f"{what} exited with {process.returncode} after printing {data!r}")
            data += chunk
    return data.decode().split("\n")[:count]


# ---------------------------------------------------------------------------------- redis

class RedisServer:
    """redis-server on a free loopback port, no persistence."""

    def __init__(self, tmp_dir, name="redis"):
        import redis  # noqa: PLC0415 - only the harness process needs it
        exe = shutil.which("redis-server")
        if not exe:
            raise BenchError("redis-server not found on PATH")
        self.port = free_port()
        self.log_path = os.path.join(tmp_dir, f"{name}-{self.port}.log")
        self._log = open(self.log_path, "ab")
        self.process = _popen([exe, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                               "--appendonly", "no", "--dir", tmp_dir, "--protected-mode", "no"],
                              stdin=subprocess.DEVNULL, stdout=self._log, stderr=subprocess.STDOUT)
        self.client = redis.Redis(host="127.0.0.1", port=self.port)

        def ready():
            if self.process.poll() is not None:
                raise BenchError(f"redis-server exited: {tail(self.log_path)}")
            return self.client.ping()
        wait_until(ready, 10, f"redis-server on port {self.port}")

    @property
    def uri(self):
        return f"redis://127.0.0.1:{self.port}"

    def command_calls(self, command):
        stats = self.client.info("commandstats")
        return int(stats.get(f"cmdstat_{command.lower()}", {}).get("calls", 0))

    def reset(self):
        """Empties every database and zeroes INFO commandstats."""
        self.client.flushall()
        self.client.config_resetstat()

    def stop(self):
        _stop(self.process, 10)
        self.client.close()
        self._log.close()


# ---------------------------------------------------------------------------------- kafka

class KafkaDev:
    """ferry-kafka-dev (librdkafka mock cluster) with topics created at start."""

    def __init__(self, binary, tmp_dir, topics):
        argv = [binary]
        for name, partitions in topics.items():
            argv += ["--topic", f"{name}:{partitions}"]
        self.stderr_path = os.path.join(tmp_dir, f"kafka-dev-{time.monotonic_ns()}.log")
        self._stderr = open(self.stderr_path, "ab")
        self.process = _popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                              stderr=self._stderr)
        lines = _read_lines(self.process, 2, 10, "ferry-kafka-dev")
        self.bootstrap = lines[0].strip()
        self.topics = dict(topics)
        self._observer = None

    def observer(self):
        """A consumer that never joins a group, for end offsets and committed offsets."""
        if self._observer is None:
            from confluent_kafka import Consumer  # noqa: PLC0415
            self._observer = Consumer({"bootstrap.servers": self.bootstrap,
                                       "group.id": "bench-observer",
                                       "enable.auto.commit": False, "log_level": 3})
        return self._observer

    def _partitions(self, topic):
        from confluent_kafka import TopicPartition  # noqa: PLC0415
        return [TopicPartition(topic, p) for p in range(self.topics[topic])]

    def end_offsets(self, topic, timeout=5.0):
        """{partition: end offset}, all partitions in one ListOffsets request."""
        from confluent_kafka import OFFSET_END, TopicPartition  # noqa: PLC0415
        tps = [TopicPartition(topic, p, OFFSET_END) for p in range(self.topics[topic])]
        out = {}
        for tp in self.observer().offsets_for_times(tps, timeout=timeout):
            if tp.error:
                raise BenchError(f"end offset of {topic}-{tp.partition}: {tp.error}")
            out[tp.partition] = tp.offset
        return out

    def record_count(self, topic):
        return sum(self.end_offsets(topic).values())

    def low_watermarks(self, topic):
        c = self.observer()
        return {tp.partition: c.get_watermark_offsets(tp, timeout=5, cached=False)[0]
                for tp in self._partitions(topic)}

    def committed(self, group, topic):
        """{partition: committed offset (negative when none)} of consumer group `group`."""
        from confluent_kafka import Consumer  # noqa: PLC0415
        c = Consumer({"bootstrap.servers": self.bootstrap, "group.id": group,
                      "enable.auto.commit": False, "log_level": 3})
        try:
            return {tp.partition: tp.offset
                    for tp in c.committed(self._partitions(topic), timeout=5)}
        finally:
            c.close()

    def stop(self):
        if self._observer is not None:
            self._observer.close()
            self._observer = None
        code = _stop(self.process, 10)
        self.process.stdout.close()
        self._stderr.close()
        return code


# ---------------------------------------------------------------------------------- ferry

class FerryWorker:
    """ferry-worker standalone with a properties file and log in `tmp_dir`."""

    def __init__(self, binary, tmp_dir, bootstrap, name, properties=None):
        self.port = free_port()
        self.log_path = os.path.join(tmp_dir, f"{name}.log")
        props = {
            "bootstrap.servers": bootstrap,
            "listeners": f"http://127.0.0.1:{self.port}",
            "offset.storage.file.filename": os.path.join(tmp_dir, f"{name}.offsets"),
            "offset.flush.interval.ms": "1000",
            "key.converter": "org.apache.kafka.connect.storage.StringConverter",
            "value.converter": "org.apache.kafka.connect.json.JsonConverter",
            "value.converter.schemas.enable": "false",
        }
        props.update(properties or {})
        self.properties_path = os.path.join(tmp_dir, f"{name}.properties")
        with open(self.properties_path, "w") as f:
            for k, v in props.items():
                f.write(f"{k}={v}\n")
        self._log = open(self.log_path, "ab")
        self.process = _popen([binary, "standalone", self.properties_path],
                              stdin=subprocess.DEVNULL, stdout=self._log,
                              stderr=subprocess.STDOUT)

        def up():
            if self.process.poll() is not None:
                raise BenchError(f"ferry-worker exited with {self.process.returncode}: "
                                 f"{tail(self.log_path)}")
            return self.request("GET", "/", timeout=2)[0] == 200
        wait_until(up, 30, f"ferry-worker REST API on port {self.port}")

    @property
    def pid(self):
        return self.process.pid

    def request(self, method, path, body=None, timeout=30.0):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            headers = {}
            data = None
            if body is not None:
                data = json.dumps(body).encode()
                headers["Content-Type"] = "application/json"
            conn.request(method, path, body=data, headers=headers)
            resp = conn.getresponse()
            raw = resp.read()
            try:
                parsed = json.loads(raw) if raw else None
            except ValueError:
                parsed = raw.decode(errors="replace")
            return resp.status, parsed
        finally:
            conn.close()

    def create_connector(self, name, config):
        status, body = self.request("POST", "/connectors", {"name": name, "config": config})
        if status != 201:
            raise BenchError(f"POST /connectors {name} answered {status}: {body}")

    def delete_connector(self, name):
        status, body = self.request("DELETE", f"/connectors/{name}")
        if status not in (200, 204):
            raise BenchError(f"DELETE /connectors/{name} answered {status}: {body}")

    def task_state(self, name):
        status, body = self.request("GET", f"/connectors/{name}/status", timeout=5)
        if status != 200:
            return None
        tasks = body.get("tasks") or []
        return tasks[0] if tasks else None

    def stop(self):
        code = _stop(self.process, 20)
        self._log.close()
        return code


# ---------------------------------------------------------------------------------- baselines

class Baseline:
    """A baseline program speaking the READY / GO / one-JSON-line protocol (see bridges/ and
    bare/). start() returns once it printed READY; go() releases it."""

    def __init__(self, argv, tmp_dir, name):
        self.name = name
        self.stderr_path = os.path.join(tmp_dir, f"{name}.stderr")
        self._stderr = open(self.stderr_path, "ab")
        self.process = _popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              stderr=self._stderr)
        line = _read_lines(self.process, 1, 30, name)[0]
        if line.strip() != "READY":
            raise BenchError(f"{name} printed {line!r} instead of READY")

    @property
    def pid(self):
        return self.process.pid

    def go(self):
        self.process.stdin.write(b"GO\n")
        self.process.stdin.flush()

    def result(self, timeout=60.0):
        """Waits for the exit and returns the JSON line it printed last."""
        try:
            out, _ = self.process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise BenchError(f"{self.name} did not finish within {timeout:.0f}s; "
                             f"stderr: {tail(self.stderr_path)}")
        finally:
            self._stderr.close()
        lines = [ln for ln in out.decode(errors="replace").splitlines() if ln.strip()]
        if self.process.returncode != 0 or not lines:
            raise BenchError(f"{self.name} exited with {self.process.returncode}; stdout: "
                             f"{lines[-3:]}; stderr: {tail(self.stderr_path)}")
        return json.loads(lines[-1])

    def kill(self):
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


# ---------------------------------------------------------------------------------- profiling

def _short_symbols(line):
    """Collapses the template arguments of nlohmann::basic_json and std::string in a symbol."""
    line = line.replace("std::__cxx11::basic_string<char, std::char_traits<char>, "
                        "std::allocator<char> >", "std::string")
    line = line.replace("nlohmann::json_abi_v3_11_2::", "nlohmann::")
    marker = "nlohmann::basic_json<"
    while marker in line:
        start = line.index(marker)
        i, depth = start + len(marker), 1
        while i < len(line) and depth:
            depth += {"<": 1, ">": -1}.get(line[i], 0)
            i += 1
        line = line[:start] + "json" + line[i:]
    return line


class PerfRecorder:
    """`perf record` attached to one process (e.g. ferry-worker) until stop()."""

    def __init__(self, pid, out_path, frequency=499):
        exe = shutil.which("perf")
        if not exe:
            raise BenchError("--perf needs perf on PATH (apt-get install -y linux-perf)")
        self.out_path = out_path
        self._log = open(out_path + ".log", "ab")
        self.process = _popen([exe, "record", "-F", str(frequency), "--call-graph", "dwarf,16384",
                               "-p", str(pid), "-o", out_path],
                              stdin=subprocess.DEVNULL, stdout=self._log, stderr=subprocess.STDOUT)
        time.sleep(0.5)  # let perf attach before the measured work starts
        if self.process.poll() is not None:
            raise BenchError(f"perf record exited with {self.process.returncode}: "
                             f"{tail(out_path + '.log')}")

    def stop(self):
        """Stops recording and writes OUT.txt (perf report, self time, 0.5% and up)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self._log.close()
        # Self time per symbol, then inclusive time (who calls the allocator); C++ template
        # names are long, so lines are cut at 200 characters.
        text = []
        for extra in (["--no-children", "--sort", "dso,symbol"],
                      ["--children", "--sort", "symbol"]):
            r = subprocess.run(["perf", "report", "-i", self.out_path, "--stdio",
                                "--percent-limit", "1", "-g", "none", *extra],
                               capture_output=True, text=True, errors="replace", timeout=600)
            text += [_short_symbols(ln).rstrip()[:200].rstrip() for ln in r.stdout.splitlines()
                     if ln.strip() and not ln.startswith("# (Tip")]
            text.append("")
        with open(self.out_path + ".txt", "w") as out:
            out.write("\n".join(text))
        return self.out_path + ".txt"


# ---------------------------------------------------------------------------------- callgrind

def callgrind_worker(worker_binary, tmp_dir, name):
    """(a program that runs `worker_binary` under valgrind's callgrind, the profile it writes on
    exit), for FerryWorker in place of the worker binary."""
    if not shutil.which("valgrind"):
        raise BenchError("callgrind needs valgrind (apt-get install -y valgrind)")
    out_file = os.path.join(tmp_dir, f"{name}.callgrind.out")
    wrapper = os.path.join(tmp_dir, f"{name}-callgrind")
    with open(wrapper, "w") as f:
        f.write(f"#!/bin/sh\nexec valgrind --tool=callgrind --callgrind-out-file={out_file} "
                f"{os.path.abspath(worker_binary)} \"$@\"\n")
    os.chmod(wrapper, 0o755)
    return wrapper, out_file


SINK_TASK_THREAD = "ferry::core::sink_task_runner::run("


def callgrind_costs(out_file, counted=lambda file, function: False):
    """(all instructions, the sink task thread's, those of the file:function pairs `counted`
    accepts) of a callgrind profile, from callgrind_annotate's inclusive costs. `counted` must
    not accept a function and one it calls: their costs would be counted twice."""
    text = subprocess.run(["callgrind_annotate", "--inclusive=yes", "--threshold=100", "--auto=no",
                           out_file], check=True, capture_output=True, text=True).stdout
    total = task = chosen = 0
    line_re = re.compile(r"^\s*([\d,]+) \(\s*[\d.]+%\)\s+(.*)$")
    for line in text.splitlines():
        m = line_re.match(line)
        if not m:
            continue
        cost, what = int(m.group(1).replace(",", "")), m.group(2)
        if what.startswith("PROGRAM TOTALS"):
            total = cost
            continue
        file, _, function = what.partition(":")
        if function.startswith(SINK_TASK_THREAD) and file.endswith("sink_task_runner.cpp"):
            task = cost
        if counted(file, function):
            chosen += cost
    if not total or not task:
        raise BenchError(f"no program total or no {SINK_TASK_THREAD}...) in {out_file}: was the "
                         "sink task's loop renamed?")
    return total, task, chosen
