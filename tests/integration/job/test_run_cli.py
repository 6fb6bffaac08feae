"""``linesight run`` and ``linesight demo`` as cron runs them: exit codes, messages, outputs.

Exit codes (``cli/common.py``): 0 ok, 1 a runtime failure (a source, an output, a write), 2 a
usage/config error, 3 a ``--fail-on`` threshold breached.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import NoReturn

from job.orgs import SandboxOrg
from linesight.lock import LOCK_NAME
from linesight.pipeline import run_job
from linesight.store import Store

OUTPUTS = ("analysis.json", "report.html", "report.md", "graph.graphml", "graph.html")


def _wait_for_lock_holder(lock: Path, pid: int, timeout: float = 60.0) -> None:
    """Until the run with ``pid`` has written itself into the lock file (it holds the lock)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if lock.is_file() and f'"pid": {pid}' in lock.read_text(errors="replace"):
            return
        time.sleep(0.05)
    raise AssertionError(f"run {pid} never took {lock}")


def test_a_second_run_on_the_same_state_folder_exits_1_naming_the_first(
    org: SandboxOrg,
) -> None:
    org.faults(latency_ms=150)  # the first run's sync takes a few seconds
    first = org.spawn("run", "-c", org.config)
    try:
        _wait_for_lock_holder(org.state_dir / LOCK_NAME, first.pid)
        second = org.cli("run", "-c", org.config)
        apply = org.cli("apply", "-c", org.config)
        still_running = first.poll() is None
    finally:
        org.faults(latency_ms=0)
        out, err = first.communicate(timeout=120)

    assert still_running, "the first run ended before the second started: nothing was tested"
    assert first.returncode == 0, f"{out}\n{err}"
    for blocked in (second, apply):
        assert blocked.code == 1, blocked
        assert f"another linesight run (pid {first.pid}" in blocked.stderr, blocked
        assert "holds" in blocked.stderr and LOCK_NAME in blocked.stderr, blocked
        assert "Traceback" not in blocked.stderr, blocked
    # only the first run left a snapshot; the lock is free again
    with Store.open(org.state_dir) as store:
        assert len(store.snapshots()) == 1
    assert org.cli("run", "-c", org.config).code == 0


def test_a_source_that_is_down_fails_the_run_but_not_the_others(org: SandboxOrg) -> None:
    settings, okrs = org.settings(), org.okrs()
    assert run_job(settings, okrs).failures == []  # every source synced once
    org.jira_labels("cloud", "PAY-1", add=["seen-after-the-outage"])
    # a mount that does not exist: the dc site answers 404 to everything
    org.point_source_at("dc", f"{org.server.url}/jira/gone")
    mark = org.mark()

    done = org.cli("run", "-c", org.config, "--apply")

    assert done.code == 1, done
    assert "failed: source 'dc'" in done.stderr, done
    assert "/jira/gone" in done.stderr and "Traceback" not in done.stderr, done
    analysis = json.loads((org.output_dir / "analysis.json").read_text(encoding="utf-8"))
    # the dc items are kept from the last good sync; the other sources went on
    assert analysis["summary"]["work_items"] == org.facts["summary"]["work_items"]
    dc_orphans = sum(o["source"] == "dc" for o in analysis["orphans"])
    assert dc_orphans > 0
    with Store.open(org.state_dir) as store:
        assert "seen-after-the-outage" in (store.get_item("cloud", "PAY-1") or _none()).labels
        dc = store.source_state("dc")
        assert dc is not None and dc.last_error and "/jira/gone" in dc.last_error
    for report in ("report.md", "report.html"):
        text = (org.output_dir / report).read_text(encoding="utf-8")
        assert "could not be synced" in text and "dc" in text, report
    # write-back went on for the others and waits for dc's next good sync (stale data)
    held = f"write-back to 'dc' held back ({2 * dc_orphans} operations): its sync failed"
    assert held in done.stdout, done
    written = {r["path"].split("/")[2] for r in org.writes(mark)}
    assert written == {"cloud", "contoso"}


def _none() -> NoReturn:
    raise AssertionError("PAY-1 is missing from the store")


def test_fail_on_exits_3_when_a_threshold_is_breached_and_2_when_it_is_nonsense(
    org: SandboxOrg,
) -> None:
    share = org.facts["summary"]["orphan_share"]
    assert 0.01 < share < 0.99
    breached = org.cli(
        "run", "-c", org.config, "--fail-on", "orphan_share>0.01", "--fail-on", "orphan_share>0.99"
    )
    assert breached.code == 3, breached
    assert "threshold breached: orphan_share>0.01" in breached.stderr, breached
    assert "0.99" not in breached.stderr, breached  # only the breached one is reported
    assert (org.output_dir / "analysis.json").is_file()  # the run itself went through

    nonsense = org.cli("run", "-c", org.config, "--fail-on", "nonsense")
    assert nonsense.code == 2, nonsense
    assert "--fail-on 'nonsense'" in nonsense.stderr, nonsense
    assert "expected METRIC OP NUMBER" in nonsense.stderr, nonsense
    assert "Traceback" not in nonsense.stderr, nonsense
    unknown = org.cli("run", "-c", org.config, "--fail-on", "orphans>3")
    assert unknown.code == 2, unknown
    assert "unknown metric 'orphans'" in unknown.stderr and "orphan_count" in unknown.stderr
    with Store.open(org.state_dir) as store:  # a usage error runs nothing
        assert len(store.snapshots()) == 1


def test_demo_runs_the_whole_job_against_the_built_in_sandbox(tmp_path: Path) -> None:
    import subprocess
    import sys

    folder = tmp_path / "demo"
    done = subprocess.run(
        [sys.executable, "-m", "linesight", "demo", "--dir", str(folder), "--items", "600"],
        cwd=tmp_path,
        env={**_clean_env(), "COLUMNS": "200", "NO_COLOR": "1", "CI": "1"},
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, f"{done.stdout}\n{done.stderr}"
    assert "demo finished" in done.stdout and "orphans" in done.stdout
    assert "write-back:" in done.stdout and "write calls" in done.stdout
    out = folder / "linesight-out"
    for name in OUTPUTS:
        assert (out / name).is_file() and (out / name).stat().st_size > 0, name
    analysis = json.loads((out / "analysis.json").read_text(encoding="utf-8"))
    facts = json.loads((folder / "facts.json").read_text(encoding="utf-8"))
    # the planted truths of the generated organisation are what the analysis finds
    for key in ("work_items", "orphan_count", "unsupported_kr_count"):
        assert analysis["summary"][key] == facts["summary"][key], key


def _clean_env() -> dict[str, str]:
    import os

    return {k: v for k, v in os.environ.items() if not k.startswith("LINESIGHT_")}
