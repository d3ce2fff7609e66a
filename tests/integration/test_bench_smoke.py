"""Smoke test of the benchmark harness (bench/run.py) with a tiny workload.

    /usr/bin/python3 tests/integration/test_bench_smoke.py --build-dir BUILD [unittest args]

Runs `bench/run.py --records 5000 --runs 1 --verify --workloads source,set-4t,hset` once (a
subset that covers every code path: the source, SET and HSET sinks, 4 ferry tasks, the
two-transform ferry variant of hset and plain ferry on what that chain writes) and checks that
it finishes in time, that every implementation of every workload moved exactly the expected
records (and their content, --verify), and that it reports sensible positive numbers. It asserts no ratio threshold: the
machine is shared and noisy, and 5000 records are far too few to time.
"""

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.normpath(os.path.join(HERE, "..", ".."))
BUILD_DIR = os.path.join(REPO, "build")
sys.path.insert(0, os.path.join(HERE, "..", "support"))
import ferry_harness as fh  # noqa: E402
RECORDS = 5000
TIMEOUT = 180  # seconds for the whole bench run; it normally takes ~40 s
WORKLOADS = {"source": ("ferry", "python", "bare"), "set-4t": ("ferry", "python", "bare"),
             "hset": ("ferry", "python", "bare", "ferry+tx", "ferry+pre")}


class BenchSmokeTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="bench-smoke-")
        cls.json_path = os.path.join(cls.tmp.name, "bench.json")
        cmd = [sys.executable or "/usr/bin/python3", os.path.join(REPO, "bench", "run.py"),
               "--records", str(RECORDS), "--runs", "1", "--build-dir", BUILD_DIR, "--verify",
               "--workloads", ",".join(WORKLOADS), "--json", cls.json_path]
        start = time.monotonic()
        try:
            cls.proc = subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT,
                                      stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired as e:
            cls.proc = None
            cls.timeout_output = (e.stdout or b"").decode(errors="replace") if isinstance(
                e.stdout, bytes) else (e.stdout or "")
        cls.elapsed = time.monotonic() - start
        cls.doc = None
        if cls.proc is not None and os.path.exists(cls.json_path):
            with open(cls.json_path) as f:
                cls.doc = json.load(f)

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def output(self):
        if self.proc is None:
            return f"(timed out)\n{self.timeout_output}"
        return (f"exit {self.proc.returncode}\nstdout:\n{self.proc.stdout}\n"
                f"stderr:\n{self.proc.stderr}")

    def test_completes_in_time_and_cleanly(self):
        self.assertIsNotNone(self.proc, f"bench/run.py did not finish within {TIMEOUT}s: "
                                        f"{self.output()}")
        self.assertEqual(self.proc.returncode, 0, self.output())
        self.assertIsNotNone(self.doc, "no --json output written")
        self.assertTrue(self.doc["ok"], self.doc.get("problems"))
        self.assertEqual(self.doc["problems"], [])

    def test_every_workload_moved_exactly_the_expected_records(self):
        self.assertIsNotNone(self.doc, self.output())
        for workload, impls in WORKLOADS.items():
            runs = self.doc["workloads"][workload]["runs"]
            self.assertEqual(len(runs), 1, workload)
            self.assertEqual(sorted(runs[0]), sorted(impls), workload)
            for impl in impls:
                res = runs[0][impl]
                with self.subTest(workload=workload, impl=impl):
                    self.assertEqual(res["expected"], RECORDS)
                    self.assertEqual(res["moved"], RECORDS)
                    self.assertEqual(res["observed_at_done"], RECORDS)
                    self.assertTrue(res["verified"], res["problems"])
                    self.assertEqual(res["problems"], [])

    def test_reports_sensible_positive_numbers(self):
        self.assertIsNotNone(self.doc, self.output())
        for workload, impls in WORKLOADS.items():
            summary = self.doc["workloads"][workload]["summary"]
            res = self.doc["workloads"][workload]["runs"][0]
            for impl in impls:
                with self.subTest(workload=workload, impl=impl):
                    r = res[impl]
                    for key in ("steady_rate", "e2e_rate", "steady_seconds", "e2e_seconds"):
                        self.assertGreater(r[key], 0, key)
                    self.assertLess(r["e2e_seconds"], TIMEOUT)
                    self.assertGreater(r["peak_rss_kb"], 1000)  # > 1 MB: a real process
                    self.assertLess(r["peak_rss_kb"], 16 * 1024 * 1024)
                    self.assertIsNotNone(r["cpu_seconds"])
                    self.assertGreaterEqual(r["cpu_seconds"], 0)
                    self.assertGreater(summary["steady_rate"][impl], 0)
            for key in ("steady_rate", "e2e_rate"):
                for base in ("python", "bare"):
                    ratio = summary[key][f"ferry/{base}"]
                    with self.subTest(workload=workload, ratio=f"{key} ferry/{base}"):
                        self.assertIsNotNone(ratio)
                        self.assertGreater(ratio, 0)
                        self.assertTrue(ratio < 1e4)
        for over in ("tx_over_plain", "tx_over_pre"):
            tx = self.doc["workloads"]["hset"]["summary"][over]
            for key in ("cpu_us_per_record", "steady_seconds", "e2e_seconds"):
                with self.subTest(tx_ratio=f"{over} {key}"):
                    self.assertEqual(len(tx[key + " per run"]), 1)
                    self.assertGreater(tx[key], 0)

    def test_prints_the_ratio_table(self):
        self.assertIsNotNone(self.proc, self.output())
        out = self.proc.stdout
        self.assertIn("| workload | ferry rec/s (median) | python rec/s | bare C rec/s | "
                      "ferry/python | ferry/bare | ferry peak RSS | python peak RSS |", out)
        for workload in WORKLOADS:
            self.assertRegex(out, rf"\n\| {workload} +\|[^\n]*x \|[^\n]*MB \|")
        self.assertRegex(out, r"\| workload +\| ferry rec/s \| python rec/s \| bare C rec/s \| "
                              r"ferry CPU s/M \|")
        self.assertRegex(out, r"\n\| set-4t \(4 tasks\) +\|[^\n]*MB (ok|MISS) \|")
        # the issue 7 table: over plain ferry, and over plain ferry writing the same
        self.assertRegex(out, r"\n\| hset +\| +the same records \|[^\n]* us \|[^\n]*x \|")
        self.assertRegex(out, r"\n\| hset +\| +its output as input \|[^\n]* us \|[^\n]*x \|")
        self.assertIn("OK: 0 problem(s)", out)

    def test_leaves_no_process_behind(self):
        self.assertIsNotNone(self.proc, self.output())
        # Every server the bench started ran in the temp dir it names on its first line.
        first = self.proc.stdout.splitlines()[0]
        tmp = first.rsplit("temp ", 1)[-1].strip()
        self.assertTrue(tmp.startswith("/"), first)
        leftovers = []
        for pid in os.listdir("/proc"):
            if not pid.isdigit():
                continue
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    cmdline = f.read().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            if tmp in cmdline:
                leftovers.append(f"{pid}: {cmdline}")
        self.assertEqual(leftovers, [])



class ChainCallgrindSmokeTest(unittest.TestCase):
    """bench/chain_callgrind.py with a tiny workload: it reports all three counts and both
    ratios. callgrind cannot run a sanitized build, so the ASan pass skips it."""

    def test_counts_the_chain_over_both_plain_sinks(self):
        if fh.sanitized_build(BUILD_DIR):
            self.skipTest("callgrind cannot run a sanitized build")
        p = subprocess.run([sys.executable or "/usr/bin/python3",
                            os.path.join(REPO, "bench", "chain_callgrind.py"), "--records", "3000",
                            "--build-dir", BUILD_DIR], capture_output=True, text=True,
                           timeout=600, stdin=subprocess.DEVNULL)
        out = f"exit {p.returncode}\nstdout:\n{p.stdout}\nstderr:\n{p.stderr}"
        self.assertEqual(p.returncode, 0, out)
        task = {}
        for label in ("plain", "+2 SMTs", "plain on the chain's output"):
            m = re.search(rf"^{re.escape(label)}: the worker ran (\d+) instructions per record "
                          rf"\(start-up included\), its sink task thread (\d+)$", p.stdout, re.M)
            self.assertIsNotNone(m, out)
            task[label] = int(m.group(2))
            self.assertGreater(int(m.group(1)), task[label], out)
        # The chain is work on top of what the same records cost without it.
        self.assertGreater(task["+2 SMTs"], task["plain"], out)
        for label in ("plain", "plain on the chain's output"):
            self.assertRegex(p.stdout, rf"\+2 SMTs over {re.escape(label)}: sink task thread "
                                       rf"[\d.]+x \([+-]\d+ instructions per record\)", out)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--build-dir", default=os.environ.get("FERRY_BUILD_DIR", BUILD_DIR))
    args, rest = parser.parse_known_args(sys.argv[1:])
    BUILD_DIR = os.path.abspath(args.build_dir)
    unittest.main(argv=[sys.argv[0]] + rest)
