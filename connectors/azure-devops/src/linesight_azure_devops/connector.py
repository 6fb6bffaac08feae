"""The Azure DevOps Boards connector: :class:`AzureDevOpsConnector`.

Sync reads ids with WIQL (:mod:`.wiql`: project-bounded, paged past the 20,000-result limit)
and work items 200 at a time through ``workitemsbatch`` with ``$expand=Relations`` — about 5
requests per 1,000 items. The batches of one WIQL page are read while the next page is queried,
``2 x concurrency`` of them in flight (:data:`READ_AHEAD`); the workers only send and receive,
and the consuming thread decodes and maps each body with :class:`~.mapping.BatchMapper` while
they wait on the next answers. State categories come from each type's states (:mod:`.states`:
one request for every type, made beside the first batches); write-back is :mod:`.writes`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import replace
from datetime import datetime
from functools import partial
from itertools import chain
from typing import Any, TypeVar, cast

import msgspec

from linesight.connector import Check, CurrentState, Progress, Watermark
from linesight.errors import (
    AuthError,
    LinesightError,
    PayloadError,
    QueryError,
    redact_url,
)
from linesight.model import Operation, OperationResult, WorkItem
from linesight.retry import DEFAULT_POLICY, RetryPolicy, call_with_retry
from linesight.settings import AzureDevOpsSource
from linesight_azure_devops.mapping import BatchMapper, MappingContext
from linesight_azure_devops.states import StateCatalog
from linesight_azure_devops.transport import (
    FIELDS,
    TYPE_STATES,
    WIQL,
    WORK_ITEM_TYPES,
    WORK_ITEMS_BATCH,
    AdoTransport,
    BadRequestError,
    Body,
    NotFoundError,
)
from linesight_azure_devops.wiql import (
    Scope,
    TooManyResultsError,
    check_condition,
    collect_ids,
    id_pages,
    is_full_query,
)
from linesight_azure_devops.writes import Writer, comment_plain_text, tag_state

__all__ = ["BATCH_SIZE", "AzureDevOpsConnector"]

log = logging.getLogger("linesight.azure_devops")

BATCH_SIZE = 200
"""The most ids ``workitemsbatch`` accepts in one request."""

READ_AHEAD = 2
"""Reads keep ``READ_AHEAD x concurrency`` requests in flight (at most 64; ``concurrency = 1``
stays serial). They only read, up to 200 items each; Azure DevOps meters the work a caller
causes (TSTUs), which is the same however it is spread, and an answer asking to slow down
(``Retry-After``) pauses every thread. At 100 ms per request a full read is bound by
``requests x latency / in flight``: twice the requests in flight, half the wait."""

_TOO_MANY = "VS402337"
_END: Any = object()  # the end of an iterator, for next(iterator, _END)
T = TypeVar("T")


class AzureDevOpsConnector:
    """Reads and writes one Azure DevOps project. Built as ``AzureDevOpsConnector(source)``.

    Nothing touches the network until the first call. Thread-safe for reads.
    """

    def __init__(self, source: AzureDevOpsSource, *, policy: RetryPolicy = DEFAULT_POLICY) -> None:
        self.source = source
        self._policy = policy
        self._transport = AdoTransport(source, policy=policy)
        self._states = StateCatalog(self._load_states, self._load_every_type_states)
        self._scope: Scope | None = None
        self._scope_keys: set[str] | None = None
        self._pool: ThreadPoolExecutor | None = None
        self._writer = Writer(source.project, self._transport.attempt, self._retry)
        self._mapper = BatchMapper(
            MappingContext(
                source=source.name,
                org_url=self._transport.url,
                category=self._states.category,
                kr_field=source.kr_field,
                team_field=source.team_field,
            )
        )

    # -- reading -------------------------------------------------------------------------------

    def fetch(
        self, since: Watermark | None, progress: Progress | None = None
    ) -> Iterator[WorkItem]:
        """Every in-scope item changed at or after ``since`` (``None``: every in-scope item).

        Items of the first 20,000 ids are being read while WIQL pages the next ones; ``total``
        is passed to ``progress`` once the last page is in (``None`` until then).
        """
        query_for = partial(
            self._scope_now().query, changed_since=since.since if since is not None else None
        )
        ids: list[int] = []
        total: int | None = None
        done = 0

        def batches() -> Iterator[list[int]]:
            # runs in this (the consuming) thread, pulled by _in_parallel as workers free up
            nonlocal total
            waiting: list[int] = []
            for page, last in self._read_ahead(id_pages(self._run_wiql, query_for)):
                if not ids and self.in_flight > 1:
                    # The mapping needs every type's states: read them beside the first
                    # batches (not before the first WIQL: the organization answers that first).
                    self._executor().submit(self._states.load_every_type)
                ids.extend(page)
                waiting.extend(page)
                if last:
                    total = len(ids)
                    if since is None:
                        self._scope_keys = {str(i) for i in ids}
                if progress is not None and not done:
                    progress(0, total)
                full = len(waiting) if last else len(waiting) - len(waiting) % BATCH_SIZE
                for start in range(0, full, BATCH_SIZE):
                    yield waiting[start : start + BATCH_SIZE]
                del waiting[:full]

        project = self.source.project.casefold()
        for what, body in self._in_parallel(self._read_batch, batches()):
            # mapped here, not in the workers: they go straight on to their next request
            items = self._mapper.map_body(body, what)
            for item in items:
                if item is not None and item.project.casefold() == project:
                    yield item
            done += len(items)
            if progress is not None:
                progress(min(done, total) if total is not None else done, total)

    def _read_ahead(self, pages: Iterator[T]) -> Iterator[T]:
        """``pages``, each next one read by a worker while the caller uses the current one.

        The first is read here: it makes the first request, which discovers the service.
        """
        current = next(pages, _END)
        if self.in_flight == 1:
            while current is not _END:
                yield cast(T, current)
                current = next(pages, _END)
            return
        while current is not _END:
            upcoming = self._executor().submit(next, pages, _END)
            yield cast(T, current)
            current = upcoming.result()

    def list_keys(self) -> set[str]:
        """Keys of every item in scope now (WIQL only: ids, no payloads)."""
        keys = {str(i) for i in self._ids()}
        self._scope_keys = keys
        return set(keys)

    def match(self, query: str) -> set[str]:
        """Keys of in-scope items matching a KR's ``wiql:`` entry.

        A WHERE condition is ANDed with the scope; a full ``SELECT`` runs as written and its
        result is intersected with the scope.
        """
        if is_full_query(query):
            ids = self._run_wiql(query.strip(), None)
            scope = self._scope_keys if self._scope_keys is not None else self.list_keys()
            return {str(i) for i in ids} & scope
        try:
            condition = check_condition(query)
        except ValueError as exc:
            raise QueryError(
                f"source '{self.source.name}': WIQL condition {query!r}: {exc}"
            ) from None
        return {str(i) for i in self._ids(condition=condition)}

    def _scope_now(self) -> Scope:
        if self._scope is None:
            extra = self.source.wiql
            if extra:
                try:
                    check_condition(extra)
                except ValueError as exc:
                    raise QueryError(
                        f"source '{self.source.name}': wiql setting {extra!r}: {exc}"
                    ) from None
            # Custom processes may call their Removed-category states something else.
            removed = self._states.removed_states(self.source.work_item_types)
            self._scope = Scope(
                area_paths=self.source.area_paths,
                work_item_types=self.source.work_item_types,
                excluded_states=tuple(sorted(removed)),
                extra=extra,
            )
        return self._scope

    def _ids(
        self, *, changed_since: datetime | None = None, condition: str | None = None
    ) -> list[int]:
        query_for = partial(
            self._scope_now().query, changed_since=changed_since, condition=condition
        )
        return collect_ids(self._run_wiql, query_for)

    def _run_wiql(self, wiql: str, top: int | None) -> list[int]:
        query = {"timePrecision": "true"}
        if top is not None:
            query["$top"] = str(top)
        try:
            answer = self._transport.send_for_body(
                "run a WIQL query",
                "POST",
                WIQL,
                {"project": self.source.project},
                query=query,
                content={"query": wiql},
            )
        except BadRequestError as exc:
            message = str(exc)
            if _TOO_MANY in message:
                raise TooManyResultsError(message) from None
            raise QueryError(
                f"source '{self.source.name}': Azure DevOps refused the WIQL query: {message}"
            ) from None
        except NotFoundError as exc:
            raise QueryError(
                f"source '{self.source.name}': project '{self.source.project}' was not found "
                f"at {redact_url(self._transport.url)}: {exc}"
            ) from None
        return _ids_in(answer)

    def _read_batch(self, ids: list[int]) -> tuple[str, Body | None]:
        """One ``workitemsbatch`` request: what it was, and its body, not decoded yet."""
        what = f"read {len(ids)} work items"
        body = self._transport.send_for_body(
            what,
            "POST",
            WORK_ITEMS_BATCH,
            {"project": self.source.project},
            # fields and $expand are mutually exclusive; Relations brings every field too.
            # Omit: an item deleted since the WIQL comes back as null instead of failing all.
            content={"ids": ids, "$expand": "Relations", "errorPolicy": "Omit"},
        )
        return what, body

    def _load_every_type_states(self) -> dict[str, list[dict[str, Any]]] | None:
        """Every work item type's states from one ``workitemtypes`` list (``None``: unreadable,
        each type's states are then read on their own)."""
        try:
            answer = self._transport.send(
                "read the work item types",
                "GET",
                WORK_ITEM_TYPES,
                {"project": self.source.project},
            )
            kinds = _values(answer, "workitemtypes")
        except (NotFoundError, PayloadError):
            return None
        every: dict[str, list[dict[str, Any]]] = {}
        for kind in kinds:
            if not isinstance(kind, dict) or not isinstance(kind.get("name"), str):
                continue
            states = kind.get("states")
            if isinstance(states, list) and states:  # a list without states: ask per type
                every[kind["name"]] = [s for s in states if isinstance(s, dict)]
        return every

    def _load_states(self, type_name: str) -> list[dict[str, Any]] | None:
        try:
            answer = self._transport.send(
                f"read the states of work item type {type_name!r}",
                "GET",
                TYPE_STATES,
                {"project": self.source.project, "type": type_name},
            )
        except NotFoundError:
            log.warning(
                "%s: work item type %r not found in project %r; guessing its states by name",
                self.source.name,
                type_name,
                self.source.project,
            )
            return None
        return [s for s in _values(answer, "workitemtypes/states") if isinstance(s, dict)]

    @property
    def in_flight(self) -> int:
        """Requests a read keeps in flight: ``READ_AHEAD x concurrency`` (at most 64), or 1."""
        concurrency = self.source.concurrency
        return concurrency if concurrency == 1 else min(concurrency * READ_AHEAD, 64)

    def _in_parallel(self, fn: Any, jobs: Iterable[Any]) -> Iterator[Any]:
        """``fn(job)`` for each job, :attr:`in_flight` at a time, results as they complete.

        ``jobs`` is pulled lazily, only when a worker is about to be free.
        """
        queue = iter(jobs)
        first, second = next(queue, _END), next(queue, _END)
        if first is _END:
            return
        if second is _END or self.in_flight == 1:
            # one job, or serial by configuration: no threads
            yield fn(first)
            if second is not _END:
                yield fn(second)
                for job in queue:
                    yield fn(job)
            return
        pool = self._executor()
        limit = self.in_flight * 2  # bounded memory: a few batches queued per worker
        pending: set[Future[Any]] = set()
        try:
            for job in chain((first, second), queue):
                pending.add(pool.submit(fn, job))
                if len(pending) >= limit:
                    finished, pending = wait(pending, return_when=FIRST_COMPLETED)
                    for future in finished:
                        yield future.result()
            while pending:
                finished, pending = wait(pending, return_when=FIRST_COMPLETED)
                for future in finished:
                    yield future.result()
        finally:
            for future in pending:
                future.cancel()

    def _executor(self) -> ThreadPoolExecutor:
        if self._pool is None:
            self._pool = ThreadPoolExecutor(
                max_workers=self.in_flight, thread_name_prefix=f"ado-{self.source.name}"
            )
        return self._pool

    # -- write-back ----------------------------------------------------------------------------

    def current_state(self, keys: Iterable[str]) -> dict[str, CurrentState]:
        """Tags (one batch read per 200 items) and the managed comment of each item."""
        wanted = sorted({int(k) for k in keys if str(k).isdigit()})
        tags: dict[str, Any] = {}
        batches = [wanted[i : i + BATCH_SIZE] for i in range(0, len(wanted), BATCH_SIZE)]
        for payloads in self._in_parallel(self._read_tags_batch, batches):
            for payload in payloads:
                state = tag_state(payload)
                if state is not None and isinstance(payload, dict):
                    tags[str(payload.get("id"))] = state
        comments = dict(self._in_parallel(self._managed_comment, list(tags)))
        result: dict[str, CurrentState] = {}
        for key, state in tags.items():
            self._writer.known[key] = state
            text, comment_id = comments.get(key, (None, None))
            extra = {"rev": str(state.rev)}
            if comment_id is not None:
                extra["comment_id"] = str(comment_id)
            result[key] = CurrentState(labels=state.tags, managed_comment=text, extra=extra)
        return result

    def _read_tags_batch(self, ids: list[int]) -> list[Any]:
        answer = self._transport.send(
            f"read the tags of {len(ids)} work items",
            "POST",
            WORK_ITEMS_BATCH,
            {"project": self.source.project},
            content={"ids": ids, "fields": ["System.Tags", "System.Rev"], "errorPolicy": "Omit"},
        )
        return _values(answer, "workitemsbatch")

    def _managed_comment(self, key: str) -> tuple[str, tuple[str | None, int | None]]:
        managed = self._retry(
            f"read the comments of work item {key}", lambda: self._writer.managed_comments(key)
        )
        if not managed:
            return key, (None, None)
        first = managed[0]
        return key, (comment_plain_text(str(first.get("text") or "")), first.get("id"))

    def apply(self, op: Operation) -> OperationResult:
        """Carry out one write-back operation, touching only linesight's tags and comment."""
        if op.source != self.source.name:
            raise ValueError(f"operation for source '{op.source}' sent to '{self.source.name}'")
        # Reach the service before the writer's retried read-modify-write step: reaching it
        # has retries of its own, and inside that step the two would multiply.
        self._transport.prove()
        return self._writer.apply(op)

    def _retry(self, what: str, fn: Any) -> Any:
        # ``fn`` is a whole read-modify-write round (read the comments or the tags, then write),
        # each of its requests tried once: a round fails when any of them does, so it gets
        # twice a single call's attempts to be as likely to get through (the wait budget is
        # the same). At 20% failing requests, 8 rounds of two calls all fail for 1 op in 3,000.
        policy = replace(self._policy, max_attempts=2 * self._policy.max_attempts)
        return call_with_retry(fn, what=what, policy=policy)

    # -- doctor --------------------------------------------------------------------------------

    def check(self) -> list[Check]:
        """Reachability, credentials, project access, scope query and configured fields."""
        where = redact_url(self._transport.url)
        quick = AzureDevOpsConnector(
            self.source, policy=RetryPolicy(max_attempts=2, max_total_wait=5)
        )
        checks: list[Check] = []
        try:
            try:
                quick._transport.prove()
            except AuthError as exc:
                return [_fail("credentials", exc, self._token_fix())]
            except LinesightError as exc:
                return [
                    _fail(
                        "url",
                        exc,
                        "set url to https://dev.azure.com/<organization> (or your server's "
                        "collection URL) and check the network",
                    )
                ]
            checks.append(Check("url", True, f"{where} answers as Azure DevOps"))
            try:
                ids = quick._run_wiql(
                    "SELECT [System.Id] FROM WorkItems WHERE [System.TeamProject] = @project", 1
                )
            except AuthError as exc:
                name = "permissions" if exc.status == 403 else "credentials"
                return [*checks, _fail(name, exc, self._token_fix())]
            except LinesightError as exc:
                return [
                    *checks,
                    _fail("project", exc, f"check project = '{self.source.project}' (its name)"),
                ]
            checks.append(Check("credentials", True, "the token is accepted"))
            checks.append(
                Check(
                    "project",
                    True,
                    f"project '{self.source.project}' is readable"
                    + ("" if ids else " (it has no work items yet)"),
                )
            )
            checks.append(quick._check_scope())
            checks.extend(quick._check_fields())
        finally:
            quick.close()
        return checks

    def _token_fix(self) -> str:
        env = self.source.token_env or "<token_env>"
        return (
            f"create a personal access token with scope 'Work Items (Read & write)' and put it "
            f"in ${env}"
        )

    def _check_scope(self) -> Check:
        try:
            ids = self._run_wiql(self._scope_now().query(), 1)
        except LinesightError as exc:
            return _fail(
                "scope",
                exc,
                "check area_paths, work_item_types and wiql of this source",
            )
        detail = "the scope query runs" + ("" if ids else ", but matches no work items")
        return Check("scope", bool(ids), detail, "" if ids else "widen area_paths/work_item_types")

    def _check_fields(self) -> list[Check]:
        wanted = [
            (n, f)
            for n, f in (("kr_field", self.source.kr_field), ("team_field", self.source.team_field))
            if f
        ]
        if not wanted:
            return []
        try:
            answer = self._transport.send(
                "list the work item fields", "GET", FIELDS, {"project": self.source.project}
            )
        except LinesightError as exc:
            return [_fail("fields", exc, "the fields could not be listed; check the token's scope")]
        known: dict[str, str] = {}
        for field in _values(answer, "fields"):
            if isinstance(field, dict):
                ref, name = field.get("referenceName"), field.get("name")
                if isinstance(ref, str):
                    known[ref.casefold()] = ref
                    if isinstance(name, str):
                        known[name.casefold()] = ref
        checks = []
        for setting, value in wanted:
            ref = known.get(value.casefold())
            if ref is None:
                close = sorted(r for r in set(known.values()) if r.startswith("Custom."))[:8]
                checks.append(
                    Check(
                        setting,
                        False,
                        f"{setting} = {value!r} is not a field of project '{self.source.project}'",
                        "use the field's reference name"
                        + (f" (custom fields: {', '.join(close)})" if close else ""),
                    )
                )
            elif ref != value:
                checks.append(
                    Check(setting, True, f"{value!r} is field {ref}", f"prefer {setting} = {ref!r}")
                )
            else:
                checks.append(Check(setting, True, f"field {ref} exists"))
        return checks

    def close(self) -> None:
        """Stop the worker threads and close pooled connections."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
        self._transport.close()


def _fail(name: str, exc: Exception, fix: str) -> Check:
    return Check(name, False, str(exc), fix)


def _values(answer: Any, what: str) -> list[Any]:
    if isinstance(answer, dict) and isinstance(answer.get("value"), list):
        return list(answer["value"])
    raise PayloadError(f"{what}: expected an object with a 'value' list")


class _Ref(msgspec.Struct, gc=False):
    id: int


class _LinkRef(msgspec.Struct, gc=False):
    target: _Ref | None = None


class _WiqlAnswer(msgspec.Struct, gc=False):
    workItems: list[_Ref] | None = None  # noqa: N815 - the service's names
    workItemRelations: list[_LinkRef] | None = None  # noqa: N815


_WIQL_ANSWER = msgspec.json.Decoder(_WiqlAnswer)


def _ids_in(body: Body | None) -> list[int]:
    """The ids a WIQL answer lists: typed decoding (up to 20,000 references in one answer),
    and :func:`_ids_of`'s item-by-item judgement when the answer is not well-formed."""
    if body is None:
        raise PayloadError("wiql: the answer is empty")
    try:
        answer: _WiqlAnswer | None = _WIQL_ANSWER.decode(body.content)
    except msgspec.DecodeError:
        answer = None
    if answer is not None:
        if answer.workItems is not None:
            return [ref.id for ref in answer.workItems]
        if answer.workItemRelations is not None:
            return [r.target.id for r in answer.workItemRelations if r.target is not None]
    try:
        parsed = body.json()
    except ValueError:
        raise PayloadError("wiql: Azure DevOps answered with a body that is not JSON") from None
    return _ids_of(parsed)


def _ids_of(answer: Any) -> list[int]:
    if not isinstance(answer, dict):
        raise PayloadError("wiql: expected an object")
    ids: list[int] = []
    if isinstance(answer.get("workItems"), list):
        for ref in answer["workItems"]:
            if isinstance(ref, dict) and isinstance(ref.get("id"), int):
                ids.append(ref["id"])
    elif isinstance(answer.get("workItemRelations"), list):
        # a link query (FROM WorkItemLinks): its targets are the matching items
        for relation in answer["workItemRelations"]:
            target = relation.get("target") if isinstance(relation, dict) else None
            if isinstance(target, dict) and isinstance(target.get("id"), int):
                ids.append(target["id"])
    else:
        raise PayloadError("wiql: the answer has neither 'workItems' nor 'workItemRelations'")
    return ids
