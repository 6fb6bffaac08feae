"""The sandbox's HTTP server: loopback only, threaded, keep-alive, with faults and a request log.

Every tracker instance is a :class:`~linesight.sandbox.wire.TrackerApp` mounted at a path:
a Jira site at ``/jira/{name}`` (REST under ``/jira/{name}/rest/api/{2|3}/...``), an Azure DevOps
organization at ``/ado/{organization}``. The server owns the sockets, the latency and fault
injection (before an app sees the request, so a fault never leaves a write half-done — except
the opt-in ``lost`` kind, which drops the answer *after* the app made the write) and the
request log; the apps own the tracker semantics.

Control endpoints (no auth, no faults, not logged)::

    GET  /_sandbox/requests[?since=N]   every tracker request so far: method, path, query,
                                        status (null for a dropped connection), fault, the
                                        JSON body of writes, and ``at``/``took`` (seconds since
                                        the server was built, and in the handler, latency
                                        included): a timeline of what a client did
    GET  /_sandbox/state                {"jira": {name: state}, "azure_devops": {org: state}}
    POST /_sandbox/reset                every app back to the dataset; request log cleared
    POST /_sandbox/prerender            render ahead what bulk reads will ask for: every
                                        Azure DevOps item as a Relations batch returns it, and
                                        every Jira issue for the key alone and for each list in
                                        {"jira_fields": [[field, ...], ...]}; answers
                                        {"rendered": {mount: n}, "seconds": s}
    GET  /_sandbox/faults               the fault settings in force
    POST /_sandbox/faults               replace them (a JSON object of FaultConfig fields;
                                        missing fields take their defaults)
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import logging
import socket
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, unquote

from linesight.sandbox.dataset import DatasetError, load_dataset
from linesight.sandbox.faults import Fault, FaultConfig, FaultInjector
from linesight.sandbox.wire import (
    DEFAULT_TOKEN,
    DEFAULT_USER,
    BadJsonError,
    Request,
    Response,
    TrackerApp,
    json_response,
)

__all__ = ["SandboxServer", "build_apps"]

log = logging.getLogger("linesight.sandbox")

_CONTROL_PREFIX = "/_sandbox/"
_WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_MAX_BODY = 64 * 1024 * 1024


def build_apps(dataset: Mapping[str, Any], *, token: str, user: str) -> dict[str, TrackerApp]:
    """One app per Jira instance and per Azure DevOps organization, keyed by mount point."""
    from linesight.sandbox.jira import JiraApp

    apps: dict[str, TrackerApp] = {}
    for instance in dataset.get("jira", []):
        app = JiraApp(
            instance["name"],
            instance["flavour"],
            instance.get("issues", []),
            fields=instance.get("fields"),
            forbidden_projects=instance.get("forbidden_projects", ()),
            token=token,
            user=user,
        )
        apps[app.mount] = app
    by_org: dict[str, list[dict[str, Any]]] = {}
    for entry in dataset.get("azure_devops", []):
        by_org.setdefault(entry["organization"], []).append(entry)
    if by_org:
        try:
            from linesight.sandbox.ado import AdoApp  # type: ignore[import-not-found,unused-ignore]
        except ModuleNotFoundError as exc:
            if exc.name != "linesight.sandbox.ado":
                raise
            raise DatasetError(
                "dataset: azure_devops: this linesight has no Azure DevOps sandbox "
                "(linesight.sandbox.ado); remove the azure_devops entries or upgrade linesight"
            ) from None
        for organization, entries in by_org.items():
            ado_app: TrackerApp = AdoApp(organization, entries, token=token, user=user)
            apps[ado_app.mount] = ado_app
    return apps


class SandboxServer:
    """A local Jira + Azure DevOps on 127.0.0.1, loaded from a dataset.

    ``dataset`` is a parsed dataset dict or the path of a dataset JSON file (see
    :mod:`linesight.sandbox.dataset`). ``port=0`` picks a free port. Use as a context manager,
    or call :meth:`start` and :meth:`stop`::

        with SandboxServer(dataset, port=0) as sandbox:
            jira = JIRA(server=sandbox.url + "/jira/cloud", basic_auth=(user, token))
    """

    def __init__(
        self,
        dataset: Mapping[str, Any] | Path | str,
        *,
        host: str = "127.0.0.1",
        port: int = 8765,
        token: str = DEFAULT_TOKEN,
        user: str = DEFAULT_USER,
        faults: FaultConfig | None = None,
    ) -> None:
        _require_loopback(host)
        self._host = host
        self._port = port
        self._dataset = load_dataset(dataset)
        self._apps = build_apps(self._dataset, token=token, user=user)
        self._injector = FaultInjector(faults or FaultConfig())
        self._log: list[dict[str, Any]] = []
        self._log_lock = threading.Lock()
        self._epoch = time.perf_counter()
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> SandboxServer:
        """Bind and serve in a background thread. Returns ``self``."""
        if self._httpd is not None:
            return self
        try:
            httpd = _HTTPServer((self._host, self._port), self)
        except OSError as exc:
            raise OSError(
                f"sandbox cannot listen on {self._host}:{self._port} ({exc.strerror or exc}); "
                "pick another port, or port=0 for a free one"
            ) from None
        self._httpd = httpd
        self._port = httpd.server_address[1]
        self._thread = threading.Thread(
            target=httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"linesight-sandbox:{self._port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close every open connection (clients' pooled ones too)."""
        httpd, self._httpd = self._httpd, None
        if httpd is None:
            return
        httpd.shutdown()
        httpd.close_connections()
        httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- what tests and tools use in-process ------------------------------------------------

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT`` (the port is known once started when ``port=0``)."""
        host = f"[{self._host}]" if ":" in self._host else self._host
        return f"http://{host}:{self._port}"

    @property
    def port(self) -> int:
        return self._port

    @property
    def apps(self) -> Mapping[str, TrackerApp]:
        """The tracker apps by mount point (``/jira/cloud``, ``/ado/contoso``)."""
        return dict(self._apps)

    @property
    def faults(self) -> FaultConfig:
        return self._injector.config

    @faults.setter
    def faults(self, config: FaultConfig) -> None:
        self._injector.configure(config)

    def requests(self, since: int = 0) -> list[dict[str, Any]]:
        """The request log from index ``since`` (as ``GET /_sandbox/requests`` returns it)."""
        with self._log_lock:
            return list(self._log[since:])

    def state(self) -> dict[str, Any]:
        """Every app's current state (as ``GET /_sandbox/state`` returns it)."""
        jira: dict[str, Any] = {}
        ado: dict[str, Any] = {}
        for mount, app in self._apps.items():
            kind, _, name = mount.strip("/").partition("/")
            (jira if kind == "jira" else ado)[name] = app.state()
        return {"jira": jira, "azure_devops": ado}

    def reset(self) -> None:
        """Every app back to the dataset; the request log cleared. Faults are kept."""
        for app in self._apps.values():
            app.reset()
        with self._log_lock:
            self._log.clear()

    def prerender(self, jira_fields: Sequence[Sequence[str]] = ()) -> dict[str, int]:
        """Render ahead the payloads bulk reads will ask for (see :meth:`TrackerApp.prerender`),
        so that serving them is a join of bytes; renderings per mount."""
        return {mount: app.prerender(self.url, jira_fields) for mount, app in self._apps.items()}

    # -- request handling (called from the handler threads) ---------------------------------

    def _route(self, path: str) -> tuple[TrackerApp, str, str] | None:
        parts = path.split("/", 3)  # "", kind, name, rest
        if len(parts) < 3:
            return None
        mount = f"/{parts[1]}/{parts[2]}"
        app = self._apps.get(mount)
        if app is None and parts[1] == "ado":
            # Azure DevOps organization names are case-insensitive, and the SDK lower-cases
            # the organization URL before its first OPTIONS call
            folded = mount.casefold()
            mount, app = next(
                ((m, a) for m, a in self._apps.items() if m.casefold() == folded), (mount, None)
            )
        if app is None:
            return None
        return app, mount, "/" + parts[3] if len(parts) == 4 else "/"

    def _serve_tracker(
        self, method: str, path: str, query_string: str, headers: dict[str, str], body: bytes
    ) -> Response | None:
        """The response to a tracker request, or ``None`` to drop the connection."""
        arrived = time.perf_counter()
        delay = self._injector.latency_seconds()
        if delay > 0:
            time.sleep(delay)  # a slow server is slow to fail, too
        query = parse_qs(query_string, keep_blank_values=True)
        route = self._route(path)
        fault = self._injector.decide()
        response: Response | None
        if fault is not None and fault.kind != "lost":
            response = _fault_response(fault, path)
        elif route is None:
            response = _not_found(path, sorted(self._apps))
        else:
            app, mount, relative = route
            request = Request(
                method=method,
                path=relative,
                query=query,
                headers=headers,
                body=body,
                mount=mount,
                base_url=self.url,
            )
            try:
                response = app.handle(request)
            except BadJsonError as exc:
                response = _error(path, 400, f"The request body is not valid JSON: {exc}")
            except Exception:
                log.exception("sandbox app %s failed on %s %s", mount, method, path)
                response = _error(path, 500, "Internal server error in the linesight sandbox.")
            if fault is not None:  # "lost": handled (a write is made), the answer never sent
                response = None
        entry: dict[str, Any] = {
            "method": method,
            "path": path,
            "query": query,
            "status": response.status if response is not None else None,
            "fault": fault.kind if fault is not None else None,
            "at": round(arrived - self._epoch, 4),
            "took": round(time.perf_counter() - arrived, 4),
        }
        if method in _WRITE_METHODS:
            entry["body"] = _loggable_body(body)
        with self._log_lock:
            self._log.append(entry)
        return response

    def _serve_control(self, method: str, path: str, query_string: str, body: bytes) -> Response:
        name = path[len(_CONTROL_PREFIX) :].rstrip("/")
        if (method, name) == ("GET", "requests"):
            since_values = parse_qs(query_string).get("since", ["0"])
            try:
                since = max(0, int(since_values[0]))
            except ValueError:
                return json_response(400, {"error": "since must be a non-negative integer"})
            return json_response(200, self.requests(since))
        if (method, name) == ("GET", "state"):
            return json_response(200, self.state())
        if (method, name) == ("POST", "reset"):
            self.reset()
            return json_response(200, {"reset": True})
        if (method, name) == ("POST", "prerender"):
            try:
                data = json.loads(body or b"{}")
                fields = data.get("jira_fields", []) if isinstance(data, dict) else None
                if not isinstance(fields, list) or not all(
                    isinstance(f, list) and all(isinstance(n, str) for n in f) for f in fields
                ):
                    raise ValueError("jira_fields must be a list of lists of field names")
            except ValueError as exc:  # JSONDecodeError is a ValueError
                return json_response(400, {"error": str(exc)})
            started = time.perf_counter()
            rendered = self.prerender(fields)
            seconds = round(time.perf_counter() - started, 3)
            return json_response(200, {"rendered": rendered, "seconds": seconds})
        if (method, name) == ("GET", "faults"):
            return json_response(200, self.faults.to_dict())
        if (method, name) == ("POST", "faults"):
            try:
                data = json.loads(body or b"{}")
                if not isinstance(data, dict):
                    raise ValueError("expected a JSON object of fault settings")
                config = FaultConfig.from_mapping(data)
            except ValueError as exc:  # JSONDecodeError is a ValueError
                return json_response(400, {"error": str(exc)})
            self.faults = config
            return json_response(200, config.to_dict())
        known = "GET requests, GET state, POST reset, POST prerender, GET faults, POST faults"
        return json_response(404, {"error": f"no control endpoint {method} {path} ({known})"})


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    request_queue_size = 256
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], sandbox: SandboxServer) -> None:
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        self.sandbox = sandbox
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, _Handler)

    def track(self, connection: socket.socket, *, open_: bool) -> None:
        with self._connections_lock:
            if open_:
                self._connections.add(connection)
            else:
                self._connections.discard(connection)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that goes away mid-request (killed, timed out, closed its pool) is normal
        # life for a server, not a traceback on stderr; anything else still is one.
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)

    def close_connections(self) -> None:
        # Idle keep-alive connections would otherwise keep their handler threads (and a
        # "stopped" server) alive for as long as a client's pool holds them.
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "linesight-sandbox/1"
    sys_version = ""
    disable_nagle_algorithm = True
    server: _HTTPServer

    def setup(self) -> None:
        super().setup()
        self.server.track(self.connection, open_=True)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.track(self.connection, open_=False)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # the request log is the record; stderr noise is not

    def do_GET(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def do_PUT(self) -> None:
        self._dispatch()

    def do_DELETE(self) -> None:
        self._dispatch()

    def do_PATCH(self) -> None:
        self._dispatch()

    def do_OPTIONS(self) -> None:
        # the azure-devops SDK discovers its routes with OPTIONS {org}/_apis before any call
        self._dispatch()

    def _dispatch(self) -> None:
        sandbox = self.server.sandbox
        raw_path, _, query_string = self.path.partition("?")
        path = unquote(raw_path)
        try:
            body = self._read_body()
        except ValueError as exc:
            self.close_connection = True
            self._send(json_response(400, {"error": str(exc)}))
            return
        method = self.command
        if path.startswith(_CONTROL_PREFIX):
            self._send(sandbox._serve_control(method, path, query_string, body))
            return
        headers = {key.lower(): value for key, value in self.headers.items()}
        response = sandbox._serve_tracker(method, path, query_string, headers, body)
        if response is None:
            self._drop()
            return
        self._send(response)

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks: list[bytes] = []
            total = 0
            while True:
                size_line = self.rfile.readline(1024)
                try:
                    size = int(size_line.split(b";", 1)[0].strip(), 16)
                except ValueError:
                    raise ValueError("malformed chunked request body") from None
                if size == 0:
                    while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    return b"".join(chunks)
                total += size
                if total > _MAX_BODY:
                    raise ValueError("request body too large")
                chunks.append(self.rfile.read(size))
                self.rfile.readline(1024)
        length_header = self.headers.get("Content-Length")
        if not length_header:
            return b""
        try:
            length = int(length_header)
        except ValueError:
            raise ValueError("Content-Length is not a number") from None
        if length < 0 or length > _MAX_BODY:
            raise ValueError("bad Content-Length")
        return self.rfile.read(length)

    def _send(self, response: Response) -> None:
        status = response.status
        try:
            reason = HTTPStatus(status).phrase
        except ValueError:
            reason = ""
        lines = [f"HTTP/1.1 {status} {reason}", f"Date: {self.date_time_string()}"]
        lines.append(f"Server: {self.server_version}")
        lines.extend(f"{name}: {value}" for name, value in response.headers.items())
        if status != 204 and status >= 200:
            lines.append(f"Content-Length: {len(response.body)}")
        if self.close_connection:
            lines.append("Connection: close")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        # One write: headers and body in separate segments invite Nagle/delayed-ACK stalls.
        self.wfile.write(head + (response.body if status != 204 else b""))

    def _drop(self) -> None:
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)


def _require_loopback(host: str) -> None:
    if host == "localhost":
        return
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise ValueError(
            f"the sandbox only listens on loopback (127.0.0.1, ::1, localhost), not {host!r}"
        )


def _is_jira(path: str) -> bool:
    return path.startswith("/jira/")


def _error(
    path: str, status: int, message: str, headers: Mapping[str, str] | None = None
) -> Response:
    """An error in the shape the addressed tracker uses."""
    if _is_jira(path):
        return json_response(status, {"errorMessages": [message], "errors": {}}, headers)
    if not path.startswith("/ado/"):
        return json_response(status, {"error": message}, headers)
    payload = {
        "$id": "1",
        "innerException": None,
        "message": message,
        "typeName": "Microsoft.VisualStudio.Services.WebApi.VssServiceException, "
        "Microsoft.VisualStudio.Services.WebApi",
        "typeKey": "VssServiceException",
        "errorCode": 0,
        "eventId": 3000,
    }
    return json_response(status, payload, headers)


def _fault_response(fault: Fault, path: str) -> Response | None:
    if fault.status is None:
        return None
    headers = dict(fault.headers)
    if _is_jira(path) and "X-RateLimit-Reset" in headers:
        # Jira Cloud sends the reset time as an ISO 8601 timestamp; Azure DevOps as epoch seconds.
        reset = datetime.fromtimestamp(int(headers["X-RateLimit-Reset"]), UTC)
        headers["X-RateLimit-Reset"] = reset.strftime("%Y-%m-%dT%H:%M:%SZ")
    messages = {
        429: "Rate limit exceeded.",
        500: "Internal server error (injected by the linesight sandbox).",
        503: "Service unavailable (injected by the linesight sandbox).",
    }
    return _error(path, fault.status, messages.get(fault.status, "Injected fault."), headers)


def _not_found(path: str, mounts: list[str]) -> Response:
    return _error(
        path, 404, f"Nothing is mounted at {path} (mounts: {', '.join(mounts) or 'none'})"
    )


def _loggable_body(body: bytes) -> Any:
    if not body:
        return None
    try:
        return json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError):
        return body.decode("utf-8", "replace")
