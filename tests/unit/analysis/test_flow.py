"""Throughput per week, Little's-law lead time, percentiles."""

from __future__ import annotations

import pytest

from linesight.analysis.flow import lead_time_days, percentile
from tests.unit.analysis.org import days_ago, item, kr, objective, objective_result, run, settings

OKRS = [objective("O1", kr("KR1.1")), objective("O2", kr("KR2.1"))]
ITEMS = [
    item("D1", "done", labels=["kr-KR1.1"], resolved=days_ago(3)),
    item("D2", "done", labels=["kr-KR1.1"], resolved=days_ago(40)),  # outside the window
    item("D3", "done", labels=["kr-KR1.1", "kr-KR2.1"], resolved=days_ago(10)),  # 1/2 each
    item("D4", "done", type="Epic", labels=["kr-KR1.1"], resolved=days_ago(1)),  # has a child
    item("C4", "done", parent="D4", resolved=days_ago(2)),
    item("D5", "done", labels=["kr-KR1.1"], updated=days_ago(1)),  # no resolved: updated
    item("D6", "done", resolved=days_ago(1)),  # serves no objective: no throughput
    item("W1", "in_progress", labels=["kr-KR1.1"]),
    item("W2", "in_progress", labels=["kr-KR1.1"]),
]


def test_leaf_throughput_weighs_shared_items_and_skips_parents() -> None:
    analysis = run(OKRS, ITEMS)  # window 28 days = 4 weeks
    o1 = objective_result(analysis, "O1")
    # D1 1 + D3 1/2 + C4 1 + D5 1 = 3.5 in 4 weeks
    assert o1.throughput_per_week == 0.875
    # Little: 2 in progress / 0.875 per week = 16 days
    assert o1.lead_time_days == 16.0
    assert objective_result(analysis, "O2").throughput_per_week == 0.125
    assert objective_result(analysis, "O2").lead_time_days == 0.0


def test_epic_throughput_counts_top_level_items() -> None:
    analysis = run(OKRS, ITEMS, config=settings(wip_level="epic"))
    # D1 1 + D3 1/2 + D4 1 + D5 1 = 3.5; C4 has a parent
    assert objective_result(analysis, "O1").throughput_per_week == 0.875


def test_window_is_configurable() -> None:
    analysis = run(OKRS, ITEMS, config=settings(throughput_window_days=7))
    # D1 1 + C4 1 + D5 1 = 3 in 1 week
    assert objective_result(analysis, "O1").throughput_per_week == 3.0


def test_no_throughput_means_no_lead_time() -> None:
    o1 = objective_result(run(OKRS, ITEMS[-2:]), "O1")
    assert (o1.throughput_per_week, o1.lead_time_days) == (0.0, None)


def test_percentile_and_lead_time_helpers() -> None:
    assert percentile([], 0.5) is None
    assert percentile([7.0], 0.85) == 7.0
    assert percentile([1.0, 2.0, 3.0, 4.0], 0.5) == 2.5
    assert lead_time_days(3.0, 1.5) == pytest.approx(14.0)
    assert lead_time_days(3.0, 0.0) is None
