"""Smoke test of bench/metrics_overhead.py, which measures what metrics cost a sink.

    /usr/bin/python3 tests/integration/test_metrics_overhead_smoke.py --build-dir BUILD [unittest args]

Runs its timed mode with a tiny workload (one run with and one without a scraper, then the CPU
per scrape) and checks that it reports every figure, and its callgrind mode, whose count of the
instructions spent on keeping metrics is exact: that share of the sink task thread's
instructions must stay under issue 8's 3 %, and must not be 0 (the functions it counts were
renamed). callgrind cannot run a sanitized build: the ASan pass skips that part.
"""

import argparse
import os
import re
import subprocess
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.normpath(os.path.join(HERE, "..", ".."))
BUILD_DIR = os.path.join(REPO, "build")
SCRIPT = os.path.join(REPO, "bench", "metrics_overhead.py")
sys.path.insert(0, os.path.join(HERE, "..", "support"))
import ferry_harness as fh  # noqa: E402


def run(*args, timeout):
    return subprocess.run([sys.executable or "/usr/bin/python3", SCRIPT, "--build-dir", BUILD_DIR,
                           *args], capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL)


class MetricsOverheadSmokeTest(unittest.TestCase):
    def test_timed_mode_reports_both_runs_and_the_cost_of_a_scrape(self):
        p = run("--records", "20000", "--runs", "1", "--interval", "0.05", "--scrapes", "100",
                timeout=240)
        out = f"exit {p.returncode}\nstdout:\n{p.stdout}\nstderr:\n{p.stderr}"
        self.assertEqual(p.returncode, 0, out)
        runs = re.findall(r"scrape=(on |off) CPU ([\d.]+) s/M records, wall [\d.]+ s, "
                          r"(\d+) scrapes", p.stdout)
        self.assertEqual(sorted(r[0] for r in runs), ["off", "on "], out)
        for state, cpu, scrapes in runs:
            self.assertGreater(float(cpu), 0, out)
            self.assertEqual(int(scrapes) > 0, state == "on ", out)
        self.assertRegex(p.stdout, r"per-pair ratios scraped/not [\d.]+, median [\d.]+", out)
        per_scrape = re.search(r"CPU per scrape \((\d+) bytes of metrics, 100 scrapes\): "
                               r"([\d.]+) ms", p.stdout)
        self.assertIsNotNone(per_scrape, out)
        self.assertGreater(int(per_scrape.group(1)), 1000, out)  # the sink's families are there
        self.assertGreater(float(per_scrape.group(2)), 0, out)

    def test_callgrind_counts_what_keeping_metrics_costs_the_sink(self):
        if fh.sanitized_build(BUILD_DIR):
            self.skipTest("callgrind cannot run a sanitized build")
        p = run("--callgrind", "5000", timeout=600)
        out = f"exit {p.returncode}\nstdout:\n{p.stdout}\nstderr:\n{p.stderr}"
        self.assertEqual(p.returncode, 0, out)
        m = re.search(r"keeping metrics ([\d.]+) per record = ([\d.]+)% of the worker's, "
                      r"([\d.]+)% of the task thread's", p.stdout)
        self.assertIsNotNone(m, out)
        self.assertGreater(float(m.group(1)), 0, out)
        self.assertLess(float(m.group(3)), 3.0, out)


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--build-dir", default=BUILD_DIR)
    args, rest = ap.parse_known_args()
    BUILD_DIR = os.path.abspath(args.build_dir)
    unittest.main(argv=[sys.argv[0], *rest])
