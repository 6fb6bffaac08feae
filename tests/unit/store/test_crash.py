"""A process SIGKILLed in the middle of a sync leaves the store readable, in its previous state."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from linesight.model import StatusCategory, WorkItem
from linesight.store import DB_NAME, Store, SyncMode

BEFORE = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)
BIG = 150_000

# The child re-syncs the source with BIG items. Its item generator says "staging" part-way and
# "staged" when the tracker has nothing more, i.e. just before the commit's transaction starts.
CHILD = f"""
import sys
from datetime import UTC, datetime
from pathlib import Path
from linesight.model import StatusCategory, WorkItem
from linesight.store import Store, SyncMode

def items():
    for n in range({BIG}):
        if n == {BIG} // 4:
            print("staging", flush=True)
        yield WorkItem(source="pay", key=f"PAY-{{n}}", type="Story", title=f"rewritten {{n}}",
                       status="Done", status_category=StatusCategory.DONE)
    print("staged", flush=True)

with Store.open(Path(sys.argv[1])) as store:
    print("ready", flush=True)
    store.apply_sync("pay", items(), {{"PAY-0"}}, datetime(2026, 11, 21, tzinfo=UTC),
                     mode=SyncMode.FULL)
print("committed", flush=True)
"""


def original(n: int) -> WorkItem:
    return WorkItem(
        source="pay",
        key=f"PAY-{n}",
        type="Story",
        title=f"original {n}",
        status="In Progress",
        status_category=StatusCategory.IN_PROGRESS,
    )


def prepare(state: Path) -> list[WorkItem]:
    items = [original(n) for n in range(1000)]
    with Store.open(state) as store:
        store.apply_sync("pay", items, set(), BEFORE, mode=SyncMode.FULL)
    return items


def start_child(state: Path) -> subprocess.Popen[str]:
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(state)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    assert child.stdout.readline().strip() == "ready"
    return child


def wait_for_line(child: subprocess.Popen[str], expected: str) -> None:
    assert child.stdout is not None
    for line in child.stdout:
        if line.strip() == expected:
            return
    raise AssertionError(f"the child ended without saying {expected!r}")


def kill(child: subprocess.Popen[str]) -> None:
    os.kill(child.pid, signal.SIGKILL)
    assert child.wait(timeout=30) == -signal.SIGKILL
    assert child.stdout is not None
    assert "committed" not in child.stdout.read()
    child.stdout.close()


def assert_previous_state(state: Path, items: list[WorkItem]) -> None:
    with Store.open(state) as store:
        assert store.verify() == []
        assert sorted(store.iter_items(), key=lambda i: int(i.key[4:])) == items
        source = store.source_state("pay")
        assert source is not None and source.watermark == BEFORE
        # and the store takes the next sync as if nothing had happened
        result = store.apply_sync("pay", [original(5000)], set(), datetime.now(UTC))
        assert result.changed == 1
        assert store.count_items() == len(items) + 1


def test_killed_while_staging(tmp_path: Path) -> None:
    items = prepare(tmp_path)
    child = start_child(tmp_path)
    wait_for_line(child, "staging")
    kill(child)
    assert_previous_state(tmp_path, items)


def test_killed_inside_the_commit_transaction(tmp_path: Path) -> None:
    items = prepare(tmp_path)
    wal = tmp_path / f"{DB_NAME}-wal"
    child = start_child(tmp_path)
    wait_for_line(child, "staged")
    # the merge of BIG items overflows SQLite's page cache, so its uncommitted pages spill into
    # the WAL long before the commit: a growing WAL means the transaction is under way
    baseline = wal.stat().st_size if wal.exists() else 0
    deadline = time.monotonic() + 60
    while (wal.stat().st_size if wal.exists() else 0) < baseline + 4_000_000:
        assert child.poll() is None, "the commit finished before it could be interrupted"
        assert time.monotonic() < deadline
        time.sleep(0.002)
    kill(child)
    assert_previous_state(tmp_path, items)
