"""Headless Chromium driven through its DevTools protocol over a pipe: no package, no driver.

Used by ``tests/test_site.py``. Chromium started with ``--remote-debugging-pipe`` reads
protocol commands (JSON, each ended by a NUL byte) from file descriptor 3 and writes
replies and events to descriptor 4; this module speaks exactly that, with the standard
library. Any Chromium build works: Debian's ``chromium``, ``chromium-browser``, Google Chrome.

    with Browser(find_chromium()) as browser:
        page = browser.open("http://127.0.0.1:8000/index.html")
        title = page.evaluate("document.title")
        page.screenshot("index.png")
        page.close()
"""
import base64
import itertools
import json
import os
import select
import shutil
import subprocess
import tempfile
import time

CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage", "--hide-scrollbars", "--mute-audio"]
# Every host name but the loopback resolves to nothing: a page must render from the files
# of the site alone, and a CDN script cannot make a test slow or flaky by hanging.
OFFLINE = "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1"


class BrowserError(RuntimeError):
    """Chromium exited, or did not answer in time, or a command failed."""


def find_chromium():
    """Path of a Chromium executable: $CHROMIUM if set, else the first one on PATH, else None."""
    named = os.environ.get("CHROMIUM")
    if named:
        return shutil.which(named) or (named if os.path.exists(named) else None)
    return next((shutil.which(c) for c in CANDIDATES if shutil.which(c)), None)


class Browser:
    """One headless Chromium process; ``open`` gives a fresh tab."""

    def __init__(self, executable, offline=True, timeout=60.0):
        self.timeout = timeout
        self._profile = tempfile.mkdtemp(prefix="course-chromium-")
        to_child_r, self._to_child = os.pipe()      # our commands -> Chromium's fd 3
        self._from_child, from_child_w = os.pipe()  # Chromium's fd 4 -> our replies

        def wire_fds():                             # runs in the child, before exec
            os.dup2(to_child_r, 3)
            os.dup2(from_child_w, 4)
            # dup2 onto the same number (the pipe already was fd 3 or 4) is a no-op that
            # keeps close-on-exec: make both inheritable explicitly.
            os.set_inheritable(3, True)
            os.set_inheritable(4, True)

        args = [executable, *FLAGS, f"--user-data-dir={self._profile}", "--remote-debugging-pipe"]
        if offline:
            args.append(OFFLINE)
        self._process = subprocess.Popen(args + ["about:blank"], stdin=subprocess.DEVNULL,
                                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                         preexec_fn=wire_fds, close_fds=False)
        os.close(to_child_r)
        os.close(from_child_w)
        self._ids = itertools.count(1)
        self._buffer = b""
        self._events = []
        self.version = self.call("Browser.getVersion")["product"]

    # -- protocol -------------------------------------------------------------------------
    def _read_message(self, deadline):
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                raise BrowserError("Chromium did not answer in time")
            ready, _, _ = select.select([self._from_child], [], [], min(left, 1.0))
            if ready:
                chunk = os.read(self._from_child, 1 << 20)
                if not chunk:
                    raise BrowserError(f"Chromium exited (status {self._process.poll()})")
                self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(message)

    def call(self, method, params=None, session=None, timeout=None):
        """Send one command and return its result (events that arrive meanwhile are kept)."""
        ident = next(self._ids)
        message = {"id": ident, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self._to_child, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            reply = self._read_message(deadline)
            if reply.get("id") == ident:
                if "error" in reply:
                    raise BrowserError(f"{method}: {reply['error'].get('message')}")
                return reply.get("result", {})
            if "method" in reply:
                self._events.append(reply)

    def wait_event(self, method, session=None, timeout=None):
        """Wait for an event (e.g. ``Page.loadEventFired``) of a session; return its params."""
        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            for i, event in enumerate(self._events):
                if event["method"] == method and event.get("sessionId") == session:
                    return self._events.pop(i).get("params", {})
            self._events.append(self._read_message(deadline))

    def events(self, method, session=None):
        """The events of one kind received so far for a session (and forget them)."""
        found = [e for e in self._events if e["method"] == method and e.get("sessionId") == session]
        self._events = [e for e in self._events if e not in found]
        return [e.get("params", {}) for e in found]

    # -- tabs -----------------------------------------------------------------------------
    def open(self, url, width=1280, height=900, timeout=None, mobile=None):
        """Open ``url`` in a new tab and wait for its load event; return a ``Page``.

        ``mobile`` (default: ``width < 600``) emulates a phone: touch, and the
        viewport meta tag honoured.
        """
        mobile = width < 600 if mobile is None else mobile
        target = self.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        page = Page(self, target, session)
        for domain in ("Page", "Runtime", "Log"):
            self.call(f"{domain}.enable", session=session)
        self.call("Emulation.setDeviceMetricsOverride", {"width": width, "height": height,
                  "deviceScaleFactor": 1, "mobile": mobile}, session=session)
        result = self.call("Page.navigate", {"url": url}, session=session)
        if result.get("errorText"):
            raise BrowserError(f"{url}: {result['errorText']}")
        self.wait_event("Page.loadEventFired", session=session, timeout=timeout)
        return page

    def close(self):
        if self._process.poll() is None:
            try:
                self.call("Browser.close", timeout=10)
            except (BrowserError, OSError):
                pass
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        for fd in (self._to_child, self._from_child):
            try:
                os.close(fd)
            except OSError:
                pass
        shutil.rmtree(self._profile, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class Page:
    """One tab: evaluate JavaScript, wait for a condition, take a screenshot."""

    def __init__(self, browser, target, session):
        self.browser, self.target, self.session = browser, target, session

    def evaluate(self, expression, timeout=None):
        """Value of a JavaScript expression (a promise is awaited); JS errors raise."""
        result = self.browser.call("Runtime.evaluate", {
            "expression": expression, "returnByValue": True, "awaitPromise": True},
            session=self.session, timeout=timeout)
        if "exceptionDetails" in result:
            details = result["exceptionDetails"]
            text = details.get("exception", {}).get("description") or details.get("text")
            raise BrowserError(f"JavaScript error: {text}")
        return result["result"].get("value")

    def wait_for(self, expression, timeout=20.0, interval=0.2):
        """Evaluate until the value is truthy; return it (or the last value after timeout)."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                value = self.evaluate(expression)
            except BrowserError:         # e.g. the page is navigating (a redirect)
                if time.monotonic() > deadline:
                    raise
                value = None
            if value or time.monotonic() > deadline:
                return value
            time.sleep(interval)

    def exceptions(self):
        """Uncaught JavaScript exceptions the page has thrown so far (their descriptions)."""
        return [e["exceptionDetails"].get("exception", {}).get("description")
                or e["exceptionDetails"].get("text")
                for e in self.browser.events("Runtime.exceptionThrown", self.session)]

    def console_errors(self):
        """What the page logged as an error: ``console.error`` calls and the browser's own
        error entries, except failed network requests (the tests run offline on purpose)."""
        logged = [" ".join(str(a.get("value", a.get("description", ""))) for a in e.get("args", []))
                  for e in self.browser.events("Runtime.consoleAPICalled", self.session)
                  if e.get("type") == "error"]
        entries = [e["entry"].get("text", "") for e in self.browser.events("Log.entryAdded", self.session)
                   if e["entry"].get("level") == "error" and e["entry"].get("source") != "network"]
        return logged + entries

    def click(self, selector):
        """Click the first *visible* element matching ``selector`` with the mouse, as a person
        would (the press lands on whatever is at its centre); False if none is visible."""
        box = self.evaluate(f"""(() => {{
            const e = [...document.querySelectorAll({json.dumps(selector)})]
                .find(e => e.offsetParent !== null && e.getBoundingClientRect().width > 0);
            if (!e) return null;
            const r = e.getBoundingClientRect();
            return {{x: r.left + r.width / 2, y: r.top + r.height / 2}};
        }})()""")
        if box is None:
            return False
        for kind in ("mousePressed", "mouseReleased"):
            self.browser.call("Input.dispatchMouseEvent", {
                "type": kind, "x": box["x"], "y": box["y"], "button": "left", "clickCount": 1},
                session=self.session)
        return True

    def screenshot(self, path):
        """Save what the viewport shows as a PNG."""
        data = self.browser.call("Page.captureScreenshot", {"format": "png"}, session=self.session)
        with open(path, "wb") as file:
            file.write(base64.b64decode(data["data"]))
        return path

    def close(self):
        self.browser.call("Target.closeTarget", {"targetId": self.target})
