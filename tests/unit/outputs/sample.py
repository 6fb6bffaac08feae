"""A small, hand-built organisation for the output tests: one analysis result and its graph.

It has a title written to break every output format (HTML, Markdown, Mermaid, DOT, CSV, Jinja),
an item whose URL is ``javascript:``, a team-less item, orphans of every reason and a trend.
Every URL points at 127.0.0.1 so a browser that follows one stays on this machine.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import networkx as nx

from linesight.analysis.result import AnalysisResult
from linesight.outputs.pmo_report import SnapshotPoint

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)

HOSTILE = (
    '<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script> "quoted" '
    "[link](x) ]; node [ {{7*7}} | pipe \\ back\nsecond line"
)
FORMULA = '=HYPERLINK("http://127.0.0.1:9/x","click")'
BASE = "http://127.0.0.1:9/browse/"


def _orphan(key: str, title: str, age: float | None, **extra: Any) -> dict[str, Any]:
    row = {
        "source": "jira",
        "key": key,
        "type": "Story",
        "title": title,
        "status": "In Progress",
        "reason": "no_link",
        "age_days": age,
        "team": "Checkout",
        "url": BASE + key,
        "project": "PAY",
        "status_category": "in_progress",
        "named_krs": [],
    }
    row.update(extra)
    return row


ORPHANS = [
    _orphan("PAY-7", HOSTILE, 40.2),
    _orphan("PAY-3", "Refactor the basket service", 120.0),
    _orphan("PAY-9", "Tidy up logging", 3.0, reason="unknown_kr", named_krs=["KR9.9"]),
    _orphan(
        "4711",
        FORMULA,
        75.5,
        source="ado",
        type="User Story",
        status="Active",
        team=None,
        project="Fabrikam",
        url="javascript:window.__pwned=3",
        reason="inactive_kr",
        named_krs=["KR0.1"],
    ),
    _orphan("OPS-1", "Rotate certificates", 12.0, team="Platform", project="OPS"),
]


def result(*, trend: bool = True) -> AnalysisResult:
    objectives = [
        {
            "id": "O1",
            "title": "Make checkout effortless for returning customers",
            "effective_wip": 14.5,
            "wip_count": 15,
            "wip_limit": 12,
            "over_limit": True,
            "throughput_per_week": 3.25,
            "lead_time_days": 31.2,
            "wip_age_p50_days": 9.0,
            "wip_age_p85_days": 27.5,
            "cycle": "2026-Q4",
            "owner": "Payments",
            "active": True,
            "key_results": ["KR1.1", "KR1.2"],
        },
        {
            "id": "O2",
            "title": "Win the mid-market",
            "effective_wip": 4.5,
            "wip_count": 5,
            "wip_limit": 8,
            "over_limit": False,
            "throughput_per_week": 1.0,
            "lead_time_days": 31.5,
            "wip_age_p50_days": 4.0,
            "wip_age_p85_days": 11.0,
            "cycle": "2026-Q4",
            "owner": None,
            "active": True,
            "key_results": ["KR2.1", "KR2.2"],
        },
    ]

    def kr(kid: str, oid: str, status: str, items: int, score: float | None) -> dict[str, Any]:
        return {
            "id": kid,
            "objective": oid,
            "title": f"Key result {kid}",
            "status": status,
            "supporting_items": items,
            "in_progress_items": 0 if status != "supported" else items,
            "score": score,
            "kind": "outcome",
            "kind_reason": "names a metric",
            "status_reason": {
                "supported": "work in progress",
                "stalled": "all linked items are still to do",
                "unsupported": "no linked item",
            }[status],
            "todo_items": items if status == "stalled" else 0,
            "done_items": 0,
        }

    data: dict[str, Any] = {
        "generated_at": NOW,
        "cycle": "2026-Q4",
        "summary": {
            "work_items": 60,
            "in_scope": 55,
            "in_progress": 24,
            "aligned_wip": 19,
            "orphan_count": len(ORPHANS),
            "orphan_share": 0.125,
            "unsupported_kr_count": 2,
            "done": 15,
            "aligned": 35,
            "wip": 22,
            "wip_level": "leaf",
            "aligned_wip_share": 0.8636,
            "active_objectives": 2,
            "active_key_results": 4,
            "teams": [],
        },
        "objectives": objectives,
        "key_results": [
            kr("KR1.1", "O1", "supported", 12, 0.4),
            kr("KR1.2", "O1", "stalled", 3, 0.1),
            kr("KR2.1", "O2", "supported", 5, 0.6),
            kr("KR2.2", "O2", "unsupported", 0, None),
        ],
        "orphans": ORPHANS,
        "diagnostics": [
            {
                "code": "low_alignment",
                "severity": "info",
                "value": 0.55,
                "threshold": 0.6,
                "message": "55% of WIP serves an active objective",
            },
            {
                "code": "wip_over_limit",
                "severity": "warning",
                "value": 14.5,
                "threshold": 12,
                "message": "O1: effective WIP 14.5 is over its limit of 12",
                "subjects": ["O1"],
            },
        ],
        "graph_warnings": ["key result KR1.1: jira:PAY-404 matches no synced item"],
    }
    if trend:
        data["trend"] = {
            "previous_generated_at": NOW - timedelta(days=1),
            "orphan_count_delta": 2,
            "orphan_share_delta": 0.025,
            "aligned_wip_delta": -1.0,
            "unsupported_kr_count_delta": -1,
            "new_orphans": ["jira:PAY-7", "jira:PAY-9"],
            "resolved_orphans": ["jira:PAY-1"],
            "objectives": [
                {"id": "O1", "effective_wip": 14.5, "previous_effective_wip": 12.0, "delta": 2.5},
                {"id": "O2", "effective_wip": 4.5, "previous_effective_wip": None, "delta": 4.5},
            ],
        }
    return AnalysisResult.model_validate(data)


def history(days: int = 14) -> list[SnapshotPoint]:
    """Past nightly runs, the oldest first, ending the day before NOW."""
    points = []
    for back in range(days, 0, -1):
        share = 0.06 + 0.005 * (days - back) + (0.01 if back % 4 == 0 else 0.0)
        points.append(
            SnapshotPoint(
                at=NOW - timedelta(days=back),
                orphan_count=round(share * 40),
                orphan_share=round(share, 4),
                aligned_wip=18.0 + (back % 3),
            )
        )
    return points


def graph() -> nx.DiGraph:
    """The graph as ``LineOfSightGraph.nx`` shapes it after analysis."""
    g = nx.DiGraph(cycle="2026-Q4")
    for oid, title, limit in (
        ("O1", "Make checkout effortless", 12),
        ("O2", "Win mid-market", None),
    ):
        g.add_node(
            f"objective:{oid}",
            kind="objective",
            id=oid,
            label=title,
            title=title,
            cycle="2026-Q4",
            owner=None,
            wip_limit=limit,
            closed=False,
            active=True,
            source=None,
            url="",
            effective_wip=14.5 if oid == "O1" else 0.0,
            wip_count=15,
            over_limit=oid == "O1",
        )
    for kid, oid, unsupported in (
        ("KR1.1", "O1", False),
        ("KR1.2", "O1", True),
        ("KR2.1", "O2", True),
    ):
        g.add_node(
            f"kr:{kid}",
            kind="key_result",
            id=kid,
            label=f"Key result {kid}",
            title=f"Key result {kid}",
            objective=oid,
            baseline=2.1,
            target=3 if kid == "KR1.1" else 3.5,  # int and float under one name
            current=None,
            score=0.4 if kid == "KR1.1" else None,
            source=None,
            url="",
            active=True,
            status="unsupported" if unsupported else "supported",
            unsupported=unsupported,
            kr_kind="outcome",
            kr_kind_reason="names a metric",
        )
        g.add_edge(f"objective:{oid}", f"kr:{kid}", kind="has_kr")

    def item(key: str, title: str, *, source: str = "jira", **extra: Any) -> str:
        node = f"item:{source}:{key}"
        attrs: dict[str, Any] = {
            "kind": "item",
            "source": source,
            "key": key,
            "label": f"{key} {title}",
            "title": title,
            "type": "Story",
            "status": "In Progress",
            "status_category": "in_progress",
            "project": "PAY",
            "team": "Checkout",
            "url": BASE + key,
            "synced": True,
            "key_results": [],
            "state": "aligned",
            "orphan": False,
            "orphan_reason": None,
            "objectives": [],
            "wip": True,
        }
        attrs.update(extra)
        g.add_node(node, **attrs)
        return node

    epic = item(
        "PAY-1", "One-click checkout", type="Epic", key_results=["KR1.1"], objectives=["O1"]
    )
    story = item("PAY-2", "Save cards", key_results=["KR1.1"], objectives=["O1"])
    done = item(
        "PAY-5", "Old thing", status="Done", status_category="done", state="done", wip=False
    )
    hostile = item("PAY-7", HOSTILE, orphan=True, orphan_reason="no_link", state="orphan")
    child = item("PAY-8", "Child of orphan", orphan=True, orphan_reason="no_link", state="orphan")
    ado = item(
        "4711",
        FORMULA,
        source="ado",
        project="Fabrikam",
        team=None,
        url="javascript:window.__pwned=3",
        orphan=True,
        orphan_reason="inactive_kr",
        state="orphan",
    )
    g.add_edge("kr:KR1.1", epic, kind="serves", rules=["explicit", "label"])
    g.add_edge("kr:KR1.1", done, kind="serves", rules=["query"])
    g.add_edge(epic, story, kind="parent")
    g.add_edge(hostile, child, kind="parent")
    assert ado in g
    return g
