"""Effective WIP at leaf and epic level, shared items, limits, ages, team alignment."""

from __future__ import annotations

import pytest

from tests.unit.analysis.org import (
    days_ago,
    item,
    kr,
    objective,
    objective_result,
    run,
    settings,
)

OKRS = [objective("O1", kr("KR1.1"), wip_limit=2), objective("O2", kr("KR2.1"), wip_limit=2)]
ITEMS = [
    item("E1", "in_progress", type="Epic", labels=["kr-KR1.1"], started=days_ago(30)),
    item("S1", "in_progress", parent="E1", started=days_ago(10), team="Checkout"),
    item("S2", "in_progress", parent="E1", started=days_ago(2), team="Checkout"),
    item("S3", "todo", parent="E1"),
    item("E2", "in_progress", type="Epic", labels=["kr-KR1.1", "kr-KR2.1"], started=days_ago(4)),
    item("S4", "done", parent="E2"),
    item("S5", "in_progress", labels=["kr-KR2.1"], updated=days_ago(6)),
    item("S6", "in_progress", team="Checkout", created=days_ago(8)),
]


def test_leaf_level_counts_the_stories_and_shares_shared_items() -> None:
    analysis = run(OKRS, ITEMS)
    o1, o2 = objective_result(analysis, "O1"), objective_result(analysis, "O2")
    # leaf units: S1, S2 (O1), E2 (O1+O2, no story in progress), S5 (O2), S6 (orphan); not E1
    assert (o1.effective_wip, o1.wip_count) == (2.5, 3)
    assert (o2.effective_wip, o2.wip_count) == (1.5, 2)
    summary = analysis.result.summary
    assert (summary.in_progress, summary.wip, summary.aligned_wip) == (6, 5, 4)
    assert summary.aligned_wip_share == 0.8
    assert o1.effective_wip + o2.effective_wip == summary.aligned_wip


def test_over_limit_uses_effective_wip() -> None:
    analysis = run(OKRS, ITEMS)
    assert objective_result(analysis, "O1").over_limit is True  # 2.5 > 2
    assert objective_result(analysis, "O2").over_limit is False  # 1.5 <= 2
    at_limit = run([objective("O1", kr("KR1.1"), wip_limit=1)], ITEMS[4:5])
    assert objective_result(at_limit, "O1").effective_wip == 1.0  # KR2.1 unknown here: all O1
    assert objective_result(at_limit, "O1").over_limit is False  # at the limit is not over


def test_epic_level_counts_top_level_items_with_work_in_progress() -> None:
    analysis = run(OKRS, ITEMS, config=settings(wip_level="epic"))
    o1, o2 = objective_result(analysis, "O1"), objective_result(analysis, "O2")
    # epic units: E1 (O1), E2 (O1+O2), S5 (O2), S6 (orphan)
    assert (o1.effective_wip, o1.wip_count) == (1.5, 2)
    assert (o2.effective_wip, o2.wip_count) == (1.5, 2)
    summary = analysis.result.summary
    assert (summary.wip, summary.aligned_wip, summary.wip_level) == (4, 3, "epic")


def test_epic_level_unit_serves_the_objectives_of_its_busy_descendants() -> None:
    items = [
        item("E3", "todo", type="Epic", labels=["kr-KR1.1"]),
        item("S8", "in_progress", parent="E3", labels=["kr-KR2.1"], started=days_ago(3)),
        item("S9", "todo", parent="E3", labels=["kr-KR2.1"]),
    ]
    epic = run(OKRS, items, config=settings(wip_level="epic"))
    assert objective_result(epic, "O1").effective_wip == 0.5
    assert objective_result(epic, "O2").effective_wip == 0.5
    assert objective_result(epic, "O1").wip_age_p50_days == 3.0  # from the busy story
    leaf = run(OKRS, items)
    assert objective_result(leaf, "O1").effective_wip == 0.5  # S8 inherits KR1.1 and has KR2.1


def test_wip_age_percentiles_interpolate() -> None:
    o1 = objective_result(run(OKRS, ITEMS), "O1")
    # O1 ages: S1 10, S2 2, E2 4 days -> p50 4, p85 4 + (10 - 4) * 0.7
    assert o1.wip_age_p50_days == 4.0
    assert o1.wip_age_p85_days == pytest.approx(8.2)


def test_wip_age_falls_back_to_updated() -> None:
    o2 = objective_result(run(OKRS, ITEMS), "O2")
    assert o2.wip_age_p50_days == 5.0  # E2 started 4 days ago, S5 updated 6 days ago


def test_objectives_without_wip_have_no_age_and_no_lead_time() -> None:
    o1 = objective_result(run(OKRS, []), "O1")
    assert (o1.effective_wip, o1.wip_age_p50_days, o1.lead_time_days) == (0.0, None, None)


def test_alignment_per_team() -> None:
    teams = {t.team: t for t in run(OKRS, ITEMS).result.summary.teams}
    assert (teams["Checkout"].wip, teams["Checkout"].aligned_wip) == (3, 2)
    assert teams["Checkout"].orphan_count == 1
    assert teams[None].wip == 2


def test_closed_objectives_are_listed_inactive_with_no_wip() -> None:
    analysis = run(
        [*OKRS, objective("O3", kr("KR3.1"), closed=True)],
        [item("X-1", "in_progress", labels=["kr-KR3.1"])],
    )
    o3 = objective_result(analysis, "O3")
    assert (o3.active, o3.effective_wip) == (False, 0.0)
    assert [(o.key, o.reason) for o in analysis.result.orphans] == [("X-1", "inactive_kr")]


def test_objectives_of_other_cycles_are_not_listed() -> None:
    analysis = run([*OKRS, objective("OLD", kr("KR0.1"), cycle="2026-Q3")], [])
    assert [o.id for o in analysis.result.objectives] == ["O1", "O2"]
