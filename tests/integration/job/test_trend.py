"""Two nightly runs with edits made in the trackers between them: the trend since the last run.

The edits go through the trackers' real REST APIs, and each is chosen so its effect is known
in advance (issue 7: "trend.new_orphans, trend.resolved_orphans, WIP delta per objective"):

- a Jira Data Center orphan in progress gets the label ``kr-<KR of O>``: it is no longer an
  orphan, and being a leaf in progress that serves only O, O's effective WIP grows by exactly 1;
- an Azure DevOps orphan not started is closed: no longer an orphan, no WIP changes;
- a Jira Cloud item not started whose only link is its own ``kr-`` label gets the label of a key
  result that does not exist instead: a new orphan, reason ``unknown_kr``.
"""

from __future__ import annotations

import json
import re
from typing import Any

from job.orgs import SandboxOrg
from linesight.analysis import Analysis
from linesight.model import ItemRef, StatusCategory, WorkItem
from linesight.pipeline import run_job
from linesight.store import Store

UNKNOWN_LABEL = "kr-KR9.9"


def _children(items: dict[ItemRef, WorkItem]) -> set[ItemRef]:
    return {ItemRef(source=i.source, key=i.parent) for i in items.values() if i.parent}


def _orphans(analysis: Analysis) -> dict[ItemRef, Any]:
    return {ItemRef(source=o.source, key=o.key): o for o in analysis.result.orphans}


def _pick_orphan(
    analysis: Analysis,
    items: dict[ItemRef, WorkItem],
    source: str,
    category: StatusCategory,
) -> WorkItem:
    """An orphan of ``source`` in ``category`` with reason no_link and no children."""
    parents = _children(items)
    for ref, orphan in sorted(_orphans(analysis).items(), key=lambda e: e[0].key):
        item = items[ref]
        if (
            ref.source == source
            and orphan.reason == "no_link"
            and item.status_category is category
            and ref not in parents
        ):
            return item
    raise AssertionError(f"no {category} no_link leaf orphan in {source}")


def _pick_label_only(
    analysis: Analysis,
    items: dict[ItemRef, WorkItem],
    source: str,
    query_matched: set[ItemRef],
    explicit: str,
) -> tuple[WorkItem, str]:
    """An aligned item not started, no children, whose only link is one ``kr-`` label."""
    graph = analysis.graph
    parents = _children(items)
    orphans = _orphans(analysis)
    for ref, item in sorted(items.items(), key=lambda e: e[0].key):
        labels = [x for x in item.labels if x.startswith("kr-")]
        if (
            ref.source != source
            or item.status_category is not StatusCategory.TODO
            or ref in orphans
            or ref in parents
            or ref in query_matched
            or item.kr_refs
            or item.links
            or len(labels) != 1
            or re.search(rf"\b{re.escape(item.key)}\b", explicit)
        ):
            continue
        if graph.key_results_of(ref) != {labels[0].removeprefix("kr-")}:
            continue
        parent = ItemRef(source=source, key=item.parent) if item.parent else None
        if parent is None or not graph.key_results_of(parent):
            return item, labels[0]
    raise AssertionError(f"no item of {source} linked only by its own kr- label")


def test_two_runs_with_tracker_edits_between_them_report_the_trend(org: SandboxOrg) -> None:
    settings, okrs = org.settings(), org.okrs()
    first = run_job(settings, okrs, output_dir=org.output_dir)
    assert first.failures == []
    before = json.loads((org.output_dir / "analysis.json").read_text(encoding="utf-8"))
    assert before.get("trend") is None  # nothing to compare the first run with

    with Store.open(settings.state_dir) as store:
        items = {i.ref: i for i in store.iter_items()}
        query_matched = {
            ref
            for queries in store.query_matches().values()
            for refs in queries.values()
            for ref in refs
        }
    explicit = (org.root / "okrs.yaml").read_text(encoding="utf-8")
    analysis = first.run.analysis
    objective = next(o for o in okrs.objectives if o.cycle == okrs.cycle)
    kr = objective.key_results[0].id

    aligned = _pick_orphan(analysis, items, "dc", StatusCategory.IN_PROGRESS)
    closed = _pick_orphan(analysis, items, "contoso", StatusCategory.TODO)
    unlinked, its_label = _pick_label_only(analysis, items, "cloud", query_matched, explicit)
    org.jira_labels("dc", aligned.key, add=[f"kr-{kr}"])
    org.ado_fields(closed.key, **{"System.State": "Closed"})
    org.jira_labels("cloud", unlinked.key, add=[UNKNOWN_LABEL], remove=[its_label])

    second = run_job(settings, okrs, output_dir=org.output_dir)
    assert second.failures == []
    after = json.loads((org.output_dir / "analysis.json").read_text(encoding="utf-8"))
    trend = after["trend"]
    assert trend["new_orphans"] == [f"cloud:{unlinked.key}"]
    assert trend["resolved_orphans"] == sorted([f"dc:{aligned.key}", f"contoso:{closed.key}"])
    assert trend["orphan_count_delta"] == -1
    assert after["summary"]["orphan_count"] == before["summary"]["orphan_count"] - 1
    new_orphan = next(o for o in after["orphans"] if o["key"] == unlinked.key)
    assert (new_orphan["source"], new_orphan["reason"]) == ("cloud", "unknown_kr")
    assert trend["previous_generated_at"].startswith(before["generated_at"][:19])

    wip_before = {o["id"]: o["effective_wip"] for o in before["objectives"]}
    deltas = {d["id"]: d for d in trend["objectives"]}
    assert set(deltas) == set(wip_before)
    for oid, delta in deltas.items():
        expected = 1.0 if oid == objective.id else 0.0
        assert delta["previous_effective_wip"] == wip_before[oid]
        assert abs(delta["delta"] - expected) < 1e-9, (oid, delta)
    assert abs(trend["aligned_wip_delta"] - 1.0) < 1e-9

    # the snapshot of the second run carries the same trend; the store keeps both runs
    with Store.open(settings.state_dir) as store:
        assert [s.id for s in store.snapshots()] == [first.snapshot_id, second.snapshot_id]
        latest = store.latest_snapshot()
        assert latest is not None
        assert latest.result["trend"]["new_orphans"] == trend["new_orphans"]

    # ... and the PMO report says it in words
    markdown = (org.output_dir / "report.md").read_text(encoding="utf-8").replace("\\", "")
    new_line = next(x for x in markdown.splitlines() if "New orphans" in x)
    resolved_line = next(x for x in markdown.splitlines() if "No longer orphans" in x)
    assert "(1)" in new_line and unlinked.key in new_line
    assert "(2)" in resolved_line
    assert aligned.key in resolved_line and closed.key in resolved_line
    wip_row = next(x for x in markdown.splitlines() if x.startswith(f"| {objective.id} "))
    cells = [c.strip() for c in wip_row.strip().strip("|").split("|")]
    assert float(cells[-3]) == deltas[objective.id]["effective_wip"], wip_row
    assert float(cells[-2]) == wip_before[objective.id], wip_row
    assert cells[-1] in ("+1", "+1.0"), wip_row
    html = (org.output_dir / "report.html").read_text(encoding="utf-8")
    assert unlinked.key in html and closed.key in html and aligned.key in html
