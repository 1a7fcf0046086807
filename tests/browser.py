"""Headless Chromium for tests and checks: open a page offline, run JavaScript, take a screenshot.

Driven over the Chrome DevTools protocol with websocket-client (a dependency of Jupyter, pinned in
requirements.lock); no Selenium or Playwright. The browser gets a fresh profile folder and no network:
every host name resolves to nothing, background services are off, and the page is emulated offline, so a
page that loads anything from the internet fails visibly. Requests the page makes are recorded in
`HeadlessChromium.requests` so a test can assert there were none but file:/data:/blob: ones, and what the
page's content security policy refused (scripts, handlers, loads) in `HeadlessChromium.violations`.

    with HeadlessChromium() as browser:
        browser.open(page.as_uri(), ready="window.atlasReady !== undefined")
        print(browser.evaluate("document.title"))
        browser.screenshot(Path("reports/side.png"))

`find_chromium()` returns None where no Chromium is installed (tests then skip with a reason);
`apt-get install chromium` installs it on Debian.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path
from types import TracebackType
from typing import Any

CHROMIUM_NAMES = (
    "/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome", "google-chrome-stable",
)
OFFLINE_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--disable-default-apps",
    "--no-first-run",
    "--no-default-browser-check",
    "--mute-audio",
    "--host-resolver-rules=MAP * ~NOTFOUND",
)
LOCAL_SCHEMES = ("file:", "data:", "blob:", "about:")


class BrowserError(RuntimeError):
    """Chromium did not start, a DevTools command failed, or a page's JavaScript threw."""


def find_chromium() -> str | None:
    """Path of an installed Chromium/Chrome, or None."""
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    return None


class HeadlessChromium:
    """One headless Chromium process with one page, controlled over the DevTools protocol."""

    def __init__(self, executable: str | None = None, *, width: int = 1280, height: int = 900,
                 timeout: float = 30.0) -> None:
        self.executable = executable or find_chromium()
        if not self.executable:
            raise BrowserError("Chromium not found (Debian: apt-get install chromium).")
        self.width, self.height, self.timeout = width, height, timeout
        self.requests: list[str] = []
        self.console: list[str] = []
        self.violations: list[str] = []  # what the page's content security policy refused
        self._events: list[dict[str, Any]] = []
        self._next_id = 0
        self._process: subprocess.Popen[bytes] | None = None
        self._profile: Path | None = None
        self._socket: Any = None

    # -- lifecycle ------------------------------------------------------------------------------------

    def __enter__(self) -> HeadlessChromium:
        if self._process is None:  # already started by an explicit start()
            self.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.close()

    def start(self) -> None:
        """Start Chromium on a fresh profile and connect to its page."""
        import websocket

        self._profile = Path(tempfile.mkdtemp(prefix="oms-chromium-"))
        command = [
            str(self.executable), *OFFLINE_FLAGS, f"--user-data-dir={self._profile}",
            "--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0",
            f"--window-size={self.width},{self.height}", "about:blank",
        ]
        log = (self._profile / "chromium.log").open("wb")
        # its own process group: /usr/bin/chromium is a wrapper script, and the browser it starts must go
        # down with it when we close (terminating the wrapper alone leaves Chromium running)
        self._process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL, start_new_session=True)
        log.close()
        port = self._devtools_port()
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        deadline = time.monotonic() + self.timeout
        while True:
            with opener.open(f"http://127.0.0.1:{port}/json/list", timeout=5) as answer:
                pages = [t for t in json.loads(answer.read()) if t.get("type") == "page"]
            if pages or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        if not pages:
            raise BrowserError("Chromium started without a page.")
        self._socket = websocket.create_connection(pages[0]["webSocketDebuggerUrl"], timeout=self.timeout,
                                                   suppress_origin=True)
        self.send("Page.enable")
        self.send("Runtime.enable")
        self.send("Log.enable")
        self.send("Network.enable")
        self.send("Network.emulateNetworkConditions", offline=True, latency=0, downloadThroughput=-1,
                  uploadThroughput=-1)
        self._viewport(self.height)

    def _viewport(self, height: int) -> None:
        self.send("Emulation.setDeviceMetricsOverride", width=self.width, height=height, deviceScaleFactor=1,
                  mobile=False)

    def _devtools_port(self) -> int:
        """The port Chromium chose, read from DevToolsActivePort in the profile folder."""
        assert self._profile is not None and self._process is not None
        marker = self._profile / "DevToolsActivePort"
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise BrowserError(f"Chromium exited with {self._process.returncode}: {self.log_tail()}")
            with contextlib.suppress(FileNotFoundError, ValueError, IndexError):
                return int(marker.read_text().splitlines()[0])
            time.sleep(0.05)
        raise BrowserError(
            f"Chromium did not open its DevTools port in {self.timeout:g} s: {self.log_tail()}"
        )

    def log_tail(self, chars: int = 2000) -> str:
        """The end of Chromium's own output (for error messages)."""
        path = self._profile / "chromium.log" if self._profile else None
        return path.read_text(errors="replace")[-chars:] if path and path.exists() else ""

    def close(self) -> None:
        """Close the connection, stop Chromium (terminate, then kill) and remove the profile."""
        if self._socket is not None:
            with contextlib.suppress(Exception):
                self._socket.close()
            self._socket = None
        if self._process is not None:
            group = self._process.pid
            with contextlib.suppress(ProcessLookupError):
                os.killpg(group, signal.SIGTERM)
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(group, signal.SIGKILL)
                self._process.wait(timeout=10)
            deadline = time.monotonic() + 5
            while _group_alive(group) and time.monotonic() < deadline:
                time.sleep(0.05)
            with contextlib.suppress(ProcessLookupError):
                os.killpg(group, signal.SIGKILL)
            self._process = None
        if self._profile is not None:
            shutil.rmtree(self._profile, ignore_errors=True)
            self._profile = None

    # -- protocol -------------------------------------------------------------------------------------

    def send(self, method: str, **params: Any) -> dict[str, Any]:
        """Send one DevTools command and return its result; events that arrive meanwhile are kept."""
        if self._socket is None:
            raise BrowserError("The browser is not started.")
        self._next_id += 1
        command_id = self._next_id
        self._socket.send(json.dumps({"id": command_id, "method": method, "params": params}))
        while True:
            message = self._receive()
            if message.get("id") == command_id:
                if "error" in message:
                    raise BrowserError(f"{method}: {message['error']}")
                return message.get("result", {})

    def _receive(self) -> dict[str, Any]:
        message = json.loads(self._socket.recv())
        method = message.get("method")
        if method == "Network.requestWillBeSent":
            self.requests.append(message["params"]["request"]["url"])
        elif method == "Runtime.consoleAPICalled":
            args = message["params"].get("args", [])
            self.console.append(" ".join(str(a.get("value", a.get("description", ""))) for a in args))
        elif method == "Log.entryAdded":
            entry = message["params"]["entry"]
            if entry.get("source") == "security" or "Content Security Policy" in entry.get("text", ""):
                self.violations.append(entry.get("text", ""))
        elif method == "Runtime.exceptionThrown":
            details = message["params"]["exceptionDetails"]
            text = details.get("exception", {}).get("description", details["text"])
            self.console.append(f"exception: {text}")
        if method:
            self._events.append(message)
        return message

    def evaluate(self, expression: str, *, await_promise: bool = True) -> Any:
        """The value of a JavaScript expression in the page (JSON-serialisable results only)."""
        result = self.send("Runtime.evaluate", expression=expression, returnByValue=True,
                           awaitPromise=await_promise)
        if "exceptionDetails" in result:
            details = result["exceptionDetails"]
            raise BrowserError(details.get("exception", {}).get("description", details.get("text", "error")))
        return result.get("result", {}).get("value")

    def wait_for(self, expression: str, timeout: float | None = None, interval: float = 0.05) -> Any:
        """Poll `expression` until it is truthy and return its value; BrowserError after `timeout` s."""
        deadline = time.monotonic() + (timeout or self.timeout)
        while time.monotonic() < deadline:
            value = self.evaluate(expression)
            if value:
                return value
            time.sleep(interval)
        raise BrowserError(f"Timed out waiting for {expression!r}; console: {self.console[-5:]}")

    def open(self, url: str, *, ready: str | None = None, timeout: float | None = None) -> None:
        """Load `url` and wait for its load event, then (if given) until the `ready` expression is truthy."""
        self._events.clear()
        self.send("Page.navigate", url=url)
        deadline = time.monotonic() + (timeout or self.timeout)
        while not any(e.get("method") == "Page.loadEventFired" for e in self._events):
            if time.monotonic() > deadline:
                raise BrowserError(f"{url} did not finish loading")
            self._receive()
        if ready:
            self.wait_for(ready, timeout)

    def external_requests(self) -> list[str]:
        """Requests the page made to anything but local files and inline data."""
        return [url for url in self.requests if not url.startswith(LOCAL_SCHEMES)]

    def screenshot(self, path: Path, *, full_page: bool = True) -> Path:
        """Save a PNG of the page (the whole page when `full_page`), at the browser's width."""
        height = self.height
        if full_page:
            size = self.send("Page.getLayoutMetrics")["cssContentSize"]
            height = max(self.height, int(size["height"]))
        self._viewport(height)
        shot = self.send("Page.captureScreenshot", format="png", captureBeyondViewport=True)
        self._viewport(self.height)
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(shot["data"]))
        return path


def _group_alive(group: int) -> bool:
    """True while any process of the process group still exists."""
    try:
        os.killpg(group, 0)
    except ProcessLookupError:
        return False
    return True
