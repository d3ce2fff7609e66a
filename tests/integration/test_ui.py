"""The status page GET /ui in a real browser: headless Chromium (Debian's `chromium`) loads it from
a worker with basic authentication on (credentials given once, in the address, as a user would
type them), the test reads the DOM after the page's script ran, takes a screenshot, and clicks
the page's buttons; every effect is checked over the REST API too. Chromium is driven over the
DevTools protocol (websocket-client, Debian's python3-websocket). Real redis-server,
ferry-kafka-dev, ferry-worker.

    /usr/bin/python3 tests/integration/test_ui.py --build-dir BUILD [-v]
    FERRY_UI_SCREENSHOT=/tmp/ui.png ...   keeps the screenshot
"""

import base64
import json
import os
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import unittest
import urllib.parse
import zlib

import websocket  # python3-websocket (websocket-client)

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
import ferry_harness as fh  # noqa: E402
from ferry_harness import wait_until  # noqa: E402

BUILD_DIR = None
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or "chromium"
WIDTH, HEIGHT = 1100, 800
USER, PASSWORD = "admin", "UiPagePw-31c7"
# User input the page must show as text, never as markup (and which must survive the URL
# encoding of its buttons and the escaping of Prometheus label values).
SINK = 'ui-sink <b>"bold"</b> & co'
SOURCE = "ui-source"


def basic_auth():
    token = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    return {"Authorization": "Basic " + token}


def png_size(data):
    """(width, height) of a PNG after checking its signature, chunk CRCs and that the image data
    inflates to exactly the size its header announces; raises AssertionError otherwise."""
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise AssertionError("not a PNG: " + repr(data[:8]))
    pos, header, idat = 8, None, b""
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length:pos + 12 + length])
        if zlib.crc32(kind + body) != crc:
            raise AssertionError(f"bad CRC in PNG chunk {kind!r}")
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        elif kind == b"IEND":
            break
        pos += 12 + length
    if header is None:
        raise AssertionError("PNG without IHDR")
    width, height, depth, color = header[:4]
    channels = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}[color]
    row = 1 + (width * channels * depth + 7) // 8
    if len(zlib.decompress(idat)) != row * height:
        raise AssertionError("PNG image data does not match its header")
    return width, height


class Chromium:
    """Headless Chromium in its own process group with a throwaway profile, and one DevTools
    protocol connection to its page. close() kills the whole group."""

    def __init__(self, tmp_dir):
        self.profile = os.path.join(tmp_dir, "chromium-profile")
        os.makedirs(self.profile)
        self.log_path = os.path.join(tmp_dir, "chromium.log")
        args = [CHROMIUM, "--headless=new", "--disable-gpu", "--remote-debugging-port=0",
                f"--user-data-dir={self.profile}", f"--window-size={WIDTH},{HEIGHT}",
                "--no-first-run", "--no-default-browser-check", "--disable-extensions",
                "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--disable-dev-shm-usage", "--no-proxy-server", "--mute-audio",
                "about:blank"]
        if os.geteuid() == 0:
            args.insert(1, "--no-sandbox")  # Chromium refuses to run as root with its sandbox
        # The worker's sanitizer settings are no business of the browser's.
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("ASAN_", "LSAN_", "UBSAN_", "TSAN_")) and k != "LD_PRELOAD"}
        env.update(HOME=tmp_dir, XDG_CONFIG_HOME=tmp_dir, XDG_CACHE_HOME=tmp_dir)
        self.log = open(self.log_path, "wb")
        self.process = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=self.log,
                                        stderr=subprocess.STDOUT, env=env,
                                        start_new_session=True)
        self.ws = None
        self.next_id = 0
        self.events = []
        try:
            self._connect()
        except BaseException:
            self.close()
            raise

    def _connect(self):
        port_file = os.path.join(self.profile, "DevToolsActivePort")

        def port():
            if self.process.poll() is not None:
                raise fh.GiveUp(f"chromium exited with {self.process.returncode}: "
                                f"{self.log_text()}")
            with open(port_file) as f:
                lines = f.read().split("\n")
            return int(lines[0]) if len(lines) >= 2 and lines[1] else None
        self.port = wait_until(port, 30, "chromium's DevToolsActivePort file")
        targets = fh.http_request("127.0.0.1", self.port, "GET", "/json/list", timeout=10)
        pages = [t for t in targets.body if t.get("type") == "page"]
        if not pages:
            raise AssertionError("chromium has no page target")
        self.ws = websocket.create_connection(pages[0]["webSocketDebuggerUrl"], timeout=30,
                                              suppress_origin=True)

    def log_text(self):
        try:
            with open(self.log_path, "r", errors="replace") as f:
                return f.read()[-4000:]
        except OSError:
            return ""

    def call(self, method, **params):
        """One DevTools command; returns its result, raises on a protocol error."""
        self.next_id += 1
        self.ws.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            msg = json.loads(self.ws.recv())
            if msg.get("id") == self.next_id:
                if "error" in msg:
                    raise AssertionError(f"{method}: {msg['error']}")
                return msg["result"]
            if "method" in msg:
                self.events.append(msg)

    def evaluate(self, expression, await_promise=False):
        """The value of a JS expression in the page (JSON-able values only)."""
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True,
                           awaitPromise=await_promise)
        if "exceptionDetails" in result:
            raise AssertionError(f"JS exception: {result['exceptionDetails']}")
        return result["result"].get("value")

    def close(self):
        if self.ws is not None:
            try:
                self.ws.close()
            except OSError:
                pass
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGTERM)
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
        try:  # helpers (zygote, renderer) that outlived the browser process
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait()
        self.log.close()


# Everything the page shows, read from its DOM: per connector its name (the h2's text), state,
# whether the name produced any element (it must not), buttons and task rows.
READ_PAGE = """JSON.stringify({
  refreshes: Number(document.body.dataset.refreshes || 0),
  message: document.getElementById("message").textContent,
  messageClass: document.getElementById("message").className,
  worker: document.getElementById("worker").textContent,
  connectors: [...document.querySelectorAll("section.connector")].map((s) => ({
    name: s.querySelector("h2").textContent,
    dataName: s.dataset.connector,
    markupInName: s.querySelector("h2").children.length,
    state: s.querySelector(".head .state").textContent,
    meta: s.querySelector(".head .meta").textContent,
    buttons: Object.fromEntries([...s.querySelectorAll(".head button")].map(
        (b) => [b.dataset.action, !b.disabled])),
    tasks: [...s.querySelectorAll("tr[data-task]")].map((tr) => ({
      id: tr.dataset.task,
      state: tr.children[1].textContent,
      worker: tr.children[2].textContent,
      rate: tr.querySelector(".rate").textContent,
      lag: tr.querySelector(".lag").textContent,
    })),
  })),
})"""


def find_button(name, action):
    """A JS expression for the button `action` of connector `name` (compared as a string, no
    selector built from the name)."""
    return (f"[...document.querySelectorAll('section.connector')]"
            f".find((s) => s.dataset.connector === {json.dumps(name)})"
            f".querySelector('button[data-action={action}]')")


class UiTest(fh.StackTest):  # its tearDown: a clean stop of the worker

    def setUp(self):
        tmp = tempfile.TemporaryDirectory(prefix="ferry-UiTest-")
        self.addCleanup(tmp.cleanup)
        self.dir = tmp.name
        credentials = os.path.join(self.dir, "credentials")
        fh.write_credentials(BUILD_DIR, credentials, USER, PASSWORD)
        self.redis, self.kafka, self.worker = fh.start_stack(
            self, BUILD_DIR, self.dir,
            properties={"rest.basic.auth.credentials.file": credentials,
                        **fh.StackTest.SHORT_SESSIONS})

    # ---- REST, with credentials

    def call(self, method, path, body=None):
        return self.worker.request(method, path, body, headers=basic_auth())

    def state(self, name):
        r = self.call("GET", f"/connectors/{urllib.parse.quote(name, safe='')}/status")
        self.assertEqual(r.status, 200, r.body)
        return [r.body["connector"]["state"]] + [t["state"] for t in r.body["tasks"]]

    def wait_state(self, name, state, timeout=30):
        def check():
            self.worker.check_not_failed()
            states = self.state(name)
            return len(states) >= 2 and all(s == state for s in states)
        wait_until(check, timeout, f"{name} and its task {state} over REST")

    # ---- the page

    def page(self):
        return json.loads(self.browser.evaluate(READ_PAGE))

    def wait_page(self, predicate, what, timeout=30):
        last = {}

        def check():
            last["page"] = self.page()
            return predicate(last["page"])
        try:
            wait_until(check, timeout, what, interval=0.1)
        except AssertionError as e:
            raise AssertionError(f"{e}; the page showed {json.dumps(last.get('page'))}; "
                                 f"chromium's log: {self.browser.log_text()}") from None
        return last["page"]

    @staticmethod
    def connector(page, name):
        found = [c for c in page["connectors"] if c["name"] == name]
        return found[0] if found else None

    def shows(self, page, name, state):
        c = self.connector(page, name)
        return (c is not None and c["state"] == state and c["tasks"]
                and all(t["state"] == state for t in c["tasks"]))

    def test_status_page_lists_connectors_and_its_buttons_pause_resume_restart(self):
        w, r, k = self.worker, self.redis, self.kafka
        unauthenticated = w.get("/ui")
        self.assertEqual(unauthenticated.status, 401)
        ui = self.call("GET", "/ui")
        self.assertEqual(ui.status, 200)
        self.assertEqual(ui.headers["content-type"], "text/html; charset=utf-8")
        self.assertIn("default-src 'none'", ui.headers["content-security-policy"])
        for external in ("http://", "https://", "src=", "href=", "url(", "innerHTML"):
            self.assertNotIn(external, ui.body)

        def sink_keys():
            return len(r.cli_lines("KEYS", "ui:*"))

        # Two connectors that move records: a sink into Redis strings, a stream source.
        n = 300
        fh.kcat_produce(k.bootstrap, "ui-in", [(f"k{i}", {"n": i}) for i in range(n)])
        r.pipe([["XADD", "ui-stream", "*", "n", str(i)] for i in range(n)])
        for name, config in (
                (SINK, fh.sink_config(r, "ui-in", "STRING", redis_keyspace="ui")),
                (SOURCE, fh.source_config(r, "ui-stream", topic="ui-out"))):
            created = self.call("POST", "/connectors", {"name": name, "config": config})
            self.assertEqual(created.status, 201, created.body)
        self.wait_state(SINK, "RUNNING")
        self.wait_state(SOURCE, "RUNNING")
        wait_until(lambda: sink_keys() == n, 60, "the sink's keys in Redis")
        wait_until(lambda: fh.kafka_message_count(k.bootstrap, "ui-out") == n, 60,
                   "the source's records in Kafka")

        self.browser = Chromium(self.dir)
        self.addCleanup(self.browser.close)
        b = self.browser
        b.call("Emulation.setDeviceMetricsOverride", width=WIDTH, height=HEIGHT,
               deviceScaleFactor=1, mobile=False)
        b.call("Page.enable")
        b.call("Runtime.enable")  # uncaught exceptions in the page's script arrive as events
        # Credentials typed once with the address; the page's own requests carry them as the
        # browser's, from its authentication cache.
        b.call("Page.navigate", url=f"http://{USER}:{PASSWORD}@127.0.0.1:{w.port}/ui")

        def both_running(p):
            return (p["refreshes"] >= 2 and self.shows(p, SINK, "RUNNING")
                    and self.shows(p, SOURCE, "RUNNING"))
        page = self.wait_page(both_running, "both connectors RUNNING on the page")
        self.assertEqual(page["message"], "", page)
        self.assertEqual(page["worker"], f"worker: {w.worker_id}")
        self.assertEqual(sorted(c["name"] for c in page["connectors"]), sorted([SINK, SOURCE]))
        sink, source = self.connector(page, SINK), self.connector(page, SOURCE)
        self.assertEqual(sink["dataName"], SINK)
        self.assertEqual(sink["markupInName"], 0)  # the <b> in the name stayed text
        self.assertIn("sink", sink["meta"])
        self.assertIn("source", source["meta"])
        for c in (sink, source):
            self.assertIn(w.worker_id, c["meta"])
            self.assertEqual(c["buttons"], {"pause": True, "resume": False, "restart": True})
            self.assertEqual([(t["id"], t["worker"]) for t in c["tasks"]], [("0", w.worker_id)])
        # Records/s from two scrapes of /metrics: more records, and both rates go above 0
        # (the sink's rate also proves the page reads a label value with escaped quotes).
        fh.kcat_produce(k.bootstrap, "ui-in", [(f"m{i}", {"n": i}) for i in range(n)])
        r.pipe([["XADD", "ui-stream", "*", "n", str(i)] for i in range(n)])

        def rate(p, name):
            c = self.connector(p, name)
            try:
                return float(c["tasks"][0]["rate"].replace(",", "")) if c else 0.0
            except ValueError:
                return 0.0
        seen = set()

        def both_rates_positive(p):
            seen.update(name for name in (SINK, SOURCE) if rate(p, name) > 0)
            return len(seen) == 2
        self.wait_page(both_rates_positive, "records/s above 0 for both tasks")
        page = self.wait_page(
            lambda p: self.connector(p, SINK)["tasks"][0]["lag"] == "0",
            "the sink's lag 0 once it caught up")
        self.assertEqual(self.connector(page, SOURCE)["tasks"][0]["lag"], "—")  # no lag: source

        # Screenshot: a PNG of the requested size that is not one flat colour (decoded by the
        # browser into a canvas, counting colours).
        shot = base64.b64decode(b.call("Page.captureScreenshot", format="png")["data"])
        path = os.environ.get("FERRY_UI_SCREENSHOT") or os.path.join(self.dir, "ui.png")
        with open(path, "wb") as f:
            f.write(shot)
        self.assertTrue(os.path.getsize(path) > 0)
        self.assertEqual(png_size(shot), (WIDTH, HEIGHT))
        colours = b.evaluate(
            "new Promise((done, fail) => { const img = new Image();"
            " img.onload = () => { const c = document.createElement('canvas');"
            " c.width = img.width; c.height = img.height; const g = c.getContext('2d');"
            " g.drawImage(img, 0, 0); const d = new Uint32Array("
            "g.getImageData(0, 0, c.width, c.height).data.buffer);"
            " done(new Set(d).size); };"
            " img.onerror = () => fail('undecodable'); img.src = 'data:image/png;base64,"
            + base64.b64encode(shot).decode() + "'; })", await_promise=True)
        self.assertGreater(colours, 20, "the screenshot is (nearly) blank")

        # Pause the sink with its button: PAUSED over REST and on the page, the source still
        # RUNNING; the page's lag shows records produced while it is paused.
        self.assertIsNone(b.evaluate(find_button(SINK, "pause") + ".click()"))
        self.wait_state(SINK, "PAUSED")
        self.assertEqual(self.state(SOURCE), ["RUNNING", "RUNNING"])
        page = self.wait_page(lambda p: self.shows(p, SINK, "PAUSED")
                              and f"Pause {SINK}: done (HTTP 202)" in p["message"],
                              "the sink PAUSED and the pause's answer")
        self.assertTrue(self.shows(page, SOURCE, "RUNNING"), page)
        self.assertEqual(self.connector(page, SINK)["buttons"],
                         {"pause": False, "resume": True, "restart": True})
        fh.kcat_produce(k.bootstrap, "ui-in", [(f"p{i}", {"n": i}) for i in range(123)])
        self.wait_page(lambda p: self.connector(p, SINK)["tasks"][0]["lag"] == "123",
                       "the paused sink's lag 123")

        # Resume it with its button: RUNNING again, the lag drains.
        self.assertIsNone(b.evaluate(find_button(SINK, "resume") + ".click()"))
        self.wait_state(SINK, "RUNNING")
        self.wait_page(lambda p: self.shows(p, SINK, "RUNNING")
                       and self.connector(p, SINK)["tasks"][0]["lag"] == "0",
                       "the sink RUNNING with lag 0")
        wait_until(lambda: sink_keys() == 2 * n + 123, 60, "every key in Redis")

        # Restart the source and its tasks with its button (202), then one task (204).
        self.assertIsNone(b.evaluate(find_button(SOURCE, "restart") + ".click()"))
        self.wait_page(lambda p: f"Restart {SOURCE} and its tasks: done (HTTP 202)"
                       in p["message"], "the restart's answer")
        self.wait_state(SOURCE, "RUNNING")
        self.wait_page(lambda p: self.shows(p, SOURCE, "RUNNING"), "the source RUNNING again")
        self.assertIsNone(b.evaluate(find_button(SOURCE, "restart-task") + ".click()"))
        self.wait_page(lambda p: f"Restart task 0 of {SOURCE}: done (HTTP 204)" in p["message"],
                       "the task restart's answer")
        self.wait_state(SOURCE, "RUNNING")

        # A button whose request fails shows the worker's answer in words: the connector is
        # deleted behind the page's back, then its (kept) button clicked.
        b.evaluate("window.staleButton = " + find_button(SOURCE, "pause") + "; true")
        self.assertEqual(self.call("DELETE", f"/connectors/{SOURCE}").status, 204)
        b.evaluate("window.staleButton.click(); true")
        page = self.wait_page(lambda p: "failed" in p["message"], "the failed pause's message")
        self.assertEqual(page["messageClass"], "error")
        self.assertIn(f"Pause {SOURCE} failed. PUT connectors/{SOURCE}/pause answered 404",
                      page["message"])
        self.assertIn(f"Connector {SOURCE} not found", page["message"])
        self.wait_page(lambda p: [c["name"] for c in p["connectors"]] == [SINK],
                       "the deleted connector gone from the page")

        # The worker gone: the page says it cannot reach it.
        code, _ = w.terminate(timeout=30)
        self.assertEqual(code, 0, w.log_text(tail=4000))
        page = self.wait_page(lambda p: "Cannot reach the worker's REST API" in p["message"],
                              "the page reporting the unreachable worker")
        self.assertEqual(page["messageClass"], "error")
        b.evaluate("true")  # every event sent before this answer has been read
        thrown = [e["params"] for e in b.events if e["method"] == "Runtime.exceptionThrown"]
        self.assertEqual(thrown, [], "the page's script threw")


if __name__ == "__main__":
    BUILD_DIR, argv = fh.parse_args()
    fh.BUILD_DIR = BUILD_DIR
    unittest.main(argv=argv)
