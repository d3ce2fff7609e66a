"""Integration tests for ferry-kafka-dev, run against the real binary.

    /usr/bin/python3 tests/integration/test_kafka_dev.py --binary BUILD/ferry-kafka-dev [-v] [-k name]
    /usr/bin/python3 tests/integration/test_kafka_dev.py --build-dir BUILD    (as ctest runs it)

Most checks use independent clients (kcat, confluent_kafka) so the broker is not judged only by
its own control answers. Nothing sleeps for a fixed time: every wait polls a condition against
a deadline.
"""

import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from kafka_dev import KafkaDev  # noqa: E402

try:
    import confluent_kafka
    import confluent_kafka.admin
except ImportError:  # the kcat-based tests still run
    confluent_kafka = None

BINARY = None  # set from the command line in __main__
KCAT = shutil.which("kcat")
BOOTSTRAP_RE = re.compile(r"^127\.0\.0\.1:\d{1,5}(,127\.0\.0\.1:\d{1,5})*$")


def wait_until(predicate, timeout=10.0, interval=0.05, what="condition"):
    """Polls predicate() until it returns a truthy value, failing after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    last_error = None
    while time.monotonic() < deadline:
        try:
            value = predicate()
            if value:
                return value
        except Exception as e:  # the condition may fail while the broker is still converging
            last_error = e
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}; last error: {last_error}")


def kcat(*args, input=None, timeout=20):
    return subprocess.run([KCAT, *args], input=input, capture_output=True, text=True,
                          timeout=timeout)


def metadata(bootstrap, topic=None):
    """Cluster metadata as seen by kcat (an independent librdkafka client), as a dict."""
    args = ["-L", "-J", "-b", bootstrap, "-m", "5"]
    if topic is not None:
        args += ["-t", topic]
    result = kcat(*args)
    if result.returncode != 0:
        raise AssertionError(f"kcat -L failed ({result.returncode}): {result.stderr}")
    return json.loads(result.stdout)


def topic_metadata(bootstrap, topic):
    for t in metadata(bootstrap, topic)["topics"]:
        if t["topic"] == topic:
            return t
    return None


def partition_count(bootstrap, topic):
    t = topic_metadata(bootstrap, topic)
    return len(t["partitions"]) if t and "error" not in t else None


def control_session(kafka, payload, lines, timeout=5.0):
    """Sends raw bytes on one control connection, ends its input, and reads `lines` lines."""
    with socket.create_connection(kafka.control_address, timeout=timeout) as sock:
        sock.sendall(payload)
        sock.shutdown(socket.SHUT_WR)
        data = b""
        while data.count(b"\n") < lines:
            chunk = sock.recv(4096)
            if not chunk:
                break
            data += chunk
    return data.decode().splitlines()


@unittest.skipUnless(KCAT, "kcat is not installed")
class KafkaDevTest(unittest.TestCase):

    def start(self, **kwargs):
        kafka = KafkaDev(BINARY, **kwargs)
        self.addCleanup(kafka.stop)
        return kafka

    def test_prints_bootstrap_then_control_line(self):
        kafka = self.start()
        self.assertRegex(kafka.bootstrap, BOOTSTRAP_RE)
        self.assertEqual(len(kafka.bootstrap.split(",")), 1)
        self.assertEqual(kafka.control_address[0], "127.0.0.1")
        self.assertEqual(kafka.control("ping"), "OK")
        self.assertEqual(metadata(kafka.bootstrap)["brokers"][0]["name"], kafka.bootstrap)
        # stderr carries the one informational line and nothing else.
        stderr_lines = kafka.stderr().splitlines()
        self.assertEqual(len(stderr_lines), 1, stderr_lines)
        self.assertIn("1 broker(s) at " + kafka.bootstrap, stderr_lines[0])

    def test_topic_option_creates_topics_with_partitions(self):
        kafka = self.start(topics={"t": 3, "single": 1})
        self.assertEqual(partition_count(kafka.bootstrap, "t"), 3)
        self.assertEqual(partition_count(kafka.bootstrap, "single"), 1)

    def test_produce_consume_round_trip_with_kcat(self):
        kafka = self.start(topics={"rt": 2})
        messages = [f"key{i}=value {i}" for i in range(5)]
        produced = kcat("-P", "-b", kafka.bootstrap, "-t", "rt", "-p", "1", "-K", "=",
                        input="\n".join(messages) + "\n")
        self.assertEqual(produced.returncode, 0, produced.stderr)
        consumed = kcat("-C", "-b", kafka.bootstrap, "-t", "rt", "-p", "1", "-o", "beginning",
                        "-c", str(len(messages)), "-e", "-f", "%k=%s\\n")
        self.assertEqual(consumed.returncode, 0, consumed.stderr)
        self.assertEqual(consumed.stdout.splitlines(), messages)

    def test_unknown_topic_is_auto_created_with_four_partitions(self):
        kafka = self.start()
        self.assertEqual(
            wait_until(lambda: partition_count(kafka.bootstrap, "auto"), what="auto-created topic"),
            4)

    def test_create_topic_via_control(self):
        kafka = self.start()
        self.assertEqual(kafka.control("create-topic x 6"), "OK")
        self.assertEqual(partition_count(kafka.bootstrap, "x"), 6)
        self.assertTrue(kafka.control("create-topic x 6").startswith("ERR "))
        self.assertEqual(kafka.control("create-topic y 2 3"), "OK")  # RF above broker count: capped
        self.assertEqual(partition_count(kafka.bootstrap, "y"), 2)

    def test_broker_down_and_up(self):
        kafka = self.start()
        self.assertEqual(kafka.control("broker-down 1"), "OK")
        down = kcat("-L", "-b", kafka.bootstrap, "-m", "1")
        self.assertNotEqual(down.returncode, 0, "metadata answered while the only broker is down")
        self.assertEqual(kafka.control("broker-up 1"), "OK")
        wait_until(lambda: metadata(kafka.bootstrap)["brokers"], what="metadata after broker-up")
        self.assertTrue(kafka.control("broker-down 2").startswith("ERR "))

    def test_bad_commands_answer_err(self):
        kafka = self.start(topics={"t": 1})
        for command in ["bogus", "", "ping extra", "create-topic", "create-topic t x",
                        "create-topic bad/name 1", "create-topic z 0", "broker-down x",
                        "rtt 1 -5", "request-errors Nope 6", "request-errors Produce NOPE",
                        "request-errors 999 6", "clear-errors", "topic-error t", "leader t 5 1",
                        "leader t -1 1", "leader t 0 9", "x" * 5000]:
            with self.subTest(command=command[:40]):
                self.assertRegex(kafka.control(command), r"^ERR \S")

    def test_one_connection_carries_many_commands(self):
        kafka = self.start()
        lines = control_session(kafka, b"bogus\r\nping\ncreate-topic p 1\r\nping", 4)
        self.assertEqual(len(lines), 4, lines)
        self.assertTrue(lines[0].startswith("ERR "), lines)
        self.assertEqual(lines[1:], ["OK", "OK", "OK"])  # the last line had no newline

    def test_many_clients_at_once(self):
        kafka = self.start()
        sockets = [socket.create_connection(kafka.control_address, timeout=5) for _ in range(20)]
        try:
            for sock in reversed(sockets):
                sock.sendall(b"ping\n")
            for sock in sockets:
                self.assertEqual(sock.makefile("rb").readline(), b"OK\n")
        finally:
            for sock in sockets:
                sock.close()
        self.assertEqual(kafka.control("ping"), "OK")

    def test_three_brokers_in_metadata(self):
        kafka = self.start(brokers=3)
        self.assertEqual(len(kafka.bootstrap.split(",")), 3)
        self.assertEqual(sorted(b["id"] for b in metadata(kafka.bootstrap)["brokers"]), [1, 2, 3])

    def test_leader_moves(self):
        kafka = self.start(brokers=3, topics={"ld": 2})

        def leader(partition):
            return topic_metadata(kafka.bootstrap, "ld")["partitions"][partition]["leader"]

        for broker in (3, 1, 2):
            self.assertEqual(kafka.control(f"leader ld 0 {broker}"), "OK")
            self.assertEqual(leader(0), broker)

    def test_topic_error_reported_in_metadata(self):
        kafka = self.start(topics={"te": 1})
        self.assertEqual(kafka.control("topic-error te TOPIC_AUTHORIZATION_FAILED"), "OK")
        self.assertIn("authorization", topic_metadata(kafka.bootstrap, "te").get("error", "").lower())
        self.assertEqual(kafka.control("topic-error te NO_ERROR"), "OK")
        self.assertNotIn("error", topic_metadata(kafka.bootstrap, "te"))

    @unittest.skipUnless(confluent_kafka, "confluent_kafka is not installed")
    def test_request_errors_reach_clients(self):
        kafka = self.start(topics={"re": 1})
        self.assertTrue(kafka.control("request-errors Produce TOPIC_AUTHORIZATION_FAILED")
                        .startswith("OK"))

        def produce_once():
            reports = []
            producer = confluent_kafka.Producer({"bootstrap.servers": kafka.bootstrap,
                                                 "message.timeout.ms": 10000, "log_level": 3})
            producer.produce("re", b"v", partition=0, on_delivery=lambda e, m: reports.append(e))
            self.assertEqual(producer.flush(15), 0)
            return reports[0]

        failure = produce_once()
        self.assertIsNotNone(failure)
        self.assertEqual(failure.code(), confluent_kafka.KafkaError.TOPIC_AUTHORIZATION_FAILED)
        self.assertIsNone(produce_once())  # the queued error was used up

    @unittest.skipUnless(confluent_kafka, "confluent_kafka is not installed")
    def test_rtt_delays_responses(self):
        kafka = self.start()
        self.assertEqual(kafka.control("rtt 1 300"), "OK")
        admin = confluent_kafka.admin.AdminClient({"bootstrap.servers": kafka.bootstrap,
                                                   "log_level": 3})
        started = time.monotonic()
        admin.list_topics(timeout=10)
        self.assertGreaterEqual(time.monotonic() - started, 0.3)  # only a lower bound is reliable
        self.assertEqual(kafka.control("rtt 1 0"), "OK")

    def test_sigterm_and_sigint_exit_zero_quickly(self):
        for sig in (signal.SIGTERM, signal.SIGINT):
            with self.subTest(signal=sig.name):
                kafka = KafkaDev(BINARY, brokers=3, topics={"t": 3})
                kafka.control("create-topic more 2")
                started = time.monotonic()
                self.assertEqual(kafka.stop(timeout=5, sig=sig), 0)
                self.assertLess(time.monotonic() - started, 5)

    def test_bad_arguments_exit_2(self):
        cases = [["--brokers", "0"], ["--brokers", "x"], ["--brokers"], ["--topic", "nocolon"],
                 ["--topic", "t:0"], ["--topic", ":3"], ["--topic", "bad/name:1"],
                 ["--topic", "t:1", "--topic", "t:2"], ["--control-port", "70000"], ["--bogus"],
                 ["positional"]]
        for args in cases:
            with self.subTest(args=args):
                result = subprocess.run([BINARY, *args], capture_output=True, text=True, timeout=10)
                self.assertEqual(result.returncode, 2, result.stderr)
                self.assertEqual(result.stdout, "")
                self.assertIn("ferry-kafka-dev:", result.stderr)

    def test_control_port_in_use_exits_1(self):
        with socket.socket() as busy:
            busy.bind(("127.0.0.1", 0))
            busy.listen()
            port = busy.getsockname()[1]
            result = subprocess.run([BINARY, "--control-port", str(port)], capture_output=True,
                                    text=True, timeout=10)
        self.assertEqual(result.returncode, 1, result.stderr)
        self.assertIn(str(port), result.stderr)

    def test_fixed_control_port(self):
        with socket.socket() as probe:  # find a free port, then hand it to the broker
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        kafka = self.start(control_port=port)
        self.assertEqual(kafka.control_address, ("127.0.0.1", port))
        self.assertEqual(kafka.control("ping"), "OK")

    def test_help(self):
        result = subprocess.run([BINARY, "--help"], capture_output=True, text=True, timeout=10)
        self.assertEqual(result.returncode, 0)
        for section in ["NAME", "SYNOPSIS", "DESCRIPTION", "OPTIONS", "CONTROL COMMANDS", "LIMITS",
                        "EXIT STATUS"]:
            self.assertRegex(result.stdout, rf"(?m)^{section}$")


def binary_from_args(argv):
    """--binary wins, then --build-dir (what ctest passes), then $FERRY_BUILD_DIR, then ./build.
    Returns (binary path, the arguments left for unittest)."""
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--binary", help="path to ferry-kafka-dev")
    parser.add_argument("--build-dir", default=os.environ.get("FERRY_BUILD_DIR"))
    options, rest = parser.parse_known_args(argv)
    if options.binary:
        return os.path.abspath(options.binary), rest
    build = options.build_dir or os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                                              "..", "build")
    return os.path.abspath(os.path.join(build, "ferry-kafka-dev")), rest


if __name__ == "__main__":
    BINARY, unittest_args = binary_from_args(sys.argv[1:])
    if not os.access(BINARY, os.X_OK):
        sys.exit(f"test_kafka_dev: {BINARY} is not an executable; pass --binary or --build-dir")
    unittest.main(argv=[sys.argv[0], *unittest_args])
