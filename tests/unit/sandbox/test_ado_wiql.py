"""The sandbox's WIQL subset: what it accepts, what it refuses, and how it evaluates."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from linesight.sandbox.wiql import Context, FieldRegistry, WiqlError, compile_query, parse

NOW = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)


def item(item_id: int, **fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "System.Id": item_id,
        "System.TeamProject": "Fabrikam",
        "System.AreaPath": "Fabrikam\\Checkout",
        "System.WorkItemType": "User Story",
        "System.State": "Active",
        "System.ChangedDate": "2026-11-20T10:00:00.000Z",
        "System.Title": f"item {item_id}",
    }
    base.update(fields)
    return base


ITEMS = [
    item(1, **{"System.WorkItemType": "Epic", "System.Tags": "KR:KR1.1; checkout"}),
    item(2, **{"System.Tags": "KR:KR1.10", "System.AreaPath": "Fabrikam\\Checkout\\Mobile"}),
    item(3, **{"System.State": "Removed", "System.ChangedDate": "2026-11-22T23:59:00Z"}),
    item(4, **{"System.TeamProject": "Other", "System.AreaPath": "Other"}),
    item(5, **{"System.AreaPath": "Fabrikam\\Checkouts", "System.Title": "It's done"}),
    item(
        6,
        **{
            "System.ChangedDate": "2026-11-15T08:00:00Z",
            "System.AssignedTo": {"displayName": "Ada L", "uniqueName": "ada@example.com"},
        },
    ),
]


def run(where: str, *, project: str | None = "Fabrikam", time_precision: bool = False) -> list[int]:
    registry = FieldRegistry()
    for entry in ITEMS:
        registry.observe(entry)
    paths = {"fabrikam", "fabrikam\\checkout", "fabrikam\\checkout\\mobile", "other"}
    context = Context(
        project=project,
        now=NOW,
        time_precision=time_precision,
        me=("ada@example.com",),
        path_exists=lambda _ref, path: path.casefold() in paths,
    )
    text = "SELECT [System.Id] FROM WorkItems " + where  # noqa: S608 - test literals
    plan = compile_query(parse(text), registry, context)
    rows = [entry for entry in ITEMS if plan.predicate(entry)]
    return [row["System.Id"] for row in plan.sort(rows)]


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        ("WHERE [System.TeamProject] = @project", [1, 2, 3, 5, 6]),
        ("WHERE [System.TeamProject] = 'other'", [4]),
        ("WHERE [System.AreaPath] UNDER 'Fabrikam\\Checkout'", [1, 2, 3, 6]),
        ("WHERE [System.AreaPath] = 'Fabrikam\\Checkout\\Mobile'", [2]),
        ("WHERE [System.AreaPath] NOT UNDER 'Fabrikam\\Checkout'", [4, 5]),
        ("WHERE [System.WorkItemType] IN ('Epic', 'Feature')", [1]),
        ("WHERE [System.State] <> 'Removed' AND [System.Id] >= 4", [4, 5, 6]),
        ("WHERE [System.State] NOT IN ('Removed', 'Closed') AND [System.Id] < 3", [1, 2]),
        ("WHERE [System.Id] > 1 AND [System.Id] <= 3", [2, 3]),
        ("WHERE [System.Tags] CONTAINS 'KR:KR1.1'", [1]),  # whole tags, not substrings
        ("WHERE [System.Tags] CONTAINS 'kr:kr1.10'", [2]),
        ("WHERE [System.Tags] NOT CONTAINS 'KR:KR1.1' AND [System.Id] < 4", [2, 3]),
        ("WHERE [System.Title] CONTAINS 'it''s'", [5]),
        ("WHERE [Title] CONTAINS WORDS 'done'", [5]),
        ("WHERE [System.ChangedDate] >= '2026-11-22'", [3]),
        ("WHERE [System.ChangedDate] >= @Today - 7", [1, 2, 3, 4, 5]),
        ("WHERE [System.ChangedDate] < @today - 6", [6]),
        ("WHERE NOT ([System.Id] = 1 OR [System.Id] = 2) AND [System.Id] < 5", [3, 4]),
        ("WHERE ([System.Id] = 1 OR [System.Id] = 2) AND [State] = 'active'", [1, 2]),
        ("WHERE [System.AssignedTo] = @Me", [6]),
        ("WHERE [System.AssignedTo] = 'Ada L <ada@example.com>'", [6]),
        ("WHERE [System.Tags] IS EMPTY", [3, 4, 5, 6]),
        ("WHERE [System.Id] IN (6, 2) ORDER BY [System.Id] DESC", [6, 2]),
        ("ORDER BY [System.ChangedDate] DESC, [System.Id] ASC", [3, 1, 2, 4, 5, 6]),
    ],
)
def test_supported_clauses_select_the_right_items(where: str, expected: list[int]) -> None:
    assert run(where) == expected


def test_time_precision_compares_to_the_second() -> None:
    where = "WHERE [System.ChangedDate] >= '2026-11-20T10:00:00Z'"
    assert run(where, time_precision=True) == [1, 2, 3, 4, 5]
    where = "WHERE [System.ChangedDate] > '2026-11-20T10:00:00.000Z'"
    assert run(where, time_precision=True) == [3]


def test_a_time_without_time_precision_is_refused_like_the_service() -> None:
    with pytest.raises(WiqlError, match="cannot supply a time with the date"):
        run("WHERE [System.ChangedDate] >= '2026-11-20T10:00:00Z'")
    # Midnight is a plain date and is accepted.
    assert run("WHERE [System.ChangedDate] >= '2026-11-22T00:00:00Z'") == [3]


def test_id_bounds_and_project_narrow_the_scan() -> None:
    plan = compile_query(
        parse(
            "SELECT [System.Id] FROM WorkItems WHERE [System.TeamProject] = @project "
            "AND [System.Id] >= 100 AND [System.Id] < 200 AND [System.Id] > 120"
        ),
        FieldRegistry(),
        Context(project="Fabrikam", now=NOW),
    )
    assert (plan.id_low, plan.id_high, plan.projects) == (121, 199, frozenset({"fabrikam"}))


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("SELECT [System.Id] FROM WorkItems WHERE [Custom.Nope] = 1", "TF51005.*Custom.Nope"),
        ("SELECT [System.Id] FROM WorkItems WHERE [System.Id] = ", "TF51006"),
        ("SELECT [System.Id] FROM WorkItems WHERE [System.Id] = 'x'", "Expecting a number"),
        ("SELECT [System.Id] FROM WorkItems WHERE [System.Title] = 'oops", "closing quote"),
        ("SELECT [System.Id] FROM WorkItemLinks", "WorkItemLinks"),
        ("SELECT * FROM WorkItems", "SELECT \\*"),
        ("SELECT [System.Id] FROM WorkItems WHERE [System.State] EVER 'Active'", "EVER"),
        ("SELECT [System.Id] FROM WorkItems WHERE [System.Title] = [System.State]", "another"),
        ("SELECT [System.Id] FROM WorkItems ASOF '2026-01-01'", "ASOF"),
        ("SELECT [System.Id] FROM WorkItems WHERE [System.Id] = 1 extra", "end of query"),
        ("SELECT [System.Id] FROM WorkItems WHERE [System.Id] UNDER 'x'", "UNDER"),
        ("SELECT [System.Id] FROM WorkItems WHERE [System.AreaPath] UNDER 'Nope'", "TF51011"),
        ("SELECT [System.Id] FROM WorkItems WHERE [System.State] = @CurrentIteration", "macro"),
        ("", "empty"),
        ("SELECT [System.Id] FROM WorkItems WHERE " + "[System.Id] = 1 OR " * 2000, "limit"),
    ],
)
def test_anything_else_is_refused_with_a_clear_message(query: str, message: str) -> None:
    paths = {"fabrikam"}
    context = Context(project="Fabrikam", now=NOW, path_exists=lambda _r, p: p.casefold() in paths)
    with pytest.raises(WiqlError, match=message):
        compile_query(parse(query), FieldRegistry(), context)


def test_project_macro_needs_a_project_route() -> None:
    with pytest.raises(WiqlError, match="@project"):
        run("WHERE [System.TeamProject] = @project", project=None)


def test_custom_fields_are_learned_from_the_data() -> None:
    registry = FieldRegistry()
    registry.observe({"Custom.KeyResults": "KR1.1", "Custom.Score": 0.5})
    score = registry.resolve("custom.score")
    assert score is not None and score.kind == "double"
    assert registry.resolve("Key Results") is None  # friendly names only for known fields
    assert registry.resolve("KeyResults") is not None
