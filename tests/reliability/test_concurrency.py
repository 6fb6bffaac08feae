"""Concurrency: two linesight processes racing on one state folder. Exactly one holds the run
lock; the other says another run is in the way and exits 1, touching nothing; the store stays
sound, and the next run succeeds.
"""

from __future__ import annotations

import pytest

from linesight.sandbox import FaultConfig
from linesight.store import Store
from tests.reliability.conftest import OrgDir, cli, explain, latest_analysis, spawn, stored_items


@pytest.mark.parametrize(
    ("first", "second"),
    [
        (("run", "--apply", "--force"), ("run", "--apply", "--force")),
        (("sync", "--full"), ("apply", "--force")),
    ],
    ids=["run-vs-run", "sync-vs-apply"],
)
def test_two_runs_race_for_one_state_folder(
    org_dir: OrgDir, first: tuple[str, ...], second: tuple[str, ...]
) -> None:
    # a first run, so both racers find a store with items and a snapshot
    with org_dir.sandbox(FaultConfig(latency_ms=40)):
        setup = cli("run", "--config", org_dir.config, cwd=org_dir.root)
        assert setup.returncode == 0, explain(setup)
        with Store.open(org_dir.state_dir) as store:
            snapshots = len(store.snapshots(limit=1000))
        items = stored_items(org_dir.state_dir).keys()
        assert len(items) > 250

        racers = [
            spawn(*args, "--config", org_dir.config, cwd=org_dir.root) for args in (first, second)
        ]
        results = [(racer, *racer.communicate(timeout=180)) for racer in racers]
        codes = sorted(racer.returncode for racer, _, _ in results)
        assert codes == [0, 1], [(r.returncode, out, err) for r, out, err in results]
        loser_err = next(err for racer, _, err in results if racer.returncode == 1)
        assert "another linesight run" in loser_err
        assert "Traceback" not in loser_err
        assert "holds" in loser_err and "linesight.lock" in loser_err

        # the store is sound and every snapshot survived
        with Store.open(org_dir.state_dir) as store:
            assert store.verify() == []
            assert len(store.snapshots(limit=1000)) >= snapshots
        assert stored_items(org_dir.state_dir).keys() == items
        assert latest_analysis(org_dir.state_dir) is not None

        later = cli("run", "--apply", "--force", "--config", org_dir.config, cwd=org_dir.root)
        assert later.returncode == 0, explain(later)
        planned = cli("plan", "--format", "json", "--config", org_dir.config, cwd=org_dir.root)
        assert planned.returncode == 0, explain(planned)
        assert planned.stdout.strip() == "[]"


def test_a_reader_alongside_a_run(org_dir: OrgDir) -> None:
    """``plan`` and ``analyze`` take no lock: they read a consistent store while a run writes."""
    with org_dir.sandbox(FaultConfig(latency_ms=40)):
        setup = cli("sync", "--full", "--config", org_dir.config, cwd=org_dir.root)
        assert setup.returncode == 0, explain(setup)
        writer = spawn(
            "run", "--full", "--apply", "--force", "--config", org_dir.config, cwd=org_dir.root
        )
        readers = [
            cli("analyze", "--format", "json", "--config", org_dir.config, cwd=org_dir.root)
            for _ in range(3)
        ]
        out, err = writer.communicate(timeout=180)
        assert writer.returncode == 0, f"{out}\n{err}"
    for reader in readers:
        assert reader.returncode == 0, explain(reader)
        assert '"orphans"' in reader.stdout
