"""Keyset scanning over id ranges, against an in-memory search that reads the id bounds."""

from __future__ import annotations

import re
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from linesight.errors import PayloadError
from linesight.settings import JiraSource
from linesight_jira.jql import Scope
from linesight_jira.scan import Page, Step, id_scan, run_tasks

SCOPE = Scope.from_source(
    JiraSource(kind="jira", name="pay", url="https://x.atlassian.net", projects=("PAY",))
)


class FakeSearch:
    """Answers ``... id > a AND id <= b ORDER BY id ASC|DESC`` over a list of ids."""

    def __init__(
        self, ids: list[int], *, ignore_bounds: bool = False, tells_total: bool = True
    ) -> None:
        self.ids = sorted(ids)
        self.ignore_bounds = ignore_bounds
        self.tells_total = tells_total  # Data Center does, Cloud's search/jql does not
        self.queries: list[str] = []
        self.lock = threading.Lock()

    def __call__(self, jql: str, max_results: int) -> Page:
        with self.lock:
            self.queries.append(jql)
        low = re.search(r"id > (\d+)", jql)
        high = re.search(r"id <= (\d+)", jql)
        chosen = [
            i
            for i in self.ids
            if self.ignore_bounds
            or ((not low or i > int(low.group(1))) and (not high or i <= int(high.group(1))))
        ]
        if jql.endswith("DESC"):
            chosen.reverse()
        page = chosen[:max_results]
        issues: list[dict[str, Any]] = [{"id": str(i), "key": f"PAY-{i}"} for i in page]
        total = len(chosen) if self.tells_total else None
        return Page(issues, last=len(chosen) <= max_results, total=total)


def keys(issues: list[dict[str, Any]]) -> Step[str]:
    return Step(values=[i["key"] for i in issues])


def scan(search: FakeSearch, *, page_size: int, workers: int = 4) -> list[str]:
    task = id_scan(search, SCOPE, "", page_size=page_size, on_page=keys)
    with ThreadPoolExecutor(workers) as pool:
        return [v for step in run_tasks(pool, [task], limit=workers) for v in step.values]


@pytest.mark.parametrize("workers", [1, 3, 8])
@pytest.mark.parametrize("tells_total", [True, False])
def test_every_id_exactly_once_even_with_gaps(workers: int, tells_total: bool) -> None:
    ids = [*range(10_000, 10_950), *range(50_000, 50_120), 900_000]
    search = FakeSearch(ids, tells_total=tells_total)
    found = scan(search, page_size=100, workers=workers)
    assert sorted(found) == sorted(f"PAY-{i}" for i in ids)
    assert len(found) == len(set(found))


def test_small_results_take_one_round_trip() -> None:
    search = FakeSearch(list(range(1, 51)))
    assert len(scan(search, page_size=100)) == 50
    # the first page and the largest id are asked for at once; the page was the last
    assert sorted(search.queries) == [
        'project in ("PAY") ORDER BY id ASC',
        'project in ("PAY") ORDER BY id DESC',
    ]


@pytest.mark.parametrize("tells_total", [True, False])
def test_ranges_of_about_a_page_run_in_parallel_and_stay_in_scope(tells_total: bool) -> None:
    search = FakeSearch(list(range(1, 1001)), tells_total=tells_total)
    assert len(scan(search, page_size=100)) == 1000
    ranged = [q for q in search.queries if "id >" in q]
    assert ranged and all(q.startswith('project in ("PAY") AND (id > ') for q in ranged)
    assert any("id <= " in q for q in ranged)
    # first page + max id + the other 900 ids in ranges of one page each (90 ids)
    assert len(search.queries) == 2 + 10


def test_a_server_that_ignores_the_bounds_is_caught_not_looped() -> None:
    search = FakeSearch(list(range(1, 301)), ignore_bounds=True)
    with pytest.raises(PayloadError, match="did not advance"):
        scan(search, page_size=100, workers=1)


def test_task_errors_propagate() -> None:
    def boom() -> Step[str]:
        raise PayloadError("bad page")

    with ThreadPoolExecutor(2) as pool, pytest.raises(PayloadError, match="bad page"):
        list(run_tasks(pool, [boom], limit=2))


def test_follow_ups_run_and_continuations_go_first() -> None:
    order: list[str] = []

    def leaf(name: str) -> Any:
        def run() -> Step[str]:
            order.append(name)
            return Step(values=[name])

        return run

    def root() -> Step[str]:
        return Step(values=["root"], first=[leaf("next-page")], later=[leaf("a"), leaf("b")])

    with ThreadPoolExecutor(1) as pool:
        values = [v for step in run_tasks(pool, [root], limit=1) for v in step.values]
    assert values == ["root", "next-page", "a", "b"]
    assert order == ["next-page", "a", "b"]
