"""Fault soak: with a fifth of all requests failing and a rate limit, sync + apply converge to
exactly what a clean run leaves behind — the same store and the same tracker state, with
nothing lost and nothing duplicated.

Every fault kind is used, including ``lost``: the tracker makes the write and the answer never
arrives, so a client that simply retries would write twice. Two phases (one objective fewer,
then the full OKR file) make the write-back add, rewrite and delete.

The clean run and the faulty run use two fresh sandboxes of the same organisation on the same
port (item URLs carry the port), one after the other.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from linesight.sandbox import FaultConfig
from linesight.sandbox.faults import ALL_FAULT_KINDS
from tests.reliability.conftest import (
    OrgDir,
    TrackerItem,
    cli,
    explain,
    has_label,
    make_org,
    okr_variants,
    stored_items,
    tracker_items,
)

_WRITES = {"POST", "PUT", "PATCH", "DELETE"}


def _sync_and_apply(org: OrgDir) -> None:
    for args in (("sync", "--full"), ("apply", "--force")):
        result = cli(*args, "--config", org.config, cwd=org.root)
        assert result.returncode == 0, explain(result)


def _without(item: object, keys: set[str]) -> object:
    assert isinstance(item, dict)
    return {k: v for k, v in item.items() if k not in keys}


Outcome = tuple[dict[tuple[str, str], object], dict[str, TrackerItem]]


def _converge(tmp_path: Path, items: int, seed: int, faults: FaultConfig) -> None:
    base = make_org(tmp_path / "generated", items, seed)
    full, fewer = okr_variants(base)
    outcomes: dict[str, list[Outcome]] = {}
    fault_log: list[dict[str, object]] = []
    for name, config in (("clean", None), ("faulty", faults)):
        org = base.copy_to(tmp_path / name)
        outcomes[name] = []
        with org.sandbox(config) as server:
            # one objective fewer: many orphans, then the full file: labels and comments go
            for okrs in (fewer, full):
                org.okrs.write_text(okrs, encoding="utf-8")
                _sync_and_apply(org)
                outcomes[name].append((stored_items(org.state_dir), tracker_items(server.state())))
            if name == "faulty":
                fault_log = server.requests()
                # nothing changed since: a second plan is empty and an apply writes nothing
                before = len(fault_log)
                planned = cli("plan", "--format", "json", "--config", org.config, cwd=org.root)
                assert planned.returncode == 0, explain(planned)
                assert json.loads(planned.stdout) == []
                again = cli("apply", "--config", org.config, cwd=org.root)
                assert again.returncode == 0, explain(again)
                assert [r for r in server.requests(before) if r["method"] in _WRITES] == []

    # the faults really happened, on reads and on writes, of every kind asked for
    faulted = [r for r in fault_log if r["fault"]]
    kinds = Counter(str(r["fault"]) for r in faulted)
    print(f"faulty run: {len(fault_log)} requests, {len(faulted)} faulted {dict(kinds)}")
    assert len(faulted) >= 0.1 * len(fault_log)
    assert {r["fault"] for r in faulted} >= {*faults.kinds, "rate_limit"}
    assert {r["method"] for r in faulted} >= {"GET", "POST", "PUT"}

    phases = zip(outcomes["clean"], outcomes["faulty"], strict=True)
    for phase, ((clean_store, clean_tracker), (faulty_store, faulty_tracker)) in enumerate(phases):
        assert len(clean_store) > 0.9 * items
        assert faulty_store.keys() == clean_store.keys()
        # the second sync re-reads the items the first apply wrote to: their `updated` is the
        # moment of that write, which differs between two runs; everything else must not
        volatile = {"updated"} if phase else set()
        different = [
            ref
            for ref in clean_store
            if _without(faulty_store[ref], volatile) != _without(clean_store[ref], volatile)
        ]
        assert different == [], (
            f"phase {phase}: {len(different)} stored items differ: {different[:3]}"
        )

        labelled = {ref for ref, item in clean_tracker.items() if has_label(item)}
        assert labelled, "the clean run labelled no orphan: the comparison would prove nothing"
        for ref, item in clean_tracker.items():
            assert len(item.managed) == (1 if ref in labelled else 0), ref
        assert faulty_tracker.keys() == clean_tracker.keys()
        for ref, clean_item in clean_tracker.items():
            faulty_item = faulty_tracker[ref]
            assert faulty_item.labels == clean_item.labels, (phase, ref)
            assert faulty_item.managed == clean_item.managed, (phase, ref)  # none lost or doubled
            assert faulty_item.other == clean_item.other, (phase, ref)  # people's comments kept
            assert faulty_item.fields == clean_item.fields, (phase, ref)
    # the second phase really took labels and comments away
    first, second = (
        {ref for ref, item in tracker.items() if has_label(item)}
        for _, tracker in outcomes["clean"]
    )
    assert first - second


def test_sync_and_apply_under_faults_converge_to_the_clean_run(tmp_path: Path) -> None:
    _converge(
        tmp_path,
        1000,
        3,
        FaultConfig(fail_rate=0.2, rate_limit=80, retry_after=0, seed=11, kinds=ALL_FAULT_KINDS),
    )


@pytest.mark.slow
def test_sync_and_apply_under_faults_converge_at_scale(tmp_path: Path) -> None:
    _converge(
        tmp_path,
        5000,
        21,
        FaultConfig(
            fail_rate=0.2,
            rate_limit=80,
            retry_after=0,
            latency_ms=5,
            seed=5,
            kinds=ALL_FAULT_KINDS,
        ),
    )
