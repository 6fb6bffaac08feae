"""Listing every issue of a query fast: keyset pages over id ranges, fetched in parallel.

Jira has two paging schemes and both hurt at scale: Cloud's ``search/jql`` is sequential
(``nextPageToken``), and Data Center's ``startAt`` fails past 10,000 results on sites whose index
is OpenSearch (``max_result_window``). Keyset paging avoids both: every page is a fresh query
``<scope> AND id > <last id seen> ORDER BY id ASC``, so no token and no offset is ever carried.

To go parallel, the first page also tells how dense the ids are, and one more tiny query, sent
beside it, finds the largest id; the rest of the id line is then cut into ranges
``id > lo AND id <= hi`` of about one page each, paged side by side. So a listing of ``n`` pages
takes two round trips plus ``n / concurrency`` (a few more when the ids are unevenly dense),
and a listing of one page costs one extra tiny query but no extra wait. A page that does not
move past its range's lower bound is a loop and stops the scan
(:class:`~linesight.errors.PayloadError`), as Singer-style paginators do.

:func:`run_tasks` is the small scheduler underneath: tasks return a :class:`Step` with values
and follow-up tasks; at most ``limit`` run at once, continuations of a listing jump the queue so
ids keep flowing while follow-up fetches fill the rest of the pool.
"""

from __future__ import annotations

import math
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Executor, Future, wait
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from linesight.errors import PayloadError
from linesight_jira.jql import Scope, id_range

__all__ = ["Page", "Step", "Task", "id_scan", "run_tasks"]

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Page:
    """One page of a search: the raw issues, whether it was the last, and the total if told."""

    issues: list[dict[str, Any]]
    last: bool
    total: int | None = None


@dataclass(slots=True)
class Step(Generic[T]):
    """What a task hands back: values to yield, and tasks to run next."""

    values: list[T] = field(default_factory=list)
    first: list[Task[T]] = field(default_factory=list)  # run before anything queued
    later: list[Task[T]] = field(default_factory=list)  # run after everything queued
    total: int | None = None  # a total the task learned (for progress), if any


Task = Callable[[], Step[T]]
Search = Callable[[str, int], Page]
"""``search(jql, max_results) -> Page``: one search request."""
OnPage = Callable[[list[dict[str, Any]]], Step[T]]
"""What to make of a listed page: values and/or follow-up tasks (e.g. bulk fetches)."""


def run_tasks(pool: Executor, tasks: Iterable[Task[T]], limit: int) -> Iterator[Step[T]]:
    """Run ``tasks`` and their follow-ups on ``pool``, at most ``limit`` at a time.

    Yields each finished task's :class:`Step` (its follow-ups already queued). The first task
    error stops everything: queued tasks are dropped, running ones cancelled where possible.
    """
    ready: deque[Task[T]] = deque(tasks)
    running: set[Future[Step[T]]] = set()
    try:
        while ready or running:
            while ready and len(running) < limit:
                running.add(pool.submit(ready.popleft()))
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in done:
                running.discard(future)
                step = future.result()
                ready.extendleft(reversed(step.first))
                ready.extend(step.later)
                yield step
    finally:
        for future in running:
            future.cancel()


def _ids(issues: Sequence[dict[str, Any]]) -> list[int]:
    ids = []
    for issue in issues:
        raw = issue.get("id") if isinstance(issue, dict) else None
        if not (isinstance(raw, str | int) and str(raw).isdigit()):
            raise PayloadError(f"search returned an issue without a numeric id: {str(raw)[:40]!r}")
        ids.append(int(raw))
    return ids


def id_scan(
    search: Search,
    scope: Scope,
    condition: str,
    *,
    page_size: int,
    on_page: OnPage[T],
) -> Task[T]:
    """The task that lists ``<scope> AND <condition>`` in id order, fanning out into ranges.

    ``on_page`` turns each listed page into values and follow-up tasks; pages of different
    ranges arrive in any order, each page in id order.
    """

    def page_task(after: int | None, up_to: int | None) -> Task[T]:
        def run() -> Step[T]:
            jql = scope.query(condition, id_range(after, up_to))
            page = search(jql, page_size)
            ids = _ids(page.issues)
            if ids and after is not None and min(ids) <= after:
                raise PayloadError(
                    f"paging did not advance past id {after} (the server ignored 'id > {after}')"
                )
            step = on_page(page.issues)
            if not page.last and ids:
                step.first.append(page_task(max(ids), up_to))
            return step

        return run

    # The first page and the largest id are asked for at once; whichever answer comes second
    # cuts the id line above the first page into ranges.
    lock = threading.Lock()
    answers: dict[str, Page | int | None] = {}

    def plan(name: str, answer: Page | int | None) -> list[Task[T]]:
        with lock:
            answers[name] = answer
            if len(answers) < 2:
                return []
        first, top = answers["first"], answers["top"]
        if not isinstance(first, Page):  # the first page was the last: nothing more to list
            return []
        ids = _ids(first.issues)
        low, high = min(ids), max(ids)
        if not isinstance(top, int) or top <= high:  # nothing above the first page (any more)
            return [page_task(high, None)]
        if first.total is not None:  # Data Center says how many there are
            rest = max(1, first.total - len(ids))
        else:  # Cloud does not: guess from how dense the first page's ids are
            rest = math.ceil((top - high) * len(ids) / max(1, high - low + 1))
        # ranges of ~90% of a page, so that a little unevenness does not cost a second page
        ranges = max(1, math.ceil(rest / (0.9 * page_size)))
        width = max(1, math.ceil((top - high) / ranges))
        bounds = [high + width * i for i in range(ranges) if high + width * i < top]
        # The last range stays open above, so issues created during the scan are not lost.
        ends: list[int | None] = [*bounds[1:], None]
        return [page_task(lo, hi) for lo, hi in zip(bounds, ends, strict=True)]

    def first_task() -> Step[T]:
        page = search(scope.query(condition), page_size)
        ids = _ids(page.issues)
        step = on_page(page.issues)
        step.total = page.total
        step.first.extend(plan("first", None if page.last or not ids else page))
        return step

    def top_task() -> Step[T]:
        newest = search(scope.query(condition, order_by="ORDER BY id DESC"), 1)
        top_ids = _ids(newest.issues)
        return Step(first=plan("top", max(top_ids) if top_ids else None))

    def start() -> Step[T]:
        return Step(first=[first_task, top_task])

    return start
