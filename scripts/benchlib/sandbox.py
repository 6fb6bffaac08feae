"""The sandbox the benchmark talks to: generated once, served by a separate process.

The server runs as ``linesight sandbox serve`` in its own process so that its CPU (routing, JQL,
rendering) and the measured client's CPU (msrest deserialization, mapping) never share one GIL;
otherwise the benchmark would measure the GIL, not the clients. The control endpoints
(``/_sandbox/...``) give request counts and let the benchmark change the latency between phases.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

TOKEN = "sandbox-token"  # the sandbox's own default token: nothing secret
USER = "sandbox@example.com"
TOKEN_ENV = "LINESIGHT_SANDBOX_TOKEN"

# POSTs that only read (search, bulk fetch, WIQL): not write-back calls
READ_ONLY_POSTS = (
    "/search",
    "/search/jql",
    "/issue/bulkfetch",
    "/_apis/wit/wiql",
    "/workitemsbatch",
)
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def free_port() -> int:
    """A port on 127.0.0.1 nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def linesight_cli(*args: str) -> list[str]:
    """The command line running the linesight CLI of this interpreter."""
    return [sys.executable, "-m", "linesight", *args]


def generate(items: int, seed: int, out: Path, port: int) -> float:
    """Write dataset.json, okrs.yaml, linesight.toml and facts.json into ``out``; the seconds.

    Runs in a child process so that the benchmark's own heap stays small: a big heap makes every
    garbage collection of the measured clients slower.
    """
    started = time.perf_counter()
    command = linesight_cli(
        "sandbox", "generate", "--items", str(items), "--seed", str(seed), "--out", str(out)
    )
    subprocess.run([*command, "--port", str(port)], check=True, capture_output=True, text=True)
    return time.perf_counter() - started


@dataclass
class Sandbox:
    """A running ``linesight sandbox serve`` process and its control endpoints."""

    url: str
    process: subprocess.Popen[bytes]
    log_file: IO[bytes]

    # -- control endpoints -------------------------------------------------------------------

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        # the sandbox's own http:// URL on 127.0.0.1, never anything a user typed
        request = urllib.request.Request(self.url + path, data=data, method=method)  # noqa: S310
        request.add_header("Content-Type", "application/json")
        with urllib.request.urlopen(request, timeout=600) as answer:  # noqa: S310 - loopback
            return json.load(answer)

    def mark(self) -> int:
        """The request log's length now: pass it to :meth:`requests_since`."""
        return len(self._call("GET", "/_sandbox/requests"))

    def requests_since(self, mark: int) -> list[dict[str, Any]]:
        """Tracker requests received since ``mark``."""
        entries: list[dict[str, Any]] = self._call("GET", f"/_sandbox/requests?since={mark}")
        return entries

    def set_latency(self, latency_ms: float) -> None:
        self._call("POST", "/_sandbox/faults", {"latency_ms": latency_ms})

    @contextlib.contextmanager
    def latency(self, latency_ms: float) -> Iterator[None]:
        """Serve with another latency for a while (setup work that is not being measured)."""
        before = float(self._call("GET", "/_sandbox/faults")["latency_ms"])
        self.set_latency(latency_ms)
        try:
            yield
        finally:
            self.set_latency(before)

    def prerender(self, jira_fields: list[list[str]]) -> float:
        """Have the sandbox render every payload the reads will ask for; the seconds it took.

        Without this the first client to read an item would pay for rendering it, and the
        benchmark would measure the sandbox instead of the client.
        """
        answer = self._call("POST", "/_sandbox/prerender", {"jira_fields": jira_fields})
        return float(answer["seconds"])

    def cpu_seconds(self) -> float | None:
        """CPU the sandbox process has used so far (Linux ``/proc``; ``None`` elsewhere)."""
        try:
            fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            return None
        # fields after the command name: utime and stime are the 12th and 13th
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=15)
        self.log_file.close()


def start(dataset: Path, port: int, latency_ms: float, log_path: Path) -> Sandbox:
    """Serve ``dataset`` on 127.0.0.1:``port`` in a child process; wait until it answers."""
    env = dict(os.environ, **{TOKEN_ENV: TOKEN})
    command = linesight_cli("sandbox", "serve", "--dataset", str(dataset), "--port", str(port))
    command += ["--latency-ms", str(latency_ms)]
    log_file = log_path.open("wb")
    process = subprocess.Popen(command, stdout=log_file, stderr=subprocess.STDOUT, env=env)
    sandbox = Sandbox(url=f"http://127.0.0.1:{port}", process=process, log_file=log_file)
    deadline = time.monotonic() + 600  # loading 1M items takes a while
    while True:
        if process.poll() is not None:
            log_file.close()
            tail = log_path.read_text(encoding="utf-8", errors="replace")[-800:]
            raise RuntimeError(f"the sandbox exited with {process.returncode}: {tail}")
        try:
            sandbox._call("GET", "/_sandbox/faults")
            return sandbox
        except (urllib.error.URLError, ConnectionError):
            if time.monotonic() > deadline:
                sandbox.stop()
                raise RuntimeError(f"the sandbox did not answer on {sandbox.url}") from None
            time.sleep(0.2)


def by_tracker(entries: list[dict[str, Any]]) -> Counter[str]:
    """Requests per tracker mount (``/jira/cloud``, ``/ado/contoso``, ...)."""
    counts: Counter[str] = Counter()
    for entry in entries:
        parts = str(entry.get("path", "")).split("/", 3)
        counts["/".join(parts[:3]).lower()] += 1
    return counts


def endpoint(entry: dict[str, Any]) -> str:
    """``"POST cloud search/jql"``: a request's method, tracker and route, ids folded."""
    parts = str(entry.get("path", "")).strip("/").split("/")
    tracker = parts[1] if len(parts) > 1 else "?"
    route = parts[2:]
    for marker in ("_apis", "api"):
        if marker in route:
            route = route[route.index(marker) + 1 :]
            break
    if route and route[0].isdigit():  # the REST API version of Jira's /rest/api/3/...
        route = route[1:]
    folded = ["{id}" if any(c.isdigit() for c in part) else part for part in route]
    return f"{entry.get('method')} {tracker} {'/'.join(folded)}"


def is_write(entry: dict[str, Any]) -> bool:
    """A request that changes the tracker (reads sent as POST do not count)."""
    if entry.get("method") not in WRITE_METHODS:
        return False
    path = str(entry.get("path", "")).lower().rstrip("/")
    return not path.endswith(READ_ONLY_POSTS)
