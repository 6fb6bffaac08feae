"""The seam between the sandbox's HTTP server and the trackers it serves.

The server (``server.py``) owns sockets, threads, latency, fault injection, the request log and
auth-agnostic routing by mount point; each tracker (``jira.py``, ``ado.py``) is a
:class:`TrackerApp` that turns a :class:`Request` into a :class:`Response` and knows nothing
about sockets. That keeps every tracker testable by calling ``handle`` directly.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

__all__ = [
    "DEFAULT_TOKEN",
    "DEFAULT_USER",
    "Request",
    "Response",
    "TrackerApp",
    "bearer_or_basic_token",
    "json_response",
]

DEFAULT_USER = "sandbox@example.com"
DEFAULT_TOKEN = "sandbox-token"  # noqa: S105 - a published sandbox credential, not a secret


class BadJsonError(ValueError):
    """The request body is not valid JSON."""


@dataclass(frozen=True, slots=True)
class Request:
    """One HTTP request, with ``path`` relative to the app's mount point.

    ``path`` starts with ``/`` (``/rest/api/3/search/jql`` for a Jira app mounted at
    ``/jira/cloud``); ``headers`` keys are lower-case.
    """

    method: str
    path: str
    query: Mapping[str, list[str]]
    headers: Mapping[str, str]
    body: bytes = b""
    mount: str = ""  # the app's mount point, e.g. "/jira/cloud"
    base_url: str = ""  # "http://127.0.0.1:8765", to build absolute self links

    def arg(self, name: str, default: str | None = None) -> str | None:
        """The first value of query parameter ``name`` (case-sensitive, as the APIs are)."""
        values = self.query.get(name)
        return values[0] if values else default

    def json(self) -> Any:
        if not self.body:
            return None
        try:
            return json.loads(self.body)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise BadJsonError(str(exc)) from None

    @property
    def app_url(self) -> str:
        """Absolute URL of the app's mount point, e.g. ``http://127.0.0.1:8765/jira/cloud``."""
        return f"{self.base_url}{self.mount}"


@dataclass(slots=True)
class Response:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


def json_response(
    status: int, payload: Any, headers: Mapping[str, str] | None = None, *, raw: bytes | None = None
) -> Response:
    """A JSON response. Pass ``raw`` to send pre-rendered bytes (the fast path for big pages)."""
    body = raw if raw is not None else json.dumps(payload, separators=(",", ":")).encode()
    all_headers = {"Content-Type": "application/json; charset=utf-8"}
    if headers:
        all_headers.update(headers)
    return Response(status=status, body=body, headers=all_headers)


def bearer_or_basic_token(headers: Mapping[str, str]) -> tuple[str | None, str | None]:
    """``(user, token)`` from an ``Authorization`` header; ``(None, None)`` when absent/garbled.

    Basic gives ``user:token`` (Jira Cloud: email + API token; Azure DevOps: any user + PAT);
    Bearer gives ``(None, token)`` (Jira Data Center PAT, Azure DevOps OAuth/PAT).
    """
    value = headers.get("authorization", "")
    scheme, _, credentials = value.partition(" ")
    if scheme.lower() == "bearer" and credentials:
        return None, credentials.strip()
    if scheme.lower() == "basic" and credentials:
        try:
            decoded = base64.b64decode(credentials.strip(), validate=True).decode("utf-8")
        except (ValueError, UnicodeDecodeError):
            return None, None
        user, sep, token = decoded.partition(":")
        return (user, token) if sep else (None, None)
    return None, None


class TrackerApp(Protocol):
    """One tracker instance served by the sandbox (a Jira site or an Azure DevOps org)."""

    mount: str  # "/jira/{name}" or "/ado/{organization}"

    def handle(self, request: Request) -> Response:
        """Answer one request. Must be thread-safe: the server is threaded."""
        ...

    def state(self) -> dict[str, Any]:
        """Current items, as native payloads, for ``GET /_sandbox/state``."""
        ...

    def reset(self) -> None:
        """Back to the dataset as loaded (``POST /_sandbox/reset``)."""
        ...

    def prerender(self, base_url: str, jira_fields: Sequence[Sequence[str]]) -> int:
        """Render ahead the payloads bulk reads will ask for (``POST /_sandbox/prerender``),
        with links under ``base_url`` + the mount; the number of payloads rendered.

        A Jira site renders every issue once per ``fields`` list in ``jira_fields`` (and once
        with just the key); an Azure DevOps organization renders every work item as a batch
        read with ``$expand=Relations`` returns it.
        """
        ...
