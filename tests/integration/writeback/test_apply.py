"""Write-back against Jira Cloud, Jira Data Center and Azure DevOps in one organisation.

Issue 6: the first apply makes exactly the planned writes, the second makes none; everything
linesight does not own (other labels/tags, other comments, every other field) is left exactly
as it was; an item that stops being an orphan loses its label and its comment; ``--max-writes``
refuses an oversized plan unless ``--force``.
"""

from __future__ import annotations

from job.orgs import ORPHAN_LABEL, SOURCES, SandboxOrg

from linesight.model import ItemRef, OperationKind
from linesight.pipeline import apply_operations, run_job
from linesight.store import Store
from linesight.sync import sync_incremental
from writeback.helpers import (
    assert_converged,
    changed_fields,
    plan,
    planned,
    without_orphan_label,
    write_targets,
)

FOREIGN = "Reviewed in the Tuesday triage; keep it open."


def _first(refs: set[ItemRef], source: str) -> ItemRef:
    return min((r for r in refs if r.source == source), key=lambda r: (len(r.key), r.key))


def _plant_foreign_things(org: SandboxOrg, orphans: set[ItemRef]) -> set[ItemRef]:
    """A person's comment on one orphan per source, and a stale orphan label on one aligned
    item per source (a label linesight owns, which must go). Returns the stale-labelled items."""
    items = org.items()
    stale: set[ItemRef] = set()
    for source in SOURCES:
        orphan = _first(orphans, source)
        aligned = min(
            (r for r, i in items.items() if r.source == source and r not in orphans and i.labels),
            key=lambda r: (len(r.key), r.key),
        )
        stale.add(aligned)
        if source == "contoso":
            org.ado_comment(orphan.key, FOREIGN)
            org.ado_tags(aligned.key, add=[ORPHAN_LABEL])
        else:
            org.jira_comment(source, orphan.key, FOREIGN)
            org.jira_labels(source, aligned.key, add=[ORPHAN_LABEL])
    return stale


def test_the_first_apply_makes_exactly_the_planned_writes_and_the_second_none(
    org: SandboxOrg,
) -> None:
    settings, okrs = org.settings(), org.okrs()
    first = run_job(settings, okrs)
    orphans = {ItemRef(source=o.source, key=o.key) for o in first.run.result.orphans}
    stale = _plant_foreign_things(org, orphans)
    assert run_job(settings, okrs).failures == []  # the sync sees the planted things
    before = org.items()

    operations, planned_for = plan(org)
    assert planned_for == orphans
    assert {op.source for op in operations} == set(SOURCES)
    expected = {(r.source, r.key, "labels") for r in orphans | stale}
    expected |= {(r.source, r.key, "upsert_comment") for r in orphans}
    assert set(planned(operations)) == expected
    for op in operations:
        if op.kind is OperationKind.LABELS:
            owned = (
                ((), (ORPHAN_LABEL,))
                if ItemRef(source=op.source, key=op.key) in stale
                else ((ORPHAN_LABEL,), ())
            )
            assert (op.add_labels, op.remove_labels) == owned, op

    mark = org.mark()
    with Store.open(settings.state_dir) as store:
        report = apply_operations(operations, settings, store)
    assert report.failed == [] and report.skipped == []
    writes = org.writes(mark)
    # exactly one write per operation, on the item and of the kind the plan says
    assert write_targets(writes) == planned(operations)
    assert all(w["status"] in (200, 201, 204) for w in writes), writes
    assert report.writes == len(writes) == len(operations)

    after = org.items()
    assert set(after) == set(before)
    assert_converged(after, orphans)
    for ref, item in after.items():
        was = before[ref]
        assert without_orphan_label(item.labels) == without_orphan_label(was.labels), ref
        assert item.foreign_comments == was.foreign_comments, ref
        assert changed_fields(was, item, ref.source) == set(), ref
    for source in SOURCES:  # the planted foreign comments are still there, as written
        commented = _first(orphans, source)
        assert len(after[commented].foreign_comments) == len(before[commented].comments) == 1
        assert FOREIGN in after[commented].foreign_comments[0]

    # the second apply, after a fresh sync (the real CLI): nothing to do, zero writes
    mark = org.mark()
    again = org.cli("run", "-c", org.config, "--apply")
    assert again.code == 0, again
    assert org.writes(mark) == []
    assert "write-back: nothing to change" in again.stdout, again
    assert plan(org)[0] == []


def test_an_item_that_stops_being_an_orphan_loses_its_label_and_its_comment(
    org: SandboxOrg,
) -> None:
    settings, okrs = org.settings(), org.okrs()
    outcome = run_job(settings, okrs, apply=True)
    assert outcome.writeback is not None and outcome.writeback.failed == []
    orphans = {ItemRef(source=o.source, key=o.key) for o in outcome.run.result.orphans}
    with Store.open(settings.state_dir) as store:
        parents = {ItemRef(source=i.source, key=i.parent) for i in store.iter_items() if i.parent}
    kr = next(o for o in okrs.objectives if o.cycle == okrs.cycle).key_results[0].id
    # one leaf orphan per source gets linked to a key result by a person
    fixed = {
        _first({r for r in orphans - parents if r.source == source}, source) for source in SOURCES
    }
    for ref in fixed:
        if ref.source == "contoso":
            org.ado_tags(ref.key, add=[f"KR:{kr}"])
            org.ado_comment(ref.key, FOREIGN)
        else:
            org.jira_labels(ref.source, ref.key, add=[f"kr-{kr}"])
            org.jira_comment(ref.source, ref.key, FOREIGN)
    before = org.items()

    with Store.open(settings.state_dir) as store:
        assert sync_incremental(settings, store, objectives=okrs.objectives, cycle=okrs.cycle).ok
    operations, still = plan(org)
    assert still == orphans - fixed
    assert planned(operations) == {
        (r.source, r.key, kind): 1 for r in fixed for kind in ("labels", "delete_comment")
    }
    mark = org.mark()
    with Store.open(settings.state_dir) as store:
        report = apply_operations(operations, settings, store)
    assert report.failed == []
    assert write_targets(org.writes(mark)) == planned(operations)

    after = org.items()
    assert_converged(after, still)
    for ref in fixed:
        item, was = after[ref], before[ref]
        assert without_orphan_label(item.labels) == without_orphan_label(was.labels)
        assert any(x.casefold() == f"kr:{kr}".casefold() or x == f"kr-{kr}" for x in item.labels)
        assert item.foreign_comments == was.foreign_comments
        assert any(FOREIGN in c for c in item.foreign_comments)
    assert plan(org)[0] == []


def test_a_changed_finding_updates_the_managed_comment_in_place(org: SandboxOrg) -> None:
    settings, okrs = org.settings(), org.okrs()
    outcome = run_job(settings, okrs, apply=True)
    assert outcome.writeback is not None and outcome.writeback.failed == []
    reasons = {ItemRef(source=o.source, key=o.key): o.reason for o in outcome.run.result.orphans}
    with Store.open(settings.state_dir) as store:
        parents = {ItemRef(source=i.source, key=i.parent) for i in store.iter_items() if i.parent}
    # one leaf no_link orphan per source now names a key result that does not exist
    changed = {
        _first({r for r, why in reasons.items() if why == "no_link"} - parents, source)
        for source in SOURCES
    }
    for ref in changed:
        if ref.source == "contoso":
            org.ado_tags(ref.key, add=["KR:KR9.9"])
        else:
            org.jira_labels(ref.source, ref.key, add=["kr-KR9.9"])
    before = org.items()

    with Store.open(settings.state_dir) as store:
        assert sync_incremental(settings, store, objectives=okrs.objectives, cycle=okrs.cycle).ok
    operations, still = plan(org)
    assert still == set(reasons)  # still orphans, for another reason
    assert planned(operations) == {(r.source, r.key, "upsert_comment"): 1 for r in changed}
    mark = org.mark()
    with Store.open(settings.state_dir) as store:
        assert apply_operations(operations, settings, store).failed == []
    writes = org.writes(mark)
    assert write_targets(writes) == planned(operations)
    assert all(w["method"] in ("PUT", "PATCH") for w in writes), writes  # edited, not added

    after = org.items()
    assert_converged(after, still)
    for ref in changed:
        assert after[ref].managed != before[ref].managed
        text = after[ref].managed[0].replace("\\", "")  # Azure DevOps' Markdown escapes
        assert "does not exist" in text and "KR9.9" in text, text
    assert plan(org)[0] == []


def test_max_writes_refuses_an_oversized_plan_unless_forced(org: SandboxOrg) -> None:
    assert run_job(org.settings(), org.okrs()).failures == []
    operations, _ = plan(org)
    assert len(operations) > 5

    mark = org.mark()
    refused = org.cli("apply", "-c", org.config, "--max-writes", "5")
    assert refused.code == 2, refused
    assert f"the plan has {len(operations)} operations" in refused.stderr, refused
    assert "max_writes = 5" in refused.stderr and "--force" in refused.stderr, refused
    assert "Traceback" not in refused.stderr
    assert org.writes(mark) == []

    forced = org.cli("apply", "-c", org.config, "--max-writes", "5", "--force")
    assert forced.code == 0, forced
    assert write_targets(org.writes(mark)) == planned(operations)
    assert plan(org)[0] == []
