"""Write-back that is interrupted: by SIGKILL halfway, or by a person editing the same item.

A killed ``linesight apply`` may have made a write whose answer it never saw (the sandbox is
slowed down, so writes are in flight when the kill lands); the rerun must converge on exactly
one managed comment and one orphan label per orphan. A tag edit made in Azure DevOps between
linesight's read and its write (412 on ``test /rev``) is merged, not lost; a Jira label edit
made between the sync and the apply is kept too.
"""

from __future__ import annotations

import json
import os
import re
import signal
import time
from collections import Counter
from collections.abc import Callable

import pytest
from job.orgs import ORPHAN_LABEL, SandboxOrg

from linesight.model import ItemRef, OperationStatus
from linesight.pipeline import apply_operations, run_job
from linesight.sandbox.wire import Request, Response
from linesight.store import Store
from writeback.helpers import assert_converged, plan, planned, write_targets


def test_an_apply_killed_halfway_converges_on_rerun_without_duplicates(org: SandboxOrg) -> None:
    assert run_job(org.settings(), org.okrs()).failures == []
    operations, orphans = plan(org)
    total = len(operations)
    assert total > 40

    org.faults(latency_ms=120)  # writes are in flight when the kill lands
    mark = org.mark()
    run = org.spawn("apply", "-c", org.config)
    try:
        deadline = time.monotonic() + 60
        while len(org.writes(mark)) < 12 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert run.poll() is None, "the apply finished before it could be killed"
        os.kill(run.pid, signal.SIGKILL)
        run.communicate(timeout=30)
    finally:
        if run.poll() is None:
            run.kill()
            run.communicate()
    assert run.returncode == -signal.SIGKILL
    time.sleep(0.3)  # let the writes in flight land (the server finishes them)
    org.faults(latency_ms=0)
    before_rerun = len(org.writes(mark))
    assert 12 <= before_rerun < total  # killed halfway...
    with Store.open(org.state_dir) as store:  # ...with operations under way
        assert store.journal_pending() != []

    rerun = org.cli("apply", "-c", org.config)
    assert rerun.code == 0, rerun
    made = write_targets(org.writes(mark))
    # every planned write happened; a write is repeated at most when its answer was lost
    assert set(made) == set(planned(operations))
    assert all(n == 1 for (_, _, kind), n in made.items() if kind == "upsert_comment")

    assert_converged(org.items(), orphans)
    mark = org.mark()
    assert plan(org)[0] == []
    again = org.cli("run", "-c", org.config, "--apply")
    assert again.code == 0, again
    assert org.writes(mark) == []
    assert_converged(org.items(), orphans)


_TAG_READ = re.compile(r"/_apis/wit/workitems/(\d+)$", re.IGNORECASE)


def _edit_after_first_read(
    org: SandboxOrg, monkeypatch: pytest.MonkeyPatch, key: str, tag: str
) -> list[int]:
    """Make a person tag work item ``key`` right after linesight first reads its tags."""
    app = org.server.apps["/ado/contoso"]
    handle: Callable[[Request], Response] = app.handle
    edits: list[int] = []

    def racing(request: Request) -> Response:
        answer = handle(request)
        match = _TAG_READ.search(request.path)
        fields = request.arg("fields") or ""
        if (
            not edits
            and request.method == "GET"
            and match
            and match.group(1) == key
            and "System.Tags" in fields
        ):
            patch = Request(
                method="PATCH",
                path=request.path,
                query={"api-version": ["7.1"]},
                headers={**request.headers, "content-type": "application/json-patch+json"},
                body=json.dumps(
                    [{"op": "add", "path": "/fields/System.Tags", "value": tag}]
                ).encode(),
                mount=request.mount,
                base_url=request.base_url,
            )
            edits.append(handle(patch).status)
        return answer

    monkeypatch.setattr(app, "handle", racing)
    return edits


def test_concurrent_edits_between_read_and_write_are_merged_not_lost(
    org: SandboxOrg, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings, okrs = org.settings(), org.okrs()
    assert run_job(settings, okrs).failures == []
    operations, orphans = plan(org)
    before = org.items()
    ado = min(
        (r for r in orphans if r.source == "contoso" and before[r].labels),
        key=lambda r: int(r.key),
    )
    jira = min((r for r in orphans if r.source == "cloud" and before[r].labels), key=str)
    edits = _edit_after_first_read(org, monkeypatch, ado.key, "urgent")
    org.jira_labels("cloud", jira.key, add=["urgent"])  # after the sync, before the apply

    mark = org.mark()
    with Store.open(settings.state_dir) as store:
        report = apply_operations(operations, settings, store)
    assert edits == [200]  # the person's edit went in between linesight's read and write
    assert report.failed == []
    tagged = next(
        r
        for r in report.results
        if r.operation.key == ado.key and r.operation.source == "contoso" and r.operation.add_labels
    )
    assert (tagged.status, tagged.writes) == (OperationStatus.APPLIED, 2)
    patches = [
        w["status"]
        for w in org.writes(mark)
        if w["method"] == "PATCH"
        and _TAG_READ.search(w["path"])
        and _TAG_READ.search(w["path"]).group(1) == ado.key  # type: ignore[union-attr]
    ]
    assert patches == [412, 200]

    after = org.items()
    for ref in (ado, jira):
        folded = [x.casefold() for x in after[ref].labels]
        expected = [x.casefold() for x in before[ref].labels] + ["urgent", ORPHAN_LABEL]
        assert sorted(folded) == sorted(expected), (ref, after[ref].labels)
    # the other writes were one each, as planned
    counted = write_targets(org.writes(mark))
    counted[("contoso", ado.key, "labels")] -= 1
    assert +counted == planned(operations)
    assert_converged(after, orphans)
    assert ItemRef(source="contoso", key=ado.key) in orphans


def test_a_source_that_stays_unreachable_stops_its_write_back_after_one_round_of_retries(
    org: SandboxOrg,
) -> None:
    settings, okrs = org.settings(), org.okrs()
    assert run_job(settings, okrs).failures == []
    operations, _ = plan(org)
    # every request answers 429 "retry now": each call exhausts its retries at once
    org.faults(fail_rate=1.0, kinds=["429"], retry_after=0)
    mark = org.mark()
    with Store.open(settings.state_dir) as store:
        report = apply_operations(operations, settings, store)
    requests = org.server.requests(mark)
    org.faults()

    attempts = 8  # retry.DEFAULT_POLICY.max_attempts
    assert report.writes == 0
    # the operations under way when the source gave up fail; the rest are not attempted
    assert 0 < len(report.failed) <= sum(s.concurrency for s in settings.sources)
    skipped = [r for r in report.skipped if "is unreachable" in r.message]
    assert len(skipped) + len(report.failed) == len(operations)
    # one round of retries per source (connecting), not one per operation or per worker
    by_source = Counter(r["path"].split("/")[2] for r in requests)
    assert by_source == dict.fromkeys(("cloud", "dc", "contoso"), attempts), by_source
