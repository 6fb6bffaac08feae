"""Connections to the store's SQLite file, and SQLite failures as one-line :class:`StoreError`."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from linesight.errors import StoreError

log = logging.getLogger("linesight.store")

BUSY_TIMEOUT_S = 60.0  # a writer waits this long for another's commit (a 1M-item merge: seconds)


def _connect(path: Path) -> sqlite3.Connection:
    # isolation_level=None: no implicit transactions; every write says BEGIN/COMMIT itself
    conn = sqlite3.connect(
        path, timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False
    )
    try:
        mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if mode != "wal":
            # e.g. a network file system without shared memory: still correct, less concurrent
            log.warning("%s: WAL mode unavailable (journal_mode=%s)", path, mode)
        conn.execute("PRAGMA synchronous = FULL")
        conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
        conn.execute("PRAGMA journal_size_limit = 67108864")  # truncate the WAL after big merges
        conn.execute("PRAGMA cache_size = -32768")  # 32 MiB: big merges spill less
        conn.execute("PRAGMA mmap_size = 268435456")  # reads of a large store skip read() calls
    except BaseException:
        conn.close()
        raise
    return conn


def _corrupt_message(path: Path, problem: str) -> str:
    return (
        f"{path}: the state store is unreadable ({problem}); move it aside or delete it, and the "
        "next run rebuilds it with a full sync (its snapshots and write-back journal are lost)"
    )


@contextmanager
def _translated(path: Path) -> Iterator[None]:
    """Turn SQLite failures into one-line :class:`StoreError` messages with a fix."""
    try:
        yield
    except sqlite3.OperationalError as exc:
        text = str(exc)
        if "locked" in text or "busy" in text:
            raise StoreError(
                f"{path}: the state store stayed locked for {BUSY_TIMEOUT_S:.0f} s ({text}); "
                "is another linesight process writing to it?"
            ) from None
        if any(part in text for part in ("readonly", "unable to open", "disk I/O", "disk is full")):
            raise StoreError(f"{path}: cannot write the state store ({text})") from None
        raise StoreError(_corrupt_message(path, text)) from None
    except sqlite3.DatabaseError as exc:
        raise StoreError(_corrupt_message(path, str(exc))) from None
