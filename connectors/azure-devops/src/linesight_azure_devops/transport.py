"""The one way this connector talks to Azure DevOps: the SDK's connection, tamed.

The ``azure-devops`` SDK keeps what it is good at — credentials, route discovery
(``OPTIONS _apis`` + ``_apis/resourceAreas``), api-version negotiation in the ``Accept``
header — and loses what hurts a nightly job:

- msrest's own retries are switched off (it retries 408/5xx but not 429, with its own backoff),
  so :func:`linesight.retry.call_with_retry` is the only retry layer and waits never stack;
- the SDK's exceptions carry no status code or headers, so a msrest response hook records the
  status and the throttling headers of every response; errors are translated from those;
- Azure DevOps may answer ``200`` *with* ``Retry-After`` when a caller nears its limit
  (https://learn.microsoft.com/azure/devops/integrate/concepts/rate-limits); the hook turns that
  into a pause before the next request;
- bulk reads go through the SDK client's own request path (``Client._send``) but skip msrest's
  model deserialization, which costs ~2.5 ms CPU per work item: :meth:`AdoTransport.send_for_body`
  hands the undecoded body to :mod:`linesight_azure_devops.mapping`, which decodes only what it
  maps.

The SDK caches route data on disk under ``~/.azure-devops`` and picks that folder at *import*
time. :func:`cache_dir` chooses linesight's own folder instead and the module-level caches are
re-pointed at it whenever a transport is built.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote

from linesight.errors import AuthError, PayloadError, TrackerError, TransientError, redact_url
from linesight.retry import DEFAULT_POLICY, RetryPolicy, call_with_retry, retry_after_seconds
from linesight.settings import AzureDevOpsSource

__all__ = [
    "AdoTransport",
    "BadRequestError",
    "Body",
    "ConflictError",
    "NotFoundError",
    "cache_dir",
]

log = logging.getLogger("linesight.azure_devops")
T = TypeVar("T")

WIT_AREA_ID = "5264459e-e5e0-4bd8-b118-0985e68a4ec5"  # WorkItemTrackingClient's resource area

# Location ids and versions of the Work Item Tracking routes used (from the 7.1 SDK client).
WIQL = ("1a9c53f7-f243-4447-b110-35ef023636e4", "7.1-preview.2")
WORK_ITEMS_BATCH = ("908509b6-4248-4475-a1cd-829139ba419f", "7.1-preview.1")
WORK_ITEM = ("72c7ddf8-2cdc-4f60-90cd-ab71c14a399b", "7.1-preview.3")
TYPE_STATES = ("7c9d7a76-4a09-43e8-b5df-bd792f4ac6aa", "7.1-preview.1")
WORK_ITEM_TYPES = ("7c8d7a76-4a09-43e8-b5df-bd792f4ac6aa", "7.1-preview.2")
COMMENTS = ("608aac0a-32e1-4493-a863-b9cf4566d257", "7.1-preview.4")
FIELDS = ("b51fd764-e5c2-4b9b-aaf7-3395cf4bdd94", "7.1-preview.3")

CACHE_ENV = "AZURE_DEVOPS_CACHE_DIR"
STATE_DIR_ENV = "LINESIGHT_STATE_DIR"


class BadRequestError(TrackerError):
    """400: the server refused the request as invalid (a bad WIQL, a bad field...)."""


class NotFoundError(TrackerError):
    """404: the item, project or route does not exist (or is not visible to this token)."""


class ConflictError(TrackerError):
    """409/412: the item changed since we read it (a failed ``test /rev``)."""


def cache_dir() -> Path:
    """Where the SDK's route cache lives.

    ``$AZURE_DEVOPS_CACHE_DIR`` if set (the CLI sets it to ``<state_dir>/azure-devops-cache``),
    else ``$LINESIGHT_STATE_DIR/azure-devops-cache``, else a per-user folder in the temp dir —
    never the SDK's default ``~/.azure-devops``.
    """
    explicit = os.environ.get(CACHE_ENV)
    if explicit:
        return Path(explicit)
    state = os.environ.get(STATE_DIR_ENV)
    if state:
        return Path(state) / "azure-devops-cache"
    user = os.environ.get("USER") or os.environ.get("USERNAME") or "user"
    return Path(tempfile.gettempdir()) / f"linesight-azure-devops-cache-{user}"


def _point_sdk_cache(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    # The SDK reads AZURE_DEVOPS_CACHE_DIR once, when azure.devops._file_cache is imported;
    # setting it first keeps that import from creating ~/.azure-devops.
    os.environ.setdefault(CACHE_ENV, str(folder))
    from azure.devops import _file_cache

    for cache, name in (
        (_file_cache.OPTIONS_CACHE, "options"),
        (_file_cache.RESOURCE_CACHE, "resources"),
    ):
        wanted = str(folder / f"{name}.json")
        if cache.file_name != wanted:
            cache.file_name = wanted
            cache.initial_load_occurred = False


def _cached_areas(location: Any) -> list[Any] | None:
    """The resource areas the SDK's file cache holds for this organization (it keeps them 12
    hours, as it does the route options), or ``None``: then they are read from the service."""
    from azure.devops import _file_cache

    cached = _file_cache.RESOURCE_CACHE.get(location.normalized_url)
    if not cached:
        return None
    try:
        areas = location._base_deserialize.deserialize_data(cached, "[ResourceAreaInfo]")
    except Exception:  # a damaged cache entry is only a cache miss
        return None
    if not isinstance(areas, list) or not any(
        str(getattr(a, "id", "")).lower() == WIT_AREA_ID for a in areas
    ):
        return None
    return areas


def _remember_areas(location: Any, areas: list[Any]) -> None:
    """Keep ``areas`` in the SDK's file cache, as the SDK's own discovery does."""
    from azure.devops import _file_cache

    try:
        serialized = location._base_serialize.serialize_data(areas, "[ResourceAreaInfo]")
        _file_cache.RESOURCE_CACHE[location.normalized_url] = serialized
    except Exception:  # a cache that cannot be written only costs a request
        log.debug("could not cache the resource areas of %s", redact_url(location.normalized_url))


def _read_whole_body(response: Any) -> None:
    """Read the body now, in one call.

    msrest streams every answer and the SDK then reads it through ``requests``' 10 KB chunks:
    for a 400 KB batch of work items that is forty trips through Python, each taking the GIL
    back from the thread mapping the previous batch. Failures are raised as ``requests``
    raises them while reading a body.
    """
    import requests
    from urllib3.exceptions import DecodeError, ProtocolError, ReadTimeoutError

    if getattr(response, "_content_consumed", True) or not hasattr(response.raw, "read"):
        return  # read already (or not a requests answer)
    try:
        content = response.raw.read(decode_content=True)
    except (ProtocolError, ReadTimeoutError) as exc:  # cut short, or too slow
        raise requests.exceptions.ConnectionError(exc) from exc
    except DecodeError as exc:
        raise requests.exceptions.ContentDecodingError(exc) from exc
    response._content = content or b""
    response._content_consumed = True


@dataclass(frozen=True, slots=True)
class Body:
    """An answer's body, read but not decoded."""

    content: bytes
    encoding: str | None  # the charset the answer declared, if any

    def json(self) -> Any:
        """The body as JSON, decoded as ``requests`` does; ``ValueError`` when it is not."""
        from requests.utils import guess_json_utf

        encoding = self.encoding
        if encoding is None:
            encoding = guess_json_utf(self.content) or "utf-8"  # type: ignore[no-untyped-call]
        try:
            text = str(self.content, encoding, errors="replace")
        except LookupError:  # a charset Python does not know
            text = str(self.content, "utf-8", errors="replace")
        return json.loads(text)


@dataclass(slots=True)
class _Seen:
    status: int | None = None
    headers: Mapping[str, str] | None = None


class AdoTransport:
    """An authenticated Work Item Tracking client with linesight's retry and error policy.

    Thread-safe: the SDK keeps one ``requests`` session per thread, and what the response hook
    sees is kept per thread too.
    """

    def __init__(self, source: AzureDevOpsSource, *, policy: RetryPolicy = DEFAULT_POLICY) -> None:
        _point_sdk_cache(cache_dir())
        from azure.devops.connection import Connection
        from msrest.authentication import BasicAuthentication

        self.source = source
        self.url = source.url.rstrip("/")
        self._policy = policy
        token = source.token.get_secret_value() if source.token is not None else ""
        # PATs go in the password of Basic auth with an empty user name.
        self._creds = BasicAuthentication("", token)
        self._connection = Connection(base_url=self.url, creds=self._creds, user_agent="linesight")
        self._seen = threading.local()
        self._pause_lock = threading.Lock()
        self._not_before = 0.0
        self._client: Any = None
        self._client_lock = threading.Lock()
        self._unreachable: TransientError | None = None  # gave up reaching it, every retry made
        # Whether the organization has answered this transport once. Until it has, calls go
        # one at a time (the first one through, the rest waiting): a service that is down costs
        # one round of retries, not one per thread. Route discovery from the SDK's file cache
        # makes no request, so it proves nothing.
        self._proven = threading.Event()
        self._gate = threading.Lock()
        self.requests_made = 0  # every HTTP response seen, for diagnostics
        self._sessions: list[Any] = []

    # -- plumbing ------------------------------------------------------------------------------

    def _configure(self, client: Any) -> Any:
        """No msrest retries, our timeout/TLS settings, and the response hook."""
        from urllib3 import Retry

        config = client.config
        # ClientRetryPolicy.retries = 0 still retries statuses in its forcelist once the
        # budget is "used"; a plain Retry without a forcelist makes urllib3 hand back every
        # response as it came.
        no_retries = Retry(total=0, read=False, redirect=False, status_forcelist=())
        no_retries.BACKOFF_MAX = 0  # type: ignore[attr-defined]  # msrest logs it per session
        config.retry_policy.policy = no_retries
        # The sender built this thread's session (and its retrying adapters) in its
        # constructor; re-initialise it so the policy above applies here too.
        driver = config.pipeline._sender.driver
        driver._init_session(driver.session)
        config.connection.timeout = self.source.timeout_s
        config.connection.verify = self.source.verify_tls
        config.hooks.append(self._hook)
        return client

    def _hook(self, response: Any, *args: Any, **kwargs: Any) -> None:
        _read_whole_body(response)  # first: a body cut short is no answer, not a 200
        session = kwargs.get("msrest", {}).get("session")
        if session is not None and session not in self._sessions:
            with self._pause_lock:
                self._sessions.append(session)  # one per thread; closed in close()
        seen = _Seen(status=response.status_code, headers=dict(response.headers))
        self._seen.last = seen
        self.requests_made += 1
        if 200 <= response.status_code < 300 and seen.headers:
            wait = retry_after_seconds(_retry_after_only(seen.headers))
            if wait:
                # Throttled but served: slow down before the next call (errors are waited
                # out by the retry policy instead, so the two never stack).
                with self._pause_lock:
                    self._not_before = max(
                        self._not_before, time.monotonic() + min(wait, self._policy.max_single_wait)
                    )

    def _pace(self) -> None:
        delay = self._not_before - time.monotonic()
        if delay > 0:
            log.info("Azure DevOps asked us to slow down; waiting %.1fs", delay)
            time.sleep(delay)

    def wit(self) -> Any:
        """The SDK's ``WorkItemTrackingClient``, built once (route discovery on first use)."""
        with self._client_lock:
            if self._unreachable is not None:
                # The retries already gave up on this organization: threads that waited on the
                # lock fail now instead of each waiting out the whole retry budget again.
                raise self._unreachable
            if self._client is None:
                try:
                    self._client = self._retried(
                        "discover the Work Item Tracking service", self._build
                    )
                except TransientError as exc:
                    self._unreachable = exc
                    raise
            return self._client

    def prove(self) -> None:
        """Make sure the organization answers (one request, unless one already got through).

        For steps that retry on their own (write-back's read-modify-write rounds) and for
        ``doctor``: route discovery may have come from the cache without asking the service.
        """
        self.wit()
        if not self._proven.is_set():
            self.call("reach the organization", self._read_areas)

    def _build(self) -> Any:
        from azure.devops.v7_1.location.location_client import LocationClient

        if self._connection._resource_areas is None:
            # The SDK fetches resource areas through a throwaway client with default retries,
            # and asks app.vssps.visualstudio.com when an area is missing: do it ourselves.
            location = self._configure(LocationClient(self.url, self._creds))
            areas = _cached_areas(location)
            if areas is None:
                areas = self._read_areas(location)
                _remember_areas(location, areas)
            self._connection._resource_areas = areas
        client = self._connection.clients_v7_1.get_work_item_tracking_client()
        return self._configure(client)

    def _read_areas(self, location: Any = None) -> list[Any]:
        """The organization's resource areas, from the service; it must offer Boards."""
        from azure.devops.v7_1.location.location_client import LocationClient

        if location is None:
            location = self._configure(LocationClient(self.url, self._creds))
        areas: list[Any] = location.get_resource_areas() or []
        self._proven.set()
        if areas and not any(a.id.lower() == WIT_AREA_ID for a in areas):
            raise TrackerError(
                f"{redact_url(self.url)} does not offer Azure Boards (Work Item Tracking); "
                "check the organization URL (https://dev.azure.com/<organization>)"
            )
        return areas

    def close(self) -> None:
        """Close the pooled connections of every thread that made a request."""
        with self._pause_lock:
            sessions, self._sessions = self._sessions, []
        for session in sessions:
            session.close()

    # -- calls ---------------------------------------------------------------------------------

    def call(self, what: str, fn: Callable[[], T]) -> T:
        """Run one SDK call under the retry policy, translating failures.

        Until the organization has answered once, calls go through one at a time; if the
        first one gives up (the service is unreachable), the waiting ones fail at once.
        """
        if not self._proven.is_set():
            with self._gate:
                if self._unreachable is not None:
                    raise self._unreachable
                if not self._proven.is_set():
                    try:
                        result = self._retried(what, fn)
                    except TransientError as exc:
                        self._unreachable = exc
                        raise
                    except TrackerError:
                        self._proven.set()  # it answered, if only to refuse
                        raise
                    self._proven.set()
                    return result
        return self._retried(what, fn)

    def _retried(self, what: str, fn: Callable[[], T]) -> T:
        return call_with_retry(partial(self._once, what, fn), what=what, policy=self._policy)

    def _once(self, what: str, fn: Callable[[], T]) -> T:
        self._pace()
        self._seen.last = _Seen()
        try:
            return fn()
        except Exception as exc:
            raise self._translate(exc, what) from None

    def send(
        self,
        what: str,
        method: str,
        route: tuple[str, str],
        route_values: Mapping[str, str] | None = None,
        query: Mapping[str, str] | None = None,
        content: Any = None,
        media_type: str = "application/json",
    ) -> Any:
        """One request through the SDK's own request path, retried; returns the JSON body.

        ``route_values`` and ``query`` are quoted here (msrest pastes them in as given).
        """
        request = self._request(what, method, route, route_values, query, content, media_type)
        return self.call(what, request)

    def send_for_body(
        self,
        what: str,
        method: str,
        route: tuple[str, str],
        route_values: Mapping[str, str] | None = None,
        query: Mapping[str, str] | None = None,
        content: Any = None,
    ) -> Body | None:
        """Like :meth:`send` but the body is left undecoded (``None`` when empty).

        For bulk reads whose caller decodes the bytes itself, faster than generic JSON; the body
        is read inside the retried call, so a connection dropped mid-body is retried as before.
        """
        request = self._request(
            what, method, route, route_values, query, content, "application/json", raw=True
        )
        body: Body | None = self.call(what, request)
        return body

    def attempt(
        self,
        what: str,
        method: str,
        route: tuple[str, str],
        route_values: Mapping[str, str] | None = None,
        query: Mapping[str, str] | None = None,
        content: Any = None,
        media_type: str = "application/json",
    ) -> Any:
        """Like :meth:`send` but tried once: for steps whose caller retries a whole
        read-modify-write (a retried POST must not add a second comment)."""
        request = self._request(what, method, route, route_values, query, content, media_type)
        return self._once(what, request)

    def _request(
        self,
        what: str,
        method: str,
        route: tuple[str, str],
        route_values: Mapping[str, str] | None,
        query: Mapping[str, str] | None,
        content: Any,
        media_type: str,
        *,
        raw: bool = False,
    ) -> Callable[[], Any]:
        location_id, version = route
        quoted_route = {k: quote(str(v), safe="") for k, v in (route_values or {}).items()}
        quoted_query = {k: quote(str(v), safe="") for k, v in (query or {}).items()}
        client = self.wit()  # outside the retried call, so discovery retries never nest

        def request() -> Any:
            response = client._send(
                http_method=method,
                location_id=location_id,
                version=version,
                route_values=dict(quoted_route),
                query_parameters=dict(quoted_query) or None,
                content=content,
                media_type=media_type,
            )
            if not response.content:
                return None
            if raw:
                return Body(response.content, response.encoding)
            try:
                return response.json()
            except ValueError:
                raise PayloadError(
                    f"{what}: Azure DevOps answered with a body that is not JSON"
                ) from None

        return request

    def _translate(self, exc: Exception, what: str) -> Exception:
        import requests
        from azure.devops.exceptions import AzureDevOpsAuthenticationError
        from msrest.exceptions import ClientException

        if isinstance(exc, TrackerError):
            return exc
        inner = getattr(exc, "inner_exception", None) or exc.__cause__
        if isinstance(inner, requests.exceptions.ConnectionError | requests.exceptions.Timeout):
            # No answer to *this* request (refused, dropped, timed out). A status seen earlier
            # in the same call — route discovery makes several requests — is another's.
            where = redact_url(self.url)
            return TransientError(f"{where}: {what}: no answer from Azure DevOps ({_cause(exc)})")
        seen: _Seen = getattr(self._seen, "last", _Seen())
        status = seen.status
        headers = seen.headers or {}
        server = _server_message(exc)
        where = redact_url(self.url)
        token_env = self.source.token_env or "the source's token_env"
        if status == 401 or isinstance(exc, AzureDevOpsAuthenticationError):
            return AuthError(
                f"{where}: Azure DevOps refused the credentials (401) while trying to {what}; "
                f"check the personal access token in ${token_env} (expired or revoked?)",
                status=401,
            )
        if status == 403:
            return AuthError(
                f"{where}: the token in ${token_env} may not {what} (403); give it the "
                f"'Work Items (Read & write)' scope and access to project "
                f"'{self.source.project}'" + (f": {server}" if server else ""),
                status=403,
            )
        if status is not None and (
            status in (408, 429) or (status >= 500 and status not in (501, 505))
        ):
            return TransientError(
                f"{where}: {what}: Azure DevOps answered {status}"
                + (f": {server}" if server else ""),
                status=status,
                retry_after=retry_after_seconds(headers),
            )
        if status == 400:
            return BadRequestError(server or f"{what}: bad request (400)", status=400)
        if status == 404:
            return NotFoundError(server or f"{what}: not found (404)", status=404)
        if status in (409, 412):
            return ConflictError(
                server or f"{what}: changed concurrently ({status})", status=status
            )
        if status is None and isinstance(exc, ClientException):
            # No response at all: a refused or dropped connection, a timeout.
            return TransientError(f"{where}: {what}: no answer from Azure DevOps ({_cause(exc)})")
        if status is not None:
            return TrackerError(
                f"{where}: {what}: Azure DevOps answered {status}"
                + (f": {server}" if server else ""),
                status=status,
            )
        return PayloadError(f"{where}: {what}: unexpected response ({type(exc).__name__}: {exc})")


def _retry_after_only(headers: Mapping[str, str]) -> dict[str, str]:
    # X-RateLimit-Reset is informative on every answer; only Retry-After asks us to wait.
    return {k: v for k, v in headers.items() if k.lower() == "retry-after"}


def _server_message(exc: Exception) -> str:
    message = getattr(exc, "message", None) or str(exc)
    message = str(message).strip()
    for noise in ("Operation returned a", "Error occurred in request"):
        if message.startswith(noise):
            return ""
    return message


def _cause(exc: BaseException) -> str:
    inner = getattr(exc, "inner_exception", None) or exc.__cause__ or exc.__context__
    if inner is None:
        return type(exc).__name__
    return type(inner).__name__
