"""The Jira connector: sync, key listing, KR queries, write-back and doctor checks.

How a sync reads Jira (requests per 1,000 issues in brackets):

- **Cloud**: issue ids are listed with ``search/jql`` asking for keys only, 5,000 per page
  [0.2], and the issues are read with ``POST issue/bulkfetch``, 100 per call, only the fields
  linesight maps [10]. Listing runs in parallel id ranges (see :mod:`linesight_jira.scan`), and
  bulk fetches start as soon as the first ids arrive, ``concurrency`` requests at a time.
- **Data Center** has no bulk fetch, but its search returns 1,000 full issues per page [1];
  keyset paging (``id > last``) keeps clear of the 10,000-result window of OpenSearch-backed
  sites.

Incremental sync adds ``updated >= "<watermark>"`` (minute precision, in the account's time
zone) to the same scope; :meth:`JiraConnector.list_keys` lists the whole scope cheaply so that
deletions and moves out of scope are noticed.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, tzinfo
from typing import Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from linesight.connector import Check, CurrentState, Progress, Watermark
from linesight.errors import PayloadError, QueryError, TrackerError
from linesight.model import Operation, OperationResult, WorkItem
from linesight.settings import JiraSource
from linesight_jira.checks import run_checks
from linesight_jira.client import JiraHttp
from linesight_jira.jql import Scope, keys_in, strip_order_by, updated_since
from linesight_jira.mapping import ISSUE_KEY, IssueMapper
from linesight_jira.scan import Page, Step, Task, id_scan, run_tasks
from linesight_jira.writes import JiraWriter

__all__ = ["JiraConnector"]

log = logging.getLogger("linesight.jira")
T = TypeVar("T")

CLOUD_ID_PAGE = 5000  # search/jql returns up to 5,000 issues per page when asked for keys only
CLOUD_BULK = 100  # issue/bulkfetch takes at most 100 ids
DC_PAGE = 1000  # Data Center's default (and usual) jira.search.views.default.max
STATE_FIELDS = ["labels", "comment"]


class JiraConnector:
    """A :class:`~linesight.connector.Connector` for one Jira Cloud or Data Center source."""

    def __init__(self, source: JiraSource) -> None:
        self.source = source
        self.scope = Scope.from_source(source)
        self.mapper = IssueMapper.for_source(source)
        self.http = JiraHttp(source)
        self.writer = JiraWriter(self.http)
        self._zone: tzinfo | None = None

    # -- searching -----------------------------------------------------------------------------

    def _search(self, fields: list[str], *, query_text: str | None = None) -> Any:
        """``search(jql, max_results) -> Page`` for this flavour (one POST per page)."""
        http = self.http
        name = self.source.name

        def refused(detail: str) -> QueryError:
            shown = query_text if query_text is not None else "the source's scope (projects/jql)"
            return QueryError(f"Jira '{name}' refused the query {shown!r}: {detail}")

        def search(jql: str, max_results: int) -> Page:
            if http.cloud:
                body: dict[str, Any] = {"jql": jql, "maxResults": max_results, "fields": fields}
                raw = http.post("search/jql", body, what="search", bad_request=refused)
                if not isinstance(raw, dict) or not isinstance(raw.get("issues"), list):
                    raise PayloadError(f"Jira '{name}': search/jql answered without 'issues'")
                last = raw.get("isLast") is True or not raw.get("nextPageToken")
                return Page(raw["issues"], last)
            body = {
                "jql": jql,
                "startAt": 0,
                "maxResults": max_results,
                "fields": fields,
                "validateQuery": True,
            }
            raw = http.post("search", body, what="search", bad_request=refused)
            if not isinstance(raw, dict) or not isinstance(raw.get("issues"), list):
                raise PayloadError(f"Jira '{name}': search answered without 'issues'")
            issues = raw["issues"]
            total = raw.get("total")
            page_cap = raw.get("maxResults")
            if isinstance(total, int):
                last = len(issues) >= total
            else:
                last = len(issues) < (page_cap if isinstance(page_cap, int) else max_results)
            return Page(issues, last, total if isinstance(total, int) else None)

        return search

    def _run(self, first: Task[T]) -> Iterator[Step[T]]:
        workers = self.source.concurrency
        _ = self.http.client  # connect (and check the flavour) once, before the threads start
        pool = ThreadPoolExecutor(workers, thread_name_prefix=f"jira-{self.source.name}")
        try:
            yield from run_tasks(pool, [first], limit=workers)
        finally:
            pool.shutdown(wait=True, cancel_futures=True)

    def _list(self, condition: str, *, query_text: str | None = None) -> Iterator[str]:
        """Keys of ``<scope> AND <condition>``, keys only, big pages."""
        search = self._search(["key"], query_text=query_text)

        def keys(issues: list[dict[str, Any]]) -> Step[str]:
            return Step(values=[str(i["key"]) for i in issues if isinstance(i.get("key"), str)])

        page = CLOUD_ID_PAGE if self.http.cloud else DC_PAGE
        task = id_scan(
            search,
            self.scope,
            condition,
            page_size=page,
            on_page=keys,
        )
        for step in self._run(task):
            yield from step.values

    def _bulkfetch(self, ids: list[str], fields: list[str]) -> list[dict[str, Any]]:
        body = {"issueIdsOrKeys": ids, "fields": fields, "fieldsByKeys": False}
        raw = self.http.post("issue/bulkfetch", body, what=f"bulkfetch of {len(ids)} issues")
        if not isinstance(raw, dict) or not isinstance(raw.get("issues"), list):
            raise PayloadError(f"Jira '{self.source.name}': bulkfetch answered without 'issues'")
        issues: list[dict[str, Any]] = raw["issues"]
        return issues

    def _items(self, condition: str, progress: Progress | None) -> Iterator[WorkItem]:
        fields = self.mapper.fields
        mapper = self.mapper

        if self.http.cloud:
            search = self._search(["key"])

            def fetch_task(ids: list[str]) -> Task[WorkItem]:
                def run() -> Step[WorkItem]:
                    issues = self._bulkfetch(ids, fields)
                    return Step(values=mapper.map_page(issues, where="bulkfetch"))

                return run

            def on_page(issues: list[dict[str, Any]]) -> Step[WorkItem]:
                ids = [str(i["id"]) for i in issues]
                chunks = [ids[n : n + CLOUD_BULK] for n in range(0, len(ids), CLOUD_BULK)]
                return Step(later=[fetch_task(chunk) for chunk in chunks])

            page_size = CLOUD_ID_PAGE
        else:
            search = self._search(fields)

            def on_page(issues: list[dict[str, Any]]) -> Step[WorkItem]:
                return Step(values=mapper.map_page(issues, where="search"))

            page_size = DC_PAGE

        task = id_scan(
            search,
            self.scope,
            condition,
            page_size=page_size,
            on_page=on_page,
        )
        done, total = 0, None
        seen: set[str] = set()
        for step in self._run(task):
            if step.total is not None:
                total = step.total
            for item in step.values:
                if item.key in seen:  # an issue moved between id ranges while we read
                    continue
                seen.add(item.key)
                done += 1
                yield item
            if progress is not None and step.values:
                progress(done, total)

    def _issue_or_none(self, key: str) -> dict[str, Any] | None:
        try:
            raw = self.http.get(
                f"issue/{key}", {"fields": ",".join(STATE_FIELDS)}, what=f"read {key}"
            )
        except TrackerError as exc:
            if exc.status == 404:
                return None
            raise
        return raw if isinstance(raw, dict) else None

    def _jql_zone(self) -> tzinfo:
        """The time zone Jira reads this account's JQL dates in (its profile setting)."""
        if self._zone is None:
            me = self.http.get("myself", what="read the account (for its time zone)")
            name = me.get("timeZone") if isinstance(me, dict) else None
            try:
                self._zone = ZoneInfo(name) if isinstance(name, str) and name else UTC
            except (ZoneInfoNotFoundError, ValueError):
                log.warning("Jira '%s': unknown time zone %r; using UTC", self.source.name, name)
                self._zone = UTC
        return self._zone

    # -- the Connector protocol -----------------------------------------------------------------

    def fetch(
        self, since: Watermark | None, progress: Progress | None = None
    ) -> Iterator[WorkItem]:
        """Every in-scope issue updated at or after ``since`` (``None``: all of them)."""
        condition = "" if since is None else updated_since(since.since, self._jql_zone())
        return self._items(condition, progress)

    def list_keys(self) -> set[str]:
        """The keys of every issue in scope (keys only, 5,000 / 1,000 per page)."""
        return set(self._list(""))

    def match(self, query: str) -> set[str]:
        """Keys of in-scope issues matching a KR's ``jql:`` query; QueryError if Jira refuses it."""
        condition = strip_order_by(query)
        if not condition:
            raise QueryError(f"Jira '{self.source.name}': empty jql: query on a key result")
        return set(self._list(condition, query_text=query))

    def current_state(self, keys: Iterable[str]) -> dict[str, CurrentState]:
        """Labels and the managed comment of each issue (absent keys are left out)."""
        wanted = sorted(k for k in set(keys) if ISSUE_KEY.match(k))
        if not wanted:
            return {}
        writer = self.writer
        http = self.http
        name = self.source.name

        def chunk_task(chunk: list[str]) -> Task[tuple[str, CurrentState]]:
            def run() -> Step[tuple[str, CurrentState]]:
                if http.cloud:
                    issues = self._bulkfetch(chunk, STATE_FIELDS)
                else:
                    body = {
                        "jql": keys_in(chunk),
                        "startAt": 0,
                        "maxResults": len(chunk),
                        "fields": STATE_FIELDS,
                        # deleted keys would make the whole query a 400 otherwise
                        "validateQuery": False,
                    }
                    try:
                        raw = http.post(
                            "search",
                            body,
                            what="read labels and comments",
                            bad_request=QueryError,
                        )
                    except QueryError:
                        # A key deleted since the sync makes Jira refuse the whole `key in`
                        # query; read this chunk one issue at a time instead.
                        raw = {"issues": [i for i in map(self._issue_or_none, chunk) if i]}
                    if not isinstance(raw, dict) or not isinstance(raw.get("issues"), list):
                        raise PayloadError(f"Jira '{name}': search answered without 'issues'")
                    issues = raw["issues"]
                states = [s for s in (writer.state_of(i) for i in issues) if s is not None]
                return Step(values=states)

            return run

        size = CLOUD_BULK
        tasks = [chunk_task(wanted[n : n + size]) for n in range(0, len(wanted), size)]
        _ = http.client
        pool = ThreadPoolExecutor(max_workers=self.source.concurrency)
        try:
            found: dict[str, CurrentState] = {}
            for step in run_tasks(pool, tasks, limit=self.source.concurrency):
                found.update(step.values)
            return found
        finally:
            pool.shutdown(wait=True, cancel_futures=True)

    def apply(self, op: Operation) -> OperationResult:
        """Carry out one write-back operation, touching only what linesight owns."""
        return self.writer.apply(op)

    def check(self) -> list[Check]:
        """Reachability, flavour, credentials, project permissions and custom fields."""
        return run_checks(self.http, self.scope)

    def close(self) -> None:
        self.http.close()
