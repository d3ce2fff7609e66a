"""Start and drive a ferry-kafka-dev process from integration tests (stdlib only).

    with KafkaDev("build/ferry-kafka-dev", brokers=3, topics={"orders": 3}) as kafka:
        kafka.bootstrap                 # "127.0.0.1:p1,127.0.0.1:p2,127.0.0.1:p3"
        kafka.control("broker-down 2")  # "OK"

The process prints its bootstrap servers and control endpoint as its first two stdout lines;
KafkaDev waits for them with a deadline instead of sleeping. stop() sends SIGTERM and insists
on a clean exit (status 0), so a shutdown hang or crash fails the test that caused it.
"""

import os
import selectors
import signal
import socket
import subprocess
import tempfile
import time


class KafkaDevError(AssertionError):
    """The broker process misbehaved: did not start, did not answer, or did not exit cleanly."""


class KafkaDev:
    def __init__(self, binary, brokers=None, topics=None, control_port=None, args=(),
                 start_timeout=10.0):
        """Starts the binary. topics maps name -> partitions (or is a list of (name, partitions))."""
        argv = [str(binary)]
        if brokers is not None:
            argv += ["--brokers", str(brokers)]
        for name, partitions in dict(topics or {}).items():
            argv += ["--topic", f"{name}:{partitions}"]
        if control_port is not None:
            argv += ["--control-port", str(control_port)]
        argv += list(args)

        self.argv = argv
        self.bootstrap = None
        self.control_address = None  # (host, port)
        self.returncode = None
        # stderr goes to a file: a pipe nobody reads could fill up and block the broker.
        self._stderr = tempfile.TemporaryFile()
        self.process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                        stderr=self._stderr)
        try:
            lines = self._read_lines(2, start_timeout)
            self.bootstrap = lines[0]
            key, _, address = lines[1].partition("=")
            host, _, port = address.rpartition(":")
            if key != "control" or not port.isdigit():
                raise KafkaDevError(f"unexpected second line {lines[1]!r}")
            self.control_address = (host, int(port))
        except BaseException:
            self._kill()
            raise

    def _read_lines(self, count, timeout):
        """Reads the first `count` stdout lines without blocking past the deadline."""
        deadline = time.monotonic() + timeout
        data = b""
        fd = self.process.stdout.fileno()
        with selectors.DefaultSelector() as sel:
            sel.register(fd, selectors.EVENT_READ)
            while data.count(b"\n") < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise KafkaDevError(
                        f"{self.argv[0]} printed {data!r} within {timeout}s; stderr: {self.stderr()}")
                if not sel.select(remaining):
                    continue
                chunk = os.read(fd, 4096)
                if not chunk:
                    self.process.wait(timeout=max(deadline - time.monotonic(), 0.1))
                    raise KafkaDevError(
                        f"{self.argv[0]} exited with {self.process.returncode} before printing "
                        f"{count} lines (got {data!r}); stderr: {self.stderr()}")
                data += chunk
        return data.decode().split("\n")[:count]

    def stderr(self):
        """Everything the process wrote to stderr so far."""
        self._stderr.seek(0)
        return self._stderr.read().decode(errors="replace")

    def control(self, command, timeout=5.0):
        """Sends one control command on a fresh connection and returns the response line."""
        with socket.create_connection(self.control_address, timeout=timeout) as sock:
            sock.sendall(command.encode() + b"\n")
            response = b""
            while not response.endswith(b"\n"):
                chunk = sock.recv(4096)
                if not chunk:
                    raise KafkaDevError(f"control connection closed after {response!r}")
                response += chunk
        return response.decode().rstrip("\r\n")

    def stop(self, timeout=5.0, sig=signal.SIGTERM):
        """Sends `sig`, waits up to `timeout` seconds, and fails unless the exit status is 0."""
        if self.returncode is not None:
            return self.returncode
        if self.process.poll() is None:
            self.process.send_signal(sig)
        try:
            self.returncode = self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self._kill()
            raise KafkaDevError(f"{self.argv[0]} did not exit within {timeout}s of {sig!r}")
        finally:
            self._close_pipes()
        if self.returncode != 0:
            raise KafkaDevError(
                f"{self.argv[0]} exited with {self.returncode}; stderr: {self.stderr()}")
        return self.returncode

    def _kill(self):
        if self.process.poll() is None:
            self.process.kill()
        self.returncode = self.process.wait()
        self._close_pipes()

    def _close_pipes(self):
        if self.process.stdout and not self.process.stdout.closed:
            self.process.stdout.close()

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            self.stop()
        else:
            # Keep the original failure; only make sure no process is left behind.
            try:
                self.stop()
            except KafkaDevError:
                pass
        return False

    def __del__(self):
        process = getattr(self, "process", None)
        if process is not None and process.poll() is None:
            process.kill()
            process.wait()
        stderr = getattr(self, "_stderr", None)
        if stderr is not None:
            stderr.close()
