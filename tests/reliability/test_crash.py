"""Crash: ``linesight run --apply`` killed with SIGKILL at random points, then run again.

Each iteration switches the OKR file (the full one, or one objective fewer), so every run has
real write-back to do — labels to add and remove, comments to create, rewrite and delete — and
a kill can land in the sync, the analysis, the outputs, the snapshot or the middle of the
write-back. After each kill a plain rerun must exit 0 and leave the tracker converged: the
orphan label on exactly the orphans, exactly one managed comment on each orphan and none
elsewhere, the store sound, and the latest snapshot a valid AnalysisResult.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from linesight.sandbox import FaultConfig
from linesight.store import Store
from tests.reliability.conftest import (
    OrgDir,
    cli,
    explain,
    has_label,
    latest_analysis,
    make_org,
    okr_variants,
    orphan_refs,
    spawn,
    tracker_items,
)


def _is_write(request: dict[str, Any]) -> bool:
    """A write-back call (searches and batch reads are POSTs too, but change nothing)."""
    method = request["method"]
    return method in {"PUT", "PATCH", "DELETE"} or (
        method == "POST" and "/comment" in request["path"].lower()
    )


def _snapshot_count(org: OrgDir) -> int:
    with Store.open(org.state_dir) as store:
        return len(store.snapshots(limit=10_000))


def _assert_converged(org: OrgDir, state: dict[str, Any]) -> set[str]:
    with Store.open(org.state_dir) as store:
        assert store.verify() == []
    result = latest_analysis(org.state_dir)
    assert result is not None
    orphans = orphan_refs(result)
    assert orphans, "no orphans: the convergence check would prove nothing"
    items = tracker_items(state)
    assert orphans <= items.keys()
    labelled = {ref for ref, item in items.items() if has_label(item)}
    assert labelled == orphans, (
        f"label on {len(labelled - orphans)} non-orphan(s), missing on "
        f"{len(orphans - labelled)} orphan(s)"
    )
    wrong = {
        ref: len(item.managed)
        for ref, item in items.items()
        if len(item.managed) != (1 if ref in orphans else 0)
    }
    assert wrong == {}, f"managed comments per item (ref: count): {dict(list(wrong.items())[:5])}"
    return orphans


def _crash_loop(tmp_path: Path, items: int, iterations: int, seed: int) -> None:
    org = make_org(tmp_path / "org", items, seed)
    variants = okr_variants(org)
    rng = random.Random(seed)
    run = ("run", "--apply", "--force", "--config", org.config)
    kills: list[tuple[float, int]] = []  # (delay, write requests the killed run made)
    with org.sandbox(FaultConfig(latency_ms=30)) as server:
        began = time.monotonic()
        first = cli(*run, cwd=org.root)
        duration = time.monotonic() - began
        assert first.returncode == 0, explain(first)
        seen = {frozenset(_assert_converged(org, server.state()))}
        for i in range(iterations):
            org.okrs.write_text(variants[(i + 1) % 2], encoding="utf-8")
            snapshots = _snapshot_count(org)
            logged = len(server.requests())
            delay = rng.uniform(0.05, duration)
            victim = spawn(*run, cwd=org.root)
            try:
                victim.wait(timeout=delay)
            except subprocess.TimeoutExpired:
                os.kill(victim.pid, signal.SIGKILL)
            out, err = victim.communicate(timeout=60)
            assert "Traceback" not in err
            writes = [r for r in server.requests(logged) if _is_write(r)]
            if victim.returncode == -signal.SIGKILL:
                kills.append((delay, len(writes)))
            else:
                assert victim.returncode == 0, f"exit {victim.returncode}\n{out}\n{err}"
            # a killed run loses no earlier snapshot, and leaves a sound store behind
            assert _snapshot_count(org) >= snapshots
            with Store.open(org.state_dir) as store:
                assert store.verify() == []
            assert latest_analysis(org.state_dir) is not None  # validated as an AnalysisResult

            rerun = cli(*run, cwd=org.root)
            assert rerun.returncode == 0, explain(rerun)
            assert "Traceback" not in rerun.stderr
            seen.add(frozenset(_assert_converged(org, server.state())))
    # shown when the test fails, and with -s: where the kills landed
    print(f"run {duration:.1f}s; kills (delay s, writes made): {kills}")
    assert len(seen) == 2, "the two OKR variants should give two different orphan sets"
    assert len(kills) >= iterations // 2, f"too few runs were killed: {kills}"
    # some kills landed in the middle of the write-back (writes made, not all of them)
    assert any(writes > 0 for _, writes in kills), kills


def test_a_run_killed_at_random_points_converges_on_rerun(tmp_path: Path) -> None:
    _crash_loop(tmp_path, items=300, iterations=6, seed=17)


@pytest.mark.slow
def test_a_run_killed_thirty_times_converges_every_time(tmp_path: Path) -> None:
    _crash_loop(tmp_path, items=600, iterations=30, seed=29)
