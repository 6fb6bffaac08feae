"""A minimal Chrome DevTools Protocol client over ``--remote-debugging-pipe``.

No extra dependency and no port: Chromium reads commands from fd 3 and writes replies and events
to fd 4, each a JSON message ended by a NUL byte. Debian's ``/usr/bin/chromium`` is used; nothing
is downloaded.
"""

from __future__ import annotations

import base64
import fcntl
import json
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome")

FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-extensions",
    "--mute-audio",
    "--hide-scrollbars",
    "--remote-debugging-pipe",
)


class BrowserMissingError(RuntimeError):
    pass


def chromium_path() -> str:
    for candidate in (os.environ.get("CHROME_BIN", ""), *CHROMIUM_CANDIDATES):
        if candidate and Path(candidate).exists():
            return candidate
    found = shutil.which("chromium")
    if found:
        return found
    raise BrowserMissingError(
        "headless Chromium is needed for the browser tests and was not found at "
        f"{', '.join(CHROMIUM_CANDIDATES)}: install it with "
        "`apt-get install -y chromium` (run `apt-get update` first), or point CHROME_BIN at one"
    )


class Page:
    """One tab, attached with a flat session."""

    def __init__(self, browser: Browser, session: str, target: str) -> None:
        self.browser = browser
        self.session = session
        self.target = target

    def send(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        return self.browser.send(method, params, session=self.session)

    def events(self, method: str) -> list[dict[str, Any]]:
        return [
            e["params"]
            for e in self.browser.events
            if e.get("method") == method and e.get("sessionId") == self.session
        ]

    def evaluate(self, expression: str, *, await_promise: bool = False) -> Any:
        reply = self.send(
            "Runtime.evaluate",
            {"expression": expression, "returnByValue": True, "awaitPromise": await_promise},
        )
        if "exceptionDetails" in reply:
            raise AssertionError(f"page script failed: {reply['exceptionDetails']}")
        return reply["result"].get("value")

    def wait_for(self, expression: str, timeout: float = 15.0) -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = self.evaluate(expression)
            if value:
                return value
            time.sleep(0.05)
        raise AssertionError(f"timed out after {timeout}s waiting for: {expression}")

    def goto(self, url: str, timeout: float = 20.0) -> None:
        seen = len(self.events("Page.loadEventFired"))
        self.send("Page.navigate", {"url": url})
        deadline = time.monotonic() + timeout
        while len(self.events("Page.loadEventFired")) <= seen:
            if time.monotonic() > deadline:
                raise AssertionError(f"{url} did not load in {timeout}s")
            self.browser.pump(0.1)

    def click(self, x: float, y: float) -> None:
        for kind in ("mouseMoved", "mousePressed", "mouseReleased"):
            self.send(
                "Input.dispatchMouseEvent",
                {"type": kind, "x": x, "y": y, "button": "left", "clickCount": 1},
            )

    def screenshot(self, path: Path) -> None:
        data = self.send("Page.captureScreenshot", {"format": "png"})["data"]
        path.write_bytes(base64.b64decode(data))

    def console_errors(self) -> list[str]:
        errors = [
            " ".join(str(a.get("value", a.get("description", ""))) for a in p.get("args", []))
            for p in self.events("Runtime.consoleAPICalled")
            if p.get("type") in ("error", "assert")
        ]
        errors += [
            str(p["exceptionDetails"].get("exception", {}).get("description"))
            or p["exceptionDetails"].get("text", "")
            for p in self.events("Runtime.exceptionThrown")
        ]
        errors += [
            f"{p['entry'].get('source')}: {p['entry'].get('text')} {p['entry'].get('url', '')}"
            for p in self.events("Log.entryAdded")
            if p["entry"].get("level") == "error"
        ]
        return errors


class Browser:
    def __init__(self, process: subprocess.Popen[bytes], to_chrome: int, from_chrome: int) -> None:
        self.process = process
        self._out = to_chrome
        self._in = from_chrome
        self._buffer = b""
        self._next_id = 0
        self.events: list[dict[str, Any]] = []
        self._replies: dict[int, dict[str, Any]] = {}

    def _read_some(self, timeout: float) -> None:
        import select

        ready, _, _ = select.select([self._in], [], [], timeout)
        if not ready:
            return
        chunk = os.read(self._in, 1 << 20)
        if not chunk:
            raise AssertionError("Chromium closed the DevTools pipe (did it crash?)")
        self._buffer += chunk
        while b"\0" in self._buffer:
            raw, self._buffer = self._buffer.split(b"\0", 1)
            message = json.loads(raw)
            if "id" in message:
                self._replies[message["id"]] = message
            else:
                self.events.append(message)

    def pump(self, timeout: float) -> None:
        self._read_some(timeout)

    def send(
        self, method: str, params: dict[str, Any] | None = None, *, session: str | None = None
    ) -> dict[str, Any]:
        self._next_id += 1
        number = self._next_id
        message: dict[str, Any] = {"id": number, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self._out, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + 30
        while number not in self._replies:
            if time.monotonic() > deadline:
                raise AssertionError(f"no reply to {method} in 30s")
            self._read_some(0.5)
        reply = self._replies.pop(number)
        if "error" in reply:
            raise AssertionError(f"{method} failed: {reply['error']}")
        return dict(reply.get("result", {}))

    def new_page(self, width: int = 1280, height: int = 900) -> Page:
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})[
            "sessionId"
        ]
        page = Page(self, session, target)
        for domain in ("Page.enable", "Runtime.enable", "Log.enable"):
            page.send(domain)
        page.send(
            "Emulation.setDeviceMetricsOverride",
            {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
        )
        return page


@contextmanager
def chromium() -> Iterator[Browser]:
    """A headless Chromium for the duration of the block (killed afterwards)."""
    binary = chromium_path()
    to_chrome_r, to_chrome_w = os.pipe()
    from_chrome_r, from_chrome_w = os.pipe()
    profile = tempfile.mkdtemp(prefix="linesight-chromium-")

    def wire_pipes() -> None:  # runs in the child: Chromium expects fds 3 (in) and 4 (out)
        # move both ends out of the way first: one of them may already sit on fd 3 or 4
        read_end = fcntl.fcntl(to_chrome_r, fcntl.F_DUPFD, 10)
        write_end = fcntl.fcntl(from_chrome_w, fcntl.F_DUPFD, 10)
        os.dup2(read_end, 3)
        os.dup2(write_end, 4)

    process = subprocess.Popen(
        [binary, *FLAGS, f"--user-data-dir={profile}", "about:blank"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        pass_fds=(3, 4),
        preexec_fn=wire_pipes,
    )
    os.close(to_chrome_r)
    os.close(from_chrome_w)
    browser = Browser(process, to_chrome_w, from_chrome_r)
    try:
        browser.send("Browser.getVersion")
        yield browser
    finally:
        with suppress(AssertionError, OSError):
            browser.send("Browser.close")
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        os.close(to_chrome_w)
        os.close(from_chrome_r)
        shutil.rmtree(profile, ignore_errors=True)
