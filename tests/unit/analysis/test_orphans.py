"""Orphans: every reason, done items, inheritance of reasons, ordering and ages."""

from __future__ import annotations

from linesight.analysis import Analysis
from tests.unit.analysis.org import days_ago, item, kr, objective, orphan_reasons, run

OKRS = [
    objective("O1", kr("KR1.1")),
    objective("OLD", kr("KR0.1"), cycle="2026-Q3"),
    objective("O2", kr("KR2.1"), closed=True),
]


def _analysis() -> Analysis:
    return run(
        OKRS,
        [
            item("PAY-1", "in_progress", labels=["kr-KR1.1"]),
            item("PAY-2", "todo", created=days_ago(30)),
            item("PAY-3", "in_progress", labels=["kr-KR9.9"], created=days_ago(10)),
            item("PAY-4", "todo", labels=["kr-KR0.1"]),
            item("PAY-5", "todo", labels=["kr-KR2.1"]),
            item("PAY-6", "done"),
            item("PAY-8", "todo", parent="PAY-3"),
            item("PAY-9", "todo", labels=["kr-KR9.9", "kr-KR0.1"]),
            item("PAY-10", "in_progress", labels=["kr-KR0.1", "kr-KR1.1"]),
        ],
    )


def test_each_orphan_has_the_one_reason_computed_by_hand() -> None:
    assert orphan_reasons(_analysis()) == {
        "PAY-2": "no_link",
        "PAY-3": "unknown_kr",
        "PAY-4": "inactive_kr",  # KR of another cycle
        "PAY-5": "inactive_kr",  # KR of a closed objective
        "PAY-8": "unknown_kr",  # inherited from its parent PAY-3
        "PAY-9": "unknown_kr",  # an unknown id beats an inactive one: the typo is the fix
    }


def test_summary_counts_aligned_orphan_and_done() -> None:
    summary = _analysis().result.summary
    assert (summary.in_scope, summary.aligned, summary.orphan_count, summary.done) == (9, 2, 6, 1)
    assert summary.orphan_share == 0.75  # 6 orphans of 8 items not done


def test_orphans_name_the_krs_behind_their_reason() -> None:
    named = {o.key: o.named_krs for o in _analysis().result.orphans}
    assert named["PAY-3"] == ["KR9.9"]
    assert named["PAY-4"] == ["KR0.1"]
    assert named["PAY-9"] == ["KR9.9"]
    assert named["PAY-2"] == []


def test_orphans_come_oldest_first_with_age_from_created() -> None:
    orphans = _analysis().result.orphans
    assert [o.key for o in orphans[:2]] == ["PAY-2", "PAY-3"]
    assert orphans[0].age_days == 30.0
    assert orphans[-1].age_days is None  # no dates: last


def test_orphan_rows_carry_the_item_fields() -> None:
    row = next(o for o in _analysis().result.orphans if o.key == "PAY-3")
    assert row.source == "jira"
    assert row.type == "Story"
    assert row.status == "In Progress"
    assert row.status_category == "in_progress"
    assert row.url == "https://example.test/jira/PAY-3"


def test_a_done_item_is_never_an_orphan_even_when_unlinked() -> None:
    analysis = run(OKRS, [item("PAY-1", "done", labels=["kr-KR9.9"])])
    assert analysis.result.orphans == []
    assert analysis.result.summary.orphan_share is None  # nothing open


def test_an_aligned_parent_aligns_its_children() -> None:
    analysis = run(
        OKRS,
        [item("PAY-1", "todo", labels=["kr-KR1.1"]), item("PAY-2", "todo", parent="PAY-1")],
    )
    assert analysis.result.orphans == []


def test_a_child_without_hierarchy_rule_is_a_no_link_orphan() -> None:
    from tests.unit.analysis.org import settings

    analysis = run(
        OKRS,
        [item("PAY-1", "todo", labels=["kr-KR1.1"]), item("PAY-2", "todo", parent="PAY-1")],
        config=settings(links={"hierarchy": False}),
    )
    assert orphan_reasons(analysis) == {"PAY-2": "no_link"}


def test_removed_items_are_out_of_scope() -> None:
    analysis = run(
        OKRS,
        [
            item("7", "done", source="ado", status="Removed"),
            item("8", "todo", source="ado"),
        ],
    )
    summary = analysis.result.summary
    assert (summary.work_items, summary.in_scope, summary.done) == (2, 1, 0)
