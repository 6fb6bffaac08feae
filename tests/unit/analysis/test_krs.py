"""Key result status: supported / unsupported / stalled, counts, score and kind."""

from __future__ import annotations

from typing import Any

from linesight.analysis import Analysis
from tests.unit.analysis.org import item, kr, kr_result, objective, run

SCORED: dict[str, Any] = {"baseline": 0.0, "target": 10.0, "current": 5.0}  # score 0.5


def _analysis() -> Analysis:
    okrs = [
        objective(
            "O1",
            kr("KR1", **SCORED),
            kr("KR2", **SCORED),
            kr("KR3", **SCORED),
            kr("KR4", baseline=0.0, target=10.0, current=10.0),
            kr("KR5", **SCORED),
            kr("KR6", **SCORED),
            kr("KR7"),
            kr("KR8", baseline=0.0, target=10.0, current=12.0),
            kr("KR9", **SCORED),
        ),
        objective("OLD", kr("KR0", **SCORED), cycle="2026-Q3"),
    ]
    return run(
        okrs,
        [
            item("A-1", "todo", labels=["kr-KR2"]),
            item("A-2", "todo", labels=["kr-KR2"]),
            item("B-1", "done", labels=["kr-KR3"]),
            item("C-1", "done", labels=["kr-KR4"]),
            item("D-1", "in_progress", labels=["kr-KR5"]),
            item("D-2", "todo", labels=["kr-KR5"]),
            item("E-1", "done", labels=["kr-KR6"]),
            item("E-2", "todo", labels=["kr-KR6"]),
            item("F-1", "todo", labels=["kr-KR7"]),
            item("G-1", "done", labels=["kr-KR8"]),
            item("H-1", "todo", type="Epic", labels=["kr-KR9"]),
            item("H-2", "in_progress", parent="H-1"),
        ],
    )


def test_statuses_computed_by_hand() -> None:
    analysis = _analysis()
    statuses = {k.id: k.status for k in analysis.result.key_results}
    assert statuses == {
        "KR1": "unsupported",  # nothing links to it
        "KR2": "stalled",  # all todo, score 0.5
        "KR3": "stalled",  # all done, score 0.5 below target
        "KR4": "supported",  # all done, target reached
        "KR5": "supported",  # one in progress
        "KR6": "supported",  # done and todo mixed: progress made, more queued
        "KR7": "stalled",  # all todo, score unknown
        "KR8": "supported",  # all done, target exceeded
        "KR9": "supported",  # the epic's story is in progress (inherited link)
    }
    assert analysis.result.summary.unsupported_kr_count == 4


def test_inactive_krs_are_not_listed() -> None:
    assert "KR0" not in {k.id for k in _analysis().result.key_results}


def test_counts_include_inherited_items() -> None:
    analysis = _analysis()
    kr9 = kr_result(analysis, "KR9")
    assert (kr9.supporting_items, kr9.in_progress_items, kr9.todo_items) == (2, 1, 1)
    kr5 = kr_result(analysis, "KR5")
    assert (kr5.supporting_items, kr5.in_progress_items) == (2, 1)


def test_reasons_explain_the_status() -> None:
    analysis = _analysis()
    assert "no in-scope item" in kr_result(analysis, "KR1").status_reason
    assert "todo" in kr_result(analysis, "KR2").status_reason
    assert "below target" in kr_result(analysis, "KR3").status_reason


def test_score_and_objective_are_reported() -> None:
    kr2 = kr_result(_analysis(), "KR2")
    assert kr2.score == 0.5
    assert kr2.objective == "O1"
    assert kr_result(_analysis(), "KR7").score is None


def test_kind_comes_from_the_classifier_with_its_reason() -> None:
    analysis = run(
        [
            objective(
                "O1",
                kr("KR1", "Raise checkout conversion from 2.1% to 3.0%"),
                kr("KR2", "Launch the new checkout page"),
            )
        ],
        [],
    )
    assert kr_result(analysis, "KR1").kind == "outcome"
    assert kr_result(analysis, "KR2").kind == "output"
    assert "launch" in kr_result(analysis, "KR2").kind_reason


def test_a_kr_served_by_jira_and_azure_devops_items() -> None:
    analysis = run(
        [objective("O1", kr("KR1.1"))],
        [
            item("PAY-1", "in_progress", labels=["kr-KR1.1"]),
            item("4711", "todo", source="ado", labels=["KR:KR1.1"]),
        ],
    )
    kr11 = kr_result(analysis, "KR1.1")
    assert (kr11.supporting_items, kr11.in_progress_items, kr11.status) == (2, 1, "supported")
    sources = {a["source"] for _, a in analysis.graph.nodes("item")}
    assert sources == {"jira", "ado"}
