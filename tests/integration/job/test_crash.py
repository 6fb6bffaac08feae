"""A nightly run killed with SIGKILL loses no earlier snapshot, and the next run succeeds.

The run is killed at three places: during the sync (the sandbox is slowed down so the sync
takes seconds, and the kill lands once the first pages were served), during the analysis and
right before the snapshot is saved (a hook in the real CLI's process announces the moment and
waits to be killed).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from job.orgs import SandboxOrg
from linesight.pipeline import run_job
from linesight.store import Snapshot, Store

# The real CLI, with one pipeline step wrapped so it announces itself and then sleeps.
_HOOKED_RUN = textwrap.dedent(
    """
    import pathlib, sys, time
    import linesight.pipeline as pipeline
    from linesight.cli import app

    step, flag = sys.argv[1], pathlib.Path(sys.argv[2])
    owner = pipeline if step == "analyze" else pipeline.Store
    name = "analyze" if step == "analyze" else "save_snapshot"
    original = getattr(owner, name)

    def hooked(*args, **kwargs):
        flag.write_text("here")
        time.sleep(120)  # killed long before this ends
        return original(*args, **kwargs)

    setattr(owner, name, hooked)
    app(["run", "-c", sys.argv[3]])
    """
)


def _latest(org: SandboxOrg) -> Snapshot:
    with Store.open(org.state_dir) as store:
        assert store.verify() == []
        snapshot = store.latest_snapshot()
    assert snapshot is not None
    return snapshot


def _wait(condition: object, what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if callable(condition) and condition():
            return
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


def _kill(process: subprocess.Popen[str]) -> None:
    assert process.poll() is None, "the run ended before it could be killed"
    os.kill(process.pid, signal.SIGKILL)
    process.communicate(timeout=30)
    assert process.returncode == -signal.SIGKILL


def _assert_recovers(org: SandboxOrg, before: Snapshot, analysis_json: bytes) -> None:
    """The earlier snapshot is intact, the outputs whole, and the next run succeeds."""
    after_kill = _latest(org)
    assert after_kill.summary == before.summary
    assert after_kill.result == before.result
    written = (org.output_dir / "analysis.json").read_bytes()
    assert written.endswith(b"}\n")  # never half a file, whichever version it is
    assert not list(org.output_dir.glob(".*"))  # no temporary file left behind
    if analysis_json:
        assert written == analysis_json

    outcome = run_job(org.settings(), org.okrs())  # takes the lock the killed run held
    assert outcome.failures == []
    rerun = _latest(org)
    assert rerun.summary.id == before.summary.id + 1
    assert rerun.summary.orphan_count == before.summary.orphan_count
    assert rerun.result["trend"]["new_orphans"] == []
    assert rerun.result["trend"]["resolved_orphans"] == []
    with Store.open(org.state_dir) as store:
        assert store.count_items() == org.facts["summary"]["work_items"]


def test_a_run_killed_during_the_sync_leaves_the_last_snapshot(org: SandboxOrg) -> None:
    assert run_job(org.settings(), org.okrs()).failures == []
    before = _latest(org)
    analysis_json = (org.output_dir / "analysis.json").read_bytes()
    with Store.open(org.state_dir) as store:
        watermarks = {s.source: s.watermark for s in store.source_states()}

    org.faults(latency_ms=100)
    mark = org.mark()
    run = org.spawn("run", "--full", "-c", org.config)
    try:
        # killed once the sync is well under way: several sources have answered pages
        _wait(
            lambda: (
                len({r["path"].split("/")[2] for r in org.server.requests(mark)}) >= 2
                and len(org.server.requests(mark)) >= 12
            ),
            "the sync to get under way",
        )
        _kill(run)
    finally:
        if run.poll() is None:
            run.kill()
            run.communicate()
        org.faults(latency_ms=0)

    with Store.open(org.state_dir) as store:  # the kill did land before the sync finished
        after = {s.source: s.watermark for s in store.source_states()}
    assert set(after) == set(watermarks)
    assert any(after[name] == watermarks[name] for name in watermarks), (watermarks, after)
    _assert_recovers(org, before, analysis_json)


@pytest.mark.parametrize("step", ["analyze", "save_snapshot"])
def test_a_run_killed_after_the_sync_leaves_the_last_snapshot(
    org: SandboxOrg, tmp_path: Path, step: str
) -> None:
    assert run_job(org.settings(), org.okrs()).failures == []
    before = _latest(org)
    analysis_json = (org.output_dir / "analysis.json").read_bytes()
    org.jira_labels("cloud", "PAY-1", add=["changed-before-the-crash"])  # the sync has work

    flag = tmp_path / f"{step}.reached"
    run = subprocess.Popen(
        [sys.executable, "-c", _HOOKED_RUN, step, str(flag), str(org.config)],
        cwd=org.root,
        env=org.env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        _wait(flag.exists, f"the run to reach {step}")
        _kill(run)
    finally:
        if run.poll() is None:
            run.kill()
            run.communicate()

    # killed in the analysis, the outputs are untouched; killed at the snapshot, they are new
    _assert_recovers(org, before, analysis_json if step == "analyze" else b"")
