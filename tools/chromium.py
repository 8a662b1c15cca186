"""Drive headless Chromium through the DevTools protocol, over a pipe (no network port).

Used by ``tools/build_pdf.py`` (``make pdf``: each page printed to PDF once MathJax has
typeset it) and by ``tests/test_browser.py`` (layout checks at a desktop and at a
phone's width, screenshots). Chromium is started with ``--remote-debugging-pipe``: it
reads protocol commands from file descriptor 3 and writes replies and events to file
descriptor 4, each message a JSON object terminated by a NUL byte. No websocket, no
TCP port, nothing but the standard library.

The browser is offline: every host name resolves to nothing
(``--host-resolver-rules``), so a page that tried to load something from the network
would show it broken rather than quietly fetch it.

Example::

    with Browser() as browser:
        page = browser.open(Path("_build/html/book/intro.html"), width=390)
        page.wait_for_mathjax()
        print(page.evaluate("document.title"))
        Path("intro.pdf").write_bytes(page.print_to_pdf())
"""
from __future__ import annotations

import base64
import fcntl
import json
import os
import select
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

CANDIDATES = ("/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome")
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--hide-scrollbars",
    "--host-resolver-rules=MAP * ~NOTFOUND",
)
# Resolves once MathJax has typeset the page (or at once on a page without MathJax)
# and the web fonts it asked for are loaded; then two animation frames for layout.
_SETTLE = """
(async () => {
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
    await MathJax.startup.promise;
  }
  if (document.fonts) { await document.fonts.ready; }
  await new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
  return document.querySelectorAll("mjx-container").length;
})()
"""


class BrowserError(RuntimeError):
    """Chromium failed, timed out or answered a command with an error."""


def find_chromium() -> str | None:
    """The path of a Chromium (or Chrome) executable, or ``None``."""
    for candidate in CANDIDATES:
        found = shutil.which(candidate)
        if found:
            return found
    return None


class Browser:
    """One headless Chromium process, controlled over the DevTools pipe."""

    def __init__(self, executable: str | None = None, timeout: float = 300.0):
        self.executable = executable or find_chromium()
        if self.executable is None:
            raise BrowserError("no Chromium found (apt-get install chromium)")
        self.timeout = timeout
        self._next_id = 0
        self._buffer = b""
        self._events: list[dict[str, Any]] = []
        self._profile = tempfile.TemporaryDirectory(prefix="chromium-profile-")
        # fd 3: commands to Chromium; fd 4: its replies.
        cmd_read, self._cmd_write = os.pipe()
        self._reply_read, reply_write = os.pipe()

        def _child_fds() -> None:
            # Move both ends above 9 first (one of them may already be 3 or 4), then
            # dup2 makes inheritable copies at 3 and 4; os.pipe() descriptors are not
            # inheritable (PEP 446), so close_fds=False passes on just these two.
            high = [fcntl.fcntl(fd, fcntl.F_DUPFD, 10) for fd in (cmd_read, reply_write)]
            os.dup2(high[0], 3)
            os.dup2(high[1], 4)

        self.process = subprocess.Popen(
            [self.executable, *FLAGS, f"--user-data-dir={self._profile.name}",
             "--remote-debugging-pipe", "about:blank"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            close_fds=False, preexec_fn=_child_fds,
        )
        os.close(cmd_read)
        os.close(reply_write)

    # -- the protocol ----------------------------------------------------------------
    def _read_message(self, deadline: float) -> dict[str, Any]:
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                raise BrowserError("Chromium did not answer in time")
            ready, _, _ = select.select([self._reply_read], [], [], min(left, 1.0))
            if ready:
                chunk = os.read(self._reply_read, 1 << 20)
                if not chunk:
                    raise BrowserError(f"Chromium exited: {self._stderr_tail()}")
                self._buffer += chunk
        message, _, self._buffer = self._buffer.partition(b"\0")
        return json.loads(message)

    def send(self, method: str, params: dict | None = None, session: str | None = None,
             timeout: float | None = None) -> dict[str, Any]:
        """Send one command and return its result (events are kept for ``wait_event``)."""
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        data = json.dumps(message).encode() + b"\0"
        while data:
            data = data[os.write(self._cmd_write, data):]
        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            reply = self._read_message(deadline)
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise BrowserError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            if "method" in reply:
                self._events.append(reply)

    def wait_event(self, method: str, session: str | None = None,
                   timeout: float | None = None) -> dict[str, Any]:
        """Wait for (and consume) the next event ``method`` of ``session``."""
        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            for i, event in enumerate(self._events):
                if event.get("method") == method and event.get("sessionId") == session:
                    return self._events.pop(i).get("params", {})
            self._events.append(self._read_message(deadline))

    # -- pages -------------------------------------------------------------------------
    def open(self, path: Path | str, width: int = 1280, height: int = 900,
             mobile: bool | None = None, media: str | None = None) -> "Page":
        """Open a file (or URL) in a new tab with a ``width`` x ``height`` viewport.

        ``mobile`` (default: width < 600) emulates a phone (meta viewport honoured);
        ``media="print"`` lays the page out with its print style sheet.
        """
        url = Path(path).resolve().as_uri() if not str(path).startswith(("file:", "about:")) else str(path)
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        page = Page(self, target, session)
        self.send("Page.enable", session=session)
        self.send("Runtime.enable", session=session)
        self.send("Emulation.setDeviceMetricsOverride", {
            "width": width, "height": height, "deviceScaleFactor": 1,
            "mobile": width < 600 if mobile is None else mobile,
        }, session=session)
        if media:
            self.send("Emulation.setEmulatedMedia", {"media": media}, session=session)
        self.send("Page.navigate", {"url": url}, session=session)
        self.wait_event("Page.loadEventFired", session=session)
        return page

    def _stderr_tail(self) -> str:
        if self.process.poll() is None or self.process.stderr is None:
            return ""
        return self.process.stderr.read().decode(errors="replace")[-4000:]

    def close(self) -> None:
        if self.process.poll() is None:
            try:
                self.send("Browser.close", timeout=10)
            except BrowserError:
                pass
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        for fd in (self._cmd_write, self._reply_read):
            try:
                os.close(fd)
            except OSError:
                pass
        if self.process.stderr:
            self.process.stderr.close()
        self._profile.cleanup()

    def __enter__(self) -> "Browser":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class Page:
    """A tab of a :class:`Browser`."""

    def __init__(self, browser: Browser, target: str, session: str):
        self.browser, self.target, self.session = browser, target, session

    def evaluate(self, expression: str, timeout: float | None = None) -> Any:
        """The value of a JavaScript expression (promises are awaited), as JSON."""
        result = self.browser.send("Runtime.evaluate", {
            "expression": expression, "awaitPromise": True, "returnByValue": True,
        }, session=self.session, timeout=timeout)
        if "exceptionDetails" in result:
            details = result["exceptionDetails"]
            text = details.get("exception", {}).get("description") or details.get("text")
            raise BrowserError(f"JavaScript error: {text}")
        return result.get("result", {}).get("value")

    def wait_for_mathjax(self, timeout: float | None = None) -> int:
        """Wait until MathJax has typeset the page; the number of typeset formulas."""
        return int(self.evaluate(_SETTLE, timeout=timeout) or 0)

    def screenshot(self, path: Path, full_page: bool = False) -> Path:
        """Write a PNG of the viewport (or of the whole page)."""
        params: dict[str, Any] = {"format": "png"}
        if full_page:
            size = self.evaluate("[document.documentElement.scrollWidth, document.documentElement.scrollHeight]")
            params.update(captureBeyondViewport=True,
                          clip={"x": 0, "y": 0, "width": size[0], "height": size[1], "scale": 1})
        data = self.browser.send("Page.captureScreenshot", params, session=self.session)["data"]
        path = Path(path)
        path.write_bytes(base64.b64decode(data))
        return path

    def print_to_pdf(self, **options: Any) -> bytes:
        """The page printed to PDF (``Page.printToPDF`` options, e.g. ``scale``)."""
        params = {"printBackground": True, "preferCSSPageSize": True, **options}
        return base64.b64decode(
            self.browser.send("Page.printToPDF", params, session=self.session)["data"])

    def close(self) -> None:
        self.browser.send("Target.closeTarget", {"targetId": self.target})
