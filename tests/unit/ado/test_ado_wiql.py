"""WIQL quoting, the scope query, and reading past the 20,000-result limit."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from linesight_azure_devops.wiql import (
    MAX_RESULTS,
    Scope,
    TooManyResultsError,
    check_condition,
    collect_ids,
    date_literal,
    id_pages,
    is_full_query,
    quote,
)


def test_quote_doubles_embedded_quotes() -> None:
    assert quote("O'Brien's") == "'O''Brien''s'"
    assert quote("") == "''"


@given(st.text())
def test_a_quoted_value_is_one_balanced_literal(value: str) -> None:
    literal = quote(value)
    # check_condition walks literals the way WIQL does: a quoted value never leaves its literal
    assert check_condition(f"[System.Title] = {literal}") == f"[System.Title] = {literal}"
    assert literal[1:-1].replace("''", "").count("'") == 0


def test_scope_query_is_bounded_by_project_and_quotes_everything() -> None:
    scope = Scope(
        area_paths=("Fabrikam\\Checkout", "Fab'rikam"),
        work_item_types=("Epic", "User Story"),
        excluded_states=("Removed", "Binned"),
        extra="[System.Tags] CONTAINS 'okr'",
    )
    query = scope.query(
        changed_since=datetime(2026, 10, 1, 9, 30, 15, 999, tzinfo=UTC), after_id=10, up_to_id=90
    )
    assert query == (
        "SELECT [System.Id] FROM WorkItems WHERE [System.TeamProject] = @project"
        " AND ([System.AreaPath] UNDER 'Fabrikam\\Checkout'"
        " OR [System.AreaPath] UNDER 'Fab''rikam')"
        " AND [System.WorkItemType] IN ('Epic', 'User Story')"
        " AND [System.State] <> 'Removed' AND [System.State] <> 'Binned'"
        " AND ([System.Tags] CONTAINS 'okr')"
        " AND [System.ChangedDate] >= '2026-10-01T09:30:15Z'"
        " AND [System.Id] > 10 AND [System.Id] <= 90"
        " ORDER BY [System.Id]"
    )


def test_minimal_scope_and_descending_order() -> None:
    assert Scope().query(descending=True) == (
        "SELECT [System.Id] FROM WorkItems WHERE [System.TeamProject] = @project"
        " AND [System.State] <> 'Removed' ORDER BY [System.Id] DESC"
    )


def test_dates_are_utc_and_must_be_aware() -> None:
    plus_two = timezone(timedelta(hours=2))
    assert date_literal(datetime(2026, 1, 1, 2, 0, tzinfo=plus_two)) == "'2026-01-01T00:00:00Z'"
    with pytest.raises(ValueError, match="timezone-aware"):
        date_literal(datetime(2026, 1, 1))


@pytest.mark.parametrize(
    ("condition", "problem"),
    [
        ("[System.Id] > 1) OR ([System.Id] > 0", "closes a parenthesis"),
        ("([System.Id] > 1", "do not balance"),
        ("[System.Title] = 'open", "not closed"),
        ("[System.Id] > 1 ORDER BY [System.Id]", "ORDER BY"),
        ("   ", "empty"),
    ],
)
def test_conditions_that_could_widen_the_scope_are_refused(condition: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        check_condition(condition)


def test_parentheses_inside_literals_do_not_count() -> None:
    condition = "[System.Title] = 'a) OR (b' AND [System.AreaPath] UNDER 'X'"
    assert check_condition(condition) == condition


def test_full_queries_are_told_from_conditions() -> None:
    assert is_full_query("  select [System.Id] from WorkItems")
    assert not is_full_query("[System.AreaPath] UNDER 'Fabrikam\\Checkout'")


class FakeServer:
    """A WIQL endpoint over a set of ids, refusing more than MAX_RESULTS like Azure DevOps."""

    def __init__(self, ids: list[int], *, refuse_top: bool = False) -> None:
        self.ids = sorted(ids)
        self.refuse_top = refuse_top
        self.queries = 0

    def query_for(
        self, *, after_id: int | None = None, up_to_id: int | None = None, descending: bool = False
    ) -> str:
        return f"{after_id}|{up_to_id}|{descending}"

    def run(self, query: str, top: int | None) -> list[int]:
        self.queries += 1
        after, up_to, descending = query.split("|")
        low = int(after) if after != "None" else 0
        high = int(up_to) if up_to != "None" else 10**12
        found = [i for i in self.ids if low < i <= high]
        if descending == "True":
            found.reverse()
        if len(found) > MAX_RESULTS and (top is None or self.refuse_top):
            raise TooManyResultsError("VS402337: too many")
        return found[:top] if top is not None else found


def test_keyset_pages_read_past_the_limit() -> None:
    server = FakeServer(list(range(1, 45_001)))
    assert collect_ids(server.run, server.query_for) == list(range(1, 45_001))
    assert server.queries == 3


def test_windows_are_halved_when_even_top_is_refused() -> None:
    ids = [*list(range(5, 130000, 3)), 900000]
    server = FakeServer(ids, refuse_top=True)
    assert collect_ids(server.run, server.query_for) == sorted(ids)


def test_small_and_empty_results() -> None:
    assert collect_ids(FakeServer([]).run, FakeServer([]).query_for) == []
    server = FakeServer([3, 1, 2])
    assert collect_ids(server.run, server.query_for) == [1, 2, 3]
    assert server.queries == 1


def test_pages_arrive_one_by_one_and_say_which_is_the_last() -> None:
    server = FakeServer(list(range(1, 45_001)))
    pages = id_pages(server.run, server.query_for)
    first, last = next(pages)
    assert (len(first), last) == (MAX_RESULTS, False)
    assert server.queries == 1  # the next page is read only when asked for
    rest = list(pages)
    assert [(len(page), last) for page, last in rest] == [(MAX_RESULTS, False), (5_000, True)]
    assert [i for page, _ in [(first, False), *rest] for i in page] == list(range(1, 45_001))


def test_an_id_a_server_repeats_comes_once() -> None:
    class Repeating(FakeServer):
        def run(self, query: str, top: int | None) -> list[int]:
            return [*super().run(query, top), 1]  # the first id again, on every page

    server = Repeating(list(range(1, MAX_RESULTS + 11)))
    pages = list(id_pages(server.run, server.query_for))
    assert [i for page, _ in pages for i in page] == list(range(1, MAX_RESULTS + 11))
    assert pages[-1][1] is True
