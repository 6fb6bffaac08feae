"""The one way this connector talks to Jira: the ``jira`` library, retried and translated.

- The client is the real :class:`jira.JIRA`; calls it does not wrap (``issue/bulkfetch``, a
  label PUT without the re-read that ``Issue.update`` does) go through its own session, which
  carries the auth.
- Its :class:`~jira.resilientsession.ResilientSession` retries are switched off
  (``max_retries=0``): every call is retried by :func:`linesight.retry.call_with_retry` alone, so
  waits never stack (the library would double ``Retry-After`` and skip a 503 without one).
- At most ``concurrency`` requests of one source are in flight at once, however many threads
  ask (a sync lists keys and runs KR queries beside the fetch).
- Failures become the linesight error tree once, here: 429 / 5xx / dropped connections ->
  :class:`TransientError`, 401/403 -> :class:`AuthError`, 400 -> what the caller says it means
  (:class:`QueryError` for JQL). ``str(JIRAError)`` includes the request headers, i.e. the
  Authorization header, so it is never used: messages are built from the status and Jira's
  ``errorMessages`` only.
"""

from __future__ import annotations

import http.client
import json
import threading
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import msgspec
import requests
from jira import JIRA, JIRAError
from requests.adapters import HTTPAdapter

from linesight.errors import (
    AuthError,
    ConfigError,
    LinesightError,
    PayloadError,
    TrackerError,
    TransientError,
    redact_url,
)
from linesight.retry import DEFAULT_POLICY, RetryPolicy, call_with_retry, retry_after_seconds
from linesight.settings import JiraSource

__all__ = ["JiraHttp"]

T = TypeVar("T")
_MAX_DETAIL = 300
BadRequest = Callable[[str], LinesightError]


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _MAX_DETAIL else text[: _MAX_DETAIL - 1] + "…"


class JiraHttp:
    """A connected :class:`jira.JIRA` for one source, and retried calls through it.

    Connecting (``serverInfo``) happens on first use, so ``linesight doctor`` can report an
    unreachable site as a finding instead of failing to build the connector.
    """

    def __init__(self, source: JiraSource) -> None:
        self.source = source
        self.cloud = source.flavour == "cloud"
        self.api = "3" if self.cloud else "2"
        self._client: JIRA | None = None
        self._unreachable: TransientError | None = None  # connecting failed after every retry
        self._server_info: dict[str, Any] = {}
        self._lock = threading.Lock()
        # A sync runs a source's fetch, key listing and KR queries side by side, each with its
        # own workers; this keeps the source's requests in flight at `concurrency` in all.
        self._slots = threading.BoundedSemaphore(max(1, source.concurrency))

    # -- connection -----------------------------------------------------------------------------

    def _auth(self) -> dict[str, Any]:
        source = self.source
        if source.token is None:
            where = (
                f"the environment variable {source.token_env}"
                if source.token_env
                else "an environment variable named by token_env"
            )
            raise ConfigError(
                f"source '{source.name}': no Jira token; put the API token in {where}"
            )
        token = source.token.get_secret_value()
        if self.cloud:
            if not source.user:
                raise ConfigError(
                    f"source '{source.name}': Jira Cloud needs 'user' (the account email that "
                    "owns the API token)"
                )
            return {"basic_auth": (source.user, token)}
        # Data Center: a personal access token is a Bearer token; user + password is Basic.
        return {"basic_auth": (source.user, token)} if source.user else {"token_auth": token}

    def _connect(self) -> JIRA:
        source = self.source
        options: dict[str, Any] = {
            "server": source.url,
            "rest_api_version": self.api,
            "verify": source.verify_tls,
            "check_update": False,
        }
        client = JIRA(
            options=options,
            max_retries=0,
            timeout=source.timeout_s,
            get_server_info=True,
            logging=False,
            **self._auth(),
        )
        # One pooled connection per worker thread; the default pool keeps 10.
        adapter = HTTPAdapter(pool_connections=4, pool_maxsize=max(10, source.concurrency))
        client._session.mount("http://", adapter)
        client._session.mount("https://", adapter)
        return client

    def connect(self, policy: RetryPolicy = DEFAULT_POLICY) -> JIRA:
        """The connected client, without the flavour check (``linesight doctor`` reports it)."""
        if self._client is None:
            with self._lock:
                if self._unreachable is not None:
                    # The retries already gave up on this site: threads that waited on the
                    # lock fail now instead of each waiting out the whole retry budget again.
                    raise self._unreachable
                if self._client is None:
                    try:
                        client = self.call(
                            self._connect, what="connect (serverInfo)", policy=policy
                        )
                    except TransientError as exc:
                        self._unreachable = exc
                        raise
                    except TrackerError as exc:
                        if exc.status != 404:
                            raise
                        raise ConfigError(self._not_found()) from None
                    # The constructor already read serverInfo; keep what it learned.
                    self._server_info = {
                        "deploymentType": client.deploymentType,
                        "versionNumbers": list(client._version),
                    }
                    self._client = client
        return self._client

    def _not_found(self) -> str:
        url = redact_url(self.source.url)
        if self.cloud:
            hint = 'Jira Data Center has no REST v3: set flavour = "datacenter"'
        else:
            hint = "use the site's base URL, e.g. https://jira.example.com"
        return (
            f"source '{self.source.name}': {url} has no Jira REST API v{self.api} "
            f"(serverInfo answered 404); {hint}"
        )

    @property
    def client(self) -> JIRA:
        """The connected client; raises :class:`ConfigError` if the flavour is wrong."""
        client = self.connect()
        problem = self.flavour_problem()
        if problem:
            raise ConfigError(problem)
        return client

    @property
    def deployment(self) -> str:
        """``Cloud``, ``Server`` or ``DataCenter``, as the site reports itself."""
        self.connect()
        return str(self._server_info.get("deploymentType") or "unknown")

    def flavour_problem(self) -> str | None:
        """Why the configured flavour does not match the site, or ``None``."""
        actual_cloud = self.deployment == "Cloud"
        if actual_cloud == self.cloud:
            return None
        wanted = "cloud" if actual_cloud else "datacenter"
        return (
            f"source '{self.source.name}' is configured as flavour '{self.source.flavour}' but "
            f'{redact_url(self.source.url)} is Jira {self.deployment}; set flavour = "{wanted}"'
        )

    def close(self) -> None:
        with self._lock:
            if self._client is not None:
                self._client.close()  # type: ignore[no-untyped-call]
                self._client = None

    # -- calls ---------------------------------------------------------------------------------

    def url(self, path: str) -> str:
        """Absolute URL of a REST path (``issue/PAY-1``) under the configured API version."""
        return str(self.client._get_url(path))

    def call(
        self,
        fn: Callable[[], T],
        *,
        what: str,
        bad_request: BadRequest | None = None,
        policy: RetryPolicy = DEFAULT_POLICY,
    ) -> T:
        """Run ``fn`` (one HTTP request) under the retry policy, translating its failures."""

        def attempt() -> T:
            try:
                with self._slots:  # held for the request only, not for a retry's wait
                    return fn()
            except LinesightError:
                raise
            except JIRAError as exc:
                raise self.translate(exc, what=what, bad_request=bad_request) from None
            except (
                requests.ConnectionError,
                requests.Timeout,
                requests.exceptions.ChunkedEncodingError,
                http.client.RemoteDisconnected,
                http.client.IncompleteRead,
            ) as exc:
                raise TransientError(
                    f"Jira '{self.source.name}': {what}: connection failed ({type(exc).__name__})"
                ) from None
            except ValueError as exc:  # a body that is not JSON (a proxy page, a cut response)
                raise PayloadError(
                    f"Jira '{self.source.name}': {what}: the answer is not JSON "
                    f"({_short(str(exc))}); is {redact_url(self.source.url)} a Jira site?"
                ) from None

        # The errors already name the source and the call; the retry log line adds nothing.
        return call_with_retry(attempt, what="jira", policy=policy)

    def translate(
        self, exc: JIRAError, *, what: str, bad_request: BadRequest | None = None
    ) -> LinesightError:
        """The linesight error for a failed Jira call (never includes headers or the token)."""
        status = exc.status_code
        name = self.source.name
        detail = _short(exc.text or "") if isinstance(exc.text, str) else ""
        response = exc.response if isinstance(exc.response, requests.Response) else None
        headers: Mapping[str, str] = response.headers if response is not None else {}
        if status is None or status == 429 or status >= 500:
            return TransientError(
                f"Jira '{name}': {what}: HTTP {status or 'no response'}"
                + (f": {detail}" if detail else ""),
                status=status,
                retry_after=retry_after_seconds(headers),
            )
        if status == 401:
            who = f" and the user '{self.source.user}'" if self.source.user else ""
            var = self.source.token_env or "the variable named by token_env"
            return AuthError(
                f"Jira '{name}' rejected the credentials (401): check the token in {var}{who}",
                status=401,
            )
        if status == 403:
            return AuthError(
                f"Jira '{name}' denied {what} (403)"
                + (f": {detail}" if detail else "")
                + "; the account needs Browse projects (and Edit issues / Add comments to write)",
                status=403,
            )
        if status == 400 and bad_request is not None:
            return bad_request(detail or "HTTP 400")
        return TrackerError(
            f"Jira '{name}': {what}: HTTP {status}" + (f": {detail}" if detail else ""),
            status=status,
        )

    # -- request helpers (each is one HTTP request) ---------------------------------------------

    def get(
        self,
        path: str,
        params: Mapping[str, Any] | None = None,
        *,
        what: str,
        bad_request: BadRequest | None = None,
    ) -> Any:
        client = self.client
        return self.call(
            lambda: client._get_json(path, params=dict(params or {})),
            what=what,
            bad_request=bad_request,
        )

    def post(
        self,
        path: str,
        body: Mapping[str, Any],
        *,
        what: str,
        bad_request: BadRequest | None = None,
    ) -> Any:
        client = self.client
        url = self.url(path)
        data = json.dumps(body)

        def send() -> Any:
            response = client._session.post(url, data=data)
            return _decoded(response)

        return self.call(send, what=what, bad_request=bad_request)

    def put(
        self,
        path: str,
        body: Mapping[str, Any],
        params: Mapping[str, str] | None = None,
        *,
        what: str,
        bad_request: BadRequest | None = None,
    ) -> None:
        client = self.client
        url = self.url(path)
        data = json.dumps(body)
        self.call(
            lambda: client._session.put(url, params=dict(params or {}), data=data),
            what=what,
            bad_request=bad_request,
        )

    def delete(self, path: str, *, what: str) -> None:
        client = self.client
        url = self.url(path)
        self.call(lambda: client._session.delete(url), what=what)


def _decoded(response: requests.Response) -> Any:
    """The JSON body (``{}`` when empty): msgspec's decoder for well-formed UTF-8, which search
    pages are, and ``requests``' own decoding (charset guessing, ``ValueError``) otherwise."""
    content = response.content
    if not content:
        return {}
    try:
        return msgspec.json.decode(content)
    except msgspec.DecodeError:
        return response.json()
