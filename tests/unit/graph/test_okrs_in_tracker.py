"""Objectives and KRs living in the tracker, and link rule 4 (tracker links)."""

from __future__ import annotations

from linesight.analysis import Analysis
from linesight.model import WorkItem
from linesight.settings import Settings
from tests.unit.analysis.org import (
    ADO,
    JIRA,
    item,
    kr,
    kr_result,
    objective,
    objective_result,
    run,
    settings,
)

TRACKER_OKRS = settings(
    sources=[
        {**JIRA, "objective_types": ["Objective"], "key_result_types": ["Key Result"]},
        {**ADO, "objective_types": ["Objective"], "key_result_types": ["Key Result"]},
    ]
)
OKR_ITEMS = [
    item("OKR-1", "in_progress", type="Objective", team="Payments"),
    item("OKR-2", "in_progress", type="key result", parent="OKR-1"),  # type case-insensitive
    item("OKR-3", "todo", type="Key Result", links=[("relates to", "OKR-1")]),  # by link
    item("OKR-4", "todo", type="Key Result"),  # no objective
    item("OKR-5", "done", type="Objective"),  # closed
    item("OKR-6", "todo", type="Key Result", parent="OKR-5"),
]


def _analysis(*work: WorkItem, config: Settings = TRACKER_OKRS) -> Analysis:
    return run([objective("O1", kr("KR1.1"))], [*OKR_ITEMS, *work], config=config)


def test_tracker_objectives_and_krs_join_the_okr_file() -> None:
    analysis = _analysis()
    assert [o.id for o in analysis.result.objectives] == ["O1", "jira:OKR-1", "jira:OKR-5"]
    okr1 = objective_result(analysis, "jira:OKR-1")
    assert (okr1.title, okr1.owner, okr1.active, okr1.source) == (
        "title of OKR-1",
        "Payments",
        True,
        "jira",
    )
    assert okr1.key_results == ["jira:OKR-2", "jira:OKR-3"]
    assert objective_result(analysis, "jira:OKR-5").active is False
    assert [k.id for k in analysis.result.key_results] == ["KR1.1", "jira:OKR-2", "jira:OKR-3"]
    assert kr_result(analysis, "jira:OKR-2").objective == "jira:OKR-1"


def test_okr_items_are_not_work() -> None:
    summary = _analysis().result.summary
    assert (summary.work_items, summary.in_scope, summary.orphan_count) == (6, 0, 0)


def test_a_kr_without_objective_is_reported() -> None:
    warnings = _analysis().result.graph_warnings
    assert any(
        w.startswith("key result jira:OKR-4") and "belongs to no objective" in w for w in warnings
    )


def test_work_reaches_tracker_krs_by_link_parent_and_reverse_link() -> None:
    analysis = _analysis(
        item("PAY-1", "in_progress", links=[("implements", "OKR-2")]),
        item("PAY-2", "in_progress", type="Epic", parent="OKR-3"),
        item("PAY-3", "in_progress", parent="PAY-2"),  # inherits through the epic
        item("PAY-4", "in_progress"),
        item("PAY-5", "in_progress", links=[("implements", "OKR-4")]),  # KR of no objective
        item("PAY-6", "in_progress", labels=["kr-OKR-6"]),  # label naming a tracker KR
    )
    assert {o.key: o.reason for o in analysis.result.orphans} == {
        "PAY-4": "no_link",
        "PAY-5": "inactive_kr",
        "PAY-6": "inactive_kr",  # its objective is closed
    }
    edges = {(h, t): a["rules"] for h, t, a in analysis.graph.edges("serves")}
    assert edges[("kr:jira:OKR-2", "item:jira:PAY-1")] == ["tracker_link"]
    assert edges[("kr:jira:OKR-3", "item:jira:PAY-2")] == ["tracker_link"]
    assert edges[("kr:jira:OKR-6", "item:jira:PAY-6")] == ["label"]
    has_kr = {(h, t) for h, t, _ in analysis.graph.edges("has_kr")}
    assert ("objective:jira:OKR-1", "kr:jira:OKR-2") in has_kr


def test_a_link_held_by_the_kr_item_counts_too() -> None:
    okrs = [
        item("OKR-1", type="Objective"),
        item("OKR-2", type="Key Result", parent="OKR-1", links=[("is implemented by", "PAY-1")]),
    ]
    analysis = run([], [*okrs, item("PAY-1", "in_progress")], config=TRACKER_OKRS)
    assert analysis.result.orphans == []
    assert kr_result(analysis, "jira:OKR-2").status == "supported"


def test_kr_link_types_filter_which_links_count() -> None:
    strict = settings(
        sources=[
            {
                **JIRA,
                "objective_types": ["Objective"],
                "key_result_types": ["Key Result"],
                "kr_link_types": ["Implements"],
            },
            ADO,
        ]
    )
    analysis = _analysis(
        item("PAY-1", "in_progress", links=[("implements", "OKR-2")]),
        item("PAY-2", "in_progress", links=[("relates to", "OKR-2")]),
        item("PAY-3", "in_progress", parent="OKR-2"),  # the parent always counts
        config=strict,
    )
    assert [o.key for o in analysis.result.orphans] == ["PAY-2"]


def test_tracker_links_can_be_switched_off() -> None:
    off = settings(
        sources=[{**JIRA, "objective_types": ["Objective"], "key_result_types": ["Key Result"]}],
        links={"tracker_link": False},
    )
    analysis = _analysis(item("PAY-1", "in_progress", links=[("implements", "OKR-2")]), config=off)
    assert [(o.key, o.reason) for o in analysis.result.orphans] == [("PAY-1", "no_link")]


def test_tracker_krs_are_stalled_or_supported_with_unknown_score() -> None:
    analysis = _analysis(item("PAY-1", "todo", links=[("implements", "OKR-2")]))
    okr2 = kr_result(analysis, "jira:OKR-2")
    assert (okr2.status, okr2.score, okr2.source) == ("stalled", None, "jira")
    assert kr_result(analysis, "jira:OKR-3").status == "unsupported"
    codes = {d.code for d in analysis.result.diagnostics}
    assert "kr_without_target" in codes  # for KR1.1 of the file only
    (finding,) = [d for d in analysis.result.diagnostics if d.code == "kr_without_target"]
    assert finding.subjects == ["KR1.1"]


def test_ado_objectives_and_jira_krs_live_in_one_graph() -> None:
    analysis = run(
        [],
        [
            item("100", type="Objective", source="ado"),
            item("101", type="Key Result", source="ado", parent="100"),
            item("200", "in_progress", source="ado", parent="101"),
        ],
        config=TRACKER_OKRS,
    )
    assert objective_result(analysis, "ado:100").effective_wip == 1.0
