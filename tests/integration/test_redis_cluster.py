"""Redis Cluster: ferry's cluster client routes every write to the master owning its slot, and
keeps every write (in order) while slots move between masters (MOVED/ASK).

A real 3-master cluster (redis-server --cluster-enabled yes, redis-cli --cluster create) on
loopback; slots are moved with redis-cli --cluster reshard while data flows. The data is
checked with redis-cli on every master.

    /usr/bin/python3 tests/integration/test_redis_cluster.py --build-dir BUILD [-v] [-k name]

test_client_keeps_every_write_while_slots_move drives the client directly, through the
live-workload case of the unit test binary (tests/unit/clients/redis_cluster_test.cpp).
test_sink_writes_every_record_while_slots_move goes through a worker and a
ferry.redis.RedisSinkConnector with redis.cluster=true; it is skipped while the connector's
config validation still refuses redis.cluster=true.
"""

import os
import re
import subprocess
import sys
import tempfile
import threading
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
import ferry_harness as fh  # noqa: E402
from ferry_harness import wait_until  # noqa: E402

BUILD_DIR = None
KEYS = 100_000
RESHARD_SLOTS = 2000


class RedisCluster:
    """Three redis-server masters in one cluster on free loopback ports (data in `tmp_dir`)."""

    def __init__(self, tmp_dir, masters=3):
        self.tmp_dir = tmp_dir
        self.ports = []
        self.processes = []
        self.logs = []
        self.argv = {}
        for _ in range(masters):
            # A free port can be taken by a parallel test before redis-server binds it: then
            # try other ports (up to 3 times) instead of failing the test.
            for attempt in range(3):
                port, bus = fh.free_port(), fh.free_port()
                self.argv[port] = [
                    fh.REDIS_SERVER, "--port", str(port), "--bind", "127.0.0.1",
                    "--cluster-enabled", "yes", "--cluster-port", str(bus),
                    "--cluster-config-file", os.path.join(tmp_dir, f"nodes-{port}.conf"),
                    "--cluster-node-timeout", "5000", "--appendonly", "no", "--save", "",
                    "--dir", tmp_dir, "--protected-mode", "no"]
                process = self.spawn(port)

                def up(port=port, process=process):
                    if process.poll() is not None:
                        raise fh.GiveUp(f"redis-server {port} exited: {self.log_text(port)}")
                    return self.cli(port, "PING", check=False) == "PONG"
                try:
                    wait_until(up, 10, f"redis-server {port} to answer PING")
                    break
                except fh.GiveUp as e:
                    if attempt == 2 or "Address already in use" not in str(e):
                        raise
            self.ports.append(port)
            self.processes.append(process)
        out = self.run_cli("--cluster", "create", *[f"127.0.0.1:{p}" for p in self.ports],
                           "--cluster-replicas", "0", "--cluster-yes", timeout=60)
        if "[OK] All 16384 slots covered" not in out:
            raise AssertionError(f"redis-cli --cluster create: {out}")
        wait_until(lambda: all("cluster_state:ok" in self.cli(p, "CLUSTER", "INFO")
                               for p in self.ports), 30, "cluster_state:ok on every node")
        self.ids = {p: self.cli(p, "CLUSTER", "MYID") for p in self.ports}

    def spawn(self, port):
        log = open(os.path.join(self.tmp_dir, f"redis-{port}.log"), "ab")
        self.logs.append(log)
        return fh._popen(self.argv[port], stdin=subprocess.DEVNULL, stdout=log,
                         stderr=subprocess.STDOUT)

    def kill(self, port):
        """SIGKILLs master `port` (its cluster config file stays)."""
        process = self.processes[self.ports.index(port)]
        process.kill()
        process.wait()

    def restart(self, port):
        """Starts master `port` again from its cluster config file; waits for cluster_state:ok
        on every node."""
        self.processes[self.ports.index(port)] = self.spawn(port)
        wait_until(lambda: all("cluster_state:ok" in self.cli(p, "CLUSTER", "INFO", check=False)
                               for p in self.ports), 30, "cluster_state:ok after a restart")

    def log_text(self, port):
        with open(os.path.join(self.tmp_dir, f"redis-{port}.log"), errors="replace") as f:
            return f.read()[-4000:]

    def cli(self, port, *args, check=True, input=None, timeout=30):
        result = subprocess.run([fh.REDIS_CLI, "-h", "127.0.0.1", "-p", str(port), *args],
                                input=input, capture_output=True, text=True, timeout=timeout)
        if check and (result.returncode != 0 or result.stdout.startswith("ERR")):
            raise AssertionError(f"redis-cli -p {port} {' '.join(args)} failed "
                                 f"({result.returncode}): {result.stdout}{result.stderr}")
        return result.stdout.rstrip("\n")

    def run_cli(self, *args, timeout=120):
        result = subprocess.run([fh.REDIS_CLI, *args], capture_output=True, text=True,
                                timeout=timeout)
        if result.returncode != 0:
            raise AssertionError(f"redis-cli {' '.join(args)} failed ({result.returncode}): "
                                 f"{result.stdout[-3000:]}{result.stderr[-3000:]}")
        return result.stdout

    def reshard(self, source, target, slots):
        """Starts moving `slots` slots from master `source` to master `target` (ports);
        returns the redis-cli process."""
        return fh._popen(
            [fh.REDIS_CLI, "--cluster", "reshard", f"127.0.0.1:{self.ports[0]}",
             "--cluster-from", self.ids[source], "--cluster-to", self.ids[target],
             "--cluster-slots", str(slots), "--cluster-yes"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)

    def slots_of(self, port):
        """How many slots master `port` serves (CLUSTER NODES as seen by that node)."""
        for line in self.cli(port, "CLUSTER", "NODES").splitlines():
            fields = line.split()
            if "myself" in fields[2]:
                count = 0
                for r in fields[8:]:
                    if r.startswith("["):
                        continue  # a slot being migrated: listed again as a range
                    a, _, b = r.partition("-")
                    count += int(b or a) - int(a) + 1
                return count
        return 0

    def redirections(self):
        """{"MOVED": n, "ASK": n, ...}: the errors the masters answered (INFO errorstats)."""
        counts = {}
        for p in self.ports:
            for line in self.cli(p, "INFO", "errorstats").splitlines():
                m = re.match(r"errorstat_(\w+):count=(\d+)", line.strip())
                if m:
                    counts[m.group(1)] = counts.get(m.group(1), 0) + int(m.group(2))
        return counts

    def dbsize(self):
        return sum(int(self.cli(p, "DBSIZE")) for p in self.ports)

    def contents(self):
        """Every key and its value, read from each master (SCAN, then GET in one pipe)."""
        data = {}
        for p in self.ports:
            keys = [k for k in self.cli(p, "--scan", timeout=120).split("\n") if k]
            if not keys:
                continue
            out = self.cli(p, "--raw", input="".join(f"GET {k}\n" for k in keys), timeout=120)
            values = out.split("\n")
            if len(values) != len(keys):
                raise AssertionError(f"{len(keys)} keys but {len(values)} values on {p}")
            for k, v in zip(keys, values):
                if k in data:
                    raise AssertionError(f"key {k} on two masters")
                data[k] = v
        return data

    def stop(self):
        for process in self.processes:
            if process.poll() is None:
                process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        for log in self.logs:
            log.close()


def report_file_numbers(path):
    """(rounds, batches retried) from the workload's report file."""
    with open(path) as f:
        rounds, io_errors = map(int, f.read().split())
    return rounds, io_errors


def slot_owner(cluster, slot):
    """The port of the master serving `slot` (CLUSTER NODES as p1 sees it)."""
    for line in cluster.cli(cluster.ports[0], "CLUSTER", "NODES").splitlines():
        fields = line.split()
        for r in fields[8:]:
            if r.startswith("["):
                continue
            a, _, b = r.partition("-")
            if int(a) <= int(slot) <= int(b or a):
                return int(fields[1].split("@")[0].rsplit(":", 1)[1])
    raise AssertionError(f"no master serves slot {slot}")


class RedisClusterTest(unittest.TestCase):

    def setUp(self):
        tmp = tempfile.TemporaryDirectory(prefix="ferry-cluster-")
        self.addCleanup(tmp.cleanup)
        self.tmp = tmp.name
        self.cluster = RedisCluster(self.tmp)
        self.addCleanup(self.cluster.stop)
        self.p1, self.p2, self.p3 = self.cluster.ports

    def move_slots_while(self, flowing, meanwhile=None):
        """Moves RESHARD_SLOTS slots from p1 to p2 once `flowing()` is true, running
        `meanwhile()` (if any) in a thread at the same time; returns when both are done and
        checks the slots moved."""
        before = self.cluster.slots_of(self.p2)
        wait_until(flowing, 60, "data flowing into the cluster")
        errors = []

        def run():
            try:
                meanwhile()
            except BaseException as e:  # reported by the test's thread
                errors.append(e)
        thread = threading.Thread(target=run) if meanwhile else None
        if thread:
            thread.start()
        reshard = self.cluster.reshard(self.p1, self.p2, RESHARD_SLOTS)
        try:
            out, _ = reshard.communicate(timeout=120)
        except subprocess.TimeoutExpired:
            reshard.kill()
            raise
        finally:
            if thread:
                thread.join(timeout=120)
        if errors:
            raise errors[0]
        self.assertEqual(reshard.returncode, 0, out[-4000:])
        wait_until(lambda: self.cluster.slots_of(self.p2) == before + RESHARD_SLOTS, 30,
                   f"{RESHARD_SLOTS} more slots on {self.p2}")
        check = self.cluster.run_cli("--cluster", "check", f"127.0.0.1:{self.p1}")
        self.assertIn("[OK] All 16384 slots covered", check)

    def test_client_keeps_every_write_while_slots_move(self):
        stop_file = os.path.join(self.tmp, "stop")
        report_file = os.path.join(self.tmp, "report")
        workload = self.run_workload(KEYS, stop_file, report_file)
        log_text = self.workload_output

        def flowing():
            if workload.poll() is not None:
                raise fh.GiveUp(f"the workload exited early:\n{log_text()}")
            return self.cluster.dbsize() > 5000
        self.move_slots_while(flowing)
        self.assertIsNone(workload.poll(), "the workload must still be writing after the "
                          "reshard\n" + log_text())
        open(stop_file, "w").close()
        try:
            code = workload.wait(timeout=120)
        except subprocess.TimeoutExpired:
            workload.kill()
            raise
        self.assertEqual(code, 0, log_text())
        rounds, io_errors = report_file_numbers(report_file)
        self.assertGreaterEqual(rounds, 1)

        data = self.cluster.contents()
        self.assertEqual(len(data), KEYS)
        self.assertEqual(self.cluster.dbsize(), KEYS)
        wrong = [k for k in (f"k{i}" for i in range(KEYS))
                 if data.get(k) != f"v{k[1:]}-r{rounds - 1}"]
        self.assertEqual(wrong[:10], [], f"{len(wrong)} keys with a wrong value")
        # The MULTI/EXEC blocks ran whole: every 10th key of a batch has its EXPIRE.
        self.assertGreater(int(self.cluster.run_cli("-c", "-p", str(self.p1), "TTL", "k0")), 0)
        # The client was redirected while the slots moved (else this test proves nothing).
        errors = self.cluster.redirections()
        self.assertGreater(errors.get("MOVED", 0), 0, errors)
        sys.stderr.write(f"\n  client: {rounds} rounds of {KEYS} keys, {io_errors} batches "
                         f"retried, {RESHARD_SLOTS} slots moved meanwhile, errors {errors}\n")

    def run_workload(self, keys, stop_file=None, report_file=None):
        """Starts the client workload (the live case of the unit test binary) against p1."""
        env = dict(os.environ, FERRY_REDIS_CLUSTER=f"127.0.0.1:{self.p1}",
                   FERRY_REDIS_CLUSTER_KEYS=str(keys), FERRY_REDIS_CLUSTER_STOP=stop_file or "",
                   FERRY_REDIS_CLUSTER_REPORT=report_file or "")
        self.workload_log = os.path.join(self.tmp, "workload.log")
        with open(self.workload_log, "wb") as log:
            return fh._popen(
                [os.path.join(BUILD_DIR, "tests", "unit", "ferry-unit-tests"),
                 "-tc=*live workload*", "--no-version=true"],
                env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)

    def workload_output(self):
        with open(self.workload_log, errors="replace") as f:
            return f.read()[-6000:]

    def test_ask_sends_to_the_importing_node_without_changing_the_map(self):
        # The slot of k0 is half-way to another master: keys not on the old master are written
        # on the new one after ASKING (k0 is written alone and inside MULTI/EXEC).
        slot = self.cluster.cli(self.p1, "CLUSTER", "KEYSLOT", "k0")
        owner = slot_owner(self.cluster, slot)
        target = next(p for p in self.cluster.ports if p != owner)
        self.cluster.cli(target, "CLUSTER", "SETSLOT", slot, "IMPORTING", self.cluster.ids[owner])
        self.cluster.cli(owner, "CLUSTER", "SETSLOT", slot, "MIGRATING", self.cluster.ids[target])
        workload = self.run_workload(2000)
        try:
            code = workload.wait(timeout=120)
        except subprocess.TimeoutExpired:
            workload.kill()
            raise
        self.assertEqual(code, 0, self.workload_output())
        # Not on the old master (which answers ASK for a key it does not have)...
        self.assertTrue(self.cluster.cli(owner, "GET", "k0").startswith("ASK "))
        # ...but on the new one, with its value and its EXPIRE (MULTI/EXEC after ASKING).
        on_target = self.cluster.cli(target, "--raw", input="ASKING\nGET k0\nASKING\nTTL k0\n")
        ok, value, ok2, ttl = on_target.split("\n")
        self.assertEqual((ok, value, ok2), ("OK", "v0-r0", "OK"))
        self.assertGreater(int(ttl), 0)
        errors = self.cluster.redirections()
        self.assertGreater(errors.get("ASK", 0), 0, errors)
        self.assertEqual(errors.get("MOVED", 0), 0, errors)
        self.assertEqual(self.cluster.dbsize(), 2000)

    def test_a_master_down_is_retriable_and_the_client_recovers(self):
        stop_file = os.path.join(self.tmp, "stop")
        report_file = os.path.join(self.tmp, "report")
        keys = 20_000
        workload = self.run_workload(keys, stop_file, report_file)

        def report():
            if workload.poll() is not None:
                raise fh.GiveUp(f"the workload exited early:\n{self.workload_output()}")
            try:
                with open(report_file) as f:
                    return tuple(map(int, f.read().split()))
            except (OSError, ValueError):
                return None
        wait_until(report, 60, "a first round of writes")
        self.cluster.kill(self.p3)
        wait_until(lambda: report() and report()[1] > 0, 30, "batches failing on the dead master")
        self.cluster.restart(self.p3)
        # Two more whole rounds: the restarted master (empty: no persistence) gets every key
        # of its slots again.
        rounds_then = report()[0]
        wait_until(lambda: report()[0] >= rounds_then + 2, 60, "two rounds after the restart")
        open(stop_file, "w").close()
        try:
            code = workload.wait(timeout=120)
        except subprocess.TimeoutExpired:
            workload.kill()
            raise
        self.assertEqual(code, 0, self.workload_output())
        rounds, io_errors = report_file_numbers(report_file)
        self.assertGreater(io_errors, 0)
        self.assertIn("retrying a batch", self.workload_output())
        data = self.cluster.contents()
        self.assertEqual(len(data), keys)
        wrong = [i for i in range(keys) if data.get(f"k{i}") != f"v{i}-r{rounds - 1}"]
        self.assertEqual(wrong[:10], [], f"{len(wrong)} keys with a wrong value")

    def test_sink_writes_every_record_while_slots_move(self):
        kafka = fh.kafka_dev(BUILD_DIR)
        self.addCleanup(fh.stop_kafka, kafka)
        worker = fh.Worker(BUILD_DIR, self.tmp, kafka.bootstrap, start=False)
        self.addCleanup(worker.close)
        fh.dump_on_failure(self, worker, kafka)
        worker.start()

        fh.kcat_produce(kafka.bootstrap, "values", [(f"k{i}", i) for i in range(KEYS)])
        config = {"connector.class": fh.SINK_CLASS, "tasks.max": "1",
                  "redis.uri": f"redis://127.0.0.1:{self.p1}", "redis.cluster": "true",
                  "topics": "values", "redis.type": "STRING", "redis.keyspace": "ck",
                  "redis.separator": ":"}
        r = worker.post("/connectors", {"name": "cluster-sink", "config": config})
        if r.status == 400 and "Redis Cluster" in str(r.body):
            self.skipTest(f"the sink's config still refuses redis.cluster=true: {r.body}")
        self.assertEqual(r.status, 201, r.body)
        worker.wait_running("cluster-sink")

        def flowing():
            worker.check_not_failed("cluster-sink")
            return self.cluster.dbsize() > 5000

        # A second value for every key while slots move: each must end with its last value.
        self.move_slots_while(flowing, lambda: fh.kcat_produce(
            kafka.bootstrap, "values", [(f"k{i}", i * 3 + 1) for i in range(KEYS)]))

        def landed():
            worker.check_not_failed("cluster-sink")
            return self.cluster.dbsize() == KEYS and self.cluster.cli(
                self.p1, "-c", "GET", f"ck:k{KEYS - 1}") == str((KEYS - 1) * 3 + 1)
        wait_until(landed, 120, f"{KEYS} keys in the cluster", interval=1.0)
        data = self.cluster.contents()
        self.assertEqual(len(data), KEYS)
        wrong = [i for i in range(KEYS) if data.get(f"ck:k{i}") != str(i * 3 + 1)]
        self.assertEqual(wrong[:10], [], f"{len(wrong)} keys with a wrong value")
        sys.stderr.write(f"\n  sink: errors answered while {RESHARD_SLOTS} slots moved: "
                         f"{self.cluster.redirections()}\n")


if __name__ == "__main__":
    BUILD_DIR, argv = fh.parse_args()
    unittest.main(argv=argv)
