"""The write-back journal: each operation recorded before it is sent and closed after."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from linesight.model import Operation
from linesight.store.base import StoreBase
from linesight.store.timestamps import _iso, _now, _parse


def operation_hash(op: Operation) -> str:
    """What an operation would change, as a stable hash (its ``reason`` left out)."""
    canonical = op.model_dump_json(exclude={"reason"})
    return hashlib.sha256(canonical.encode()).hexdigest()


class JournalState(StrEnum):
    PENDING = "pending"  # written before the tracker call; left over only by a crash
    DONE = "done"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class JournalEntry:
    id: int
    run_id: str
    source: str
    key: str
    op_kind: str
    op_hash: str
    state: JournalState
    detail: str
    created_at: datetime
    finished_at: datetime | None


_JOURNAL_SELECT = (
    "SELECT id, run_id, source, key, op_kind, op_hash, state, detail, created_at, finished_at "
    "FROM journal"
)


def _journal_entry(row: tuple[Any, ...]) -> JournalEntry:
    return JournalEntry(
        id=row[0],
        run_id=row[1],
        source=row[2],
        key=row[3],
        op_kind=row[4],
        op_hash=row[5],
        state=JournalState(row[6]),
        detail=row[7],
        created_at=datetime.fromisoformat(row[8]),
        finished_at=_parse(row[9]),
    )


class JournalMixin(StoreBase):
    """The write-back journal part of :class:`~linesight.store.Store`."""

    # ------------------------------------------------------------------ write-back journal

    def journal_begin(self, op: Operation) -> int:
        """Record ``op`` as pending *before* it is sent; returns the entry id."""
        with self._transaction() as conn:
            cursor = conn.execute(
                "INSERT INTO journal (run_id, source, key, op_kind, op_hash, state, created_at) "
                "VALUES (?, ?, ?, ?, ?, 'pending', ?)",
                (self.run_id, op.source, op.key, op.kind.value, operation_hash(op), _iso(_now())),
            )
            entry_id = cursor.lastrowid
        assert entry_id is not None
        return entry_id

    def journal_finish(self, entry_id: int, state: JournalState, detail: str = "") -> None:
        """Close a journal entry as done or failed."""
        if state is JournalState.PENDING:
            raise ValueError("journal_finish needs a final state (done or failed)")
        with self._transaction() as conn:
            updated = conn.execute(
                "UPDATE journal SET state = ?, detail = ?, finished_at = ? WHERE id = ?",
                (state.value, detail, _iso(_now()), entry_id),
            ).rowcount
        if updated != 1:
            raise ValueError(f"no journal entry {entry_id}")

    def journal_pending(self) -> list[JournalEntry]:
        """Entries still pending: operations a crashed run may or may not have made."""
        with self._db() as conn:
            rows = conn.execute(_JOURNAL_SELECT + " WHERE state = 'pending' ORDER BY id").fetchall()
        return [_journal_entry(row) for row in rows]

    def journal_last_done(self, source: str, key: str, kind: str) -> str | None:
        """The hash of the last operation of ``kind`` done on the item, or ``None``."""
        with self._db() as conn:
            row = conn.execute(
                "SELECT op_hash FROM journal WHERE source = ? AND key = ? AND op_kind = ? "
                "AND state = 'done' ORDER BY id DESC LIMIT 1",
                (source, key, str(kind)),
            ).fetchone()
        return None if row is None else str(row[0])

    def journal_entries(self, run_id: str | None = None) -> list[JournalEntry]:
        """All entries of one run (default: this one), oldest first."""
        with self._db() as conn:
            rows = conn.execute(
                _JOURNAL_SELECT + " WHERE run_id = ? ORDER BY id", (run_id or self.run_id,)
            ).fetchall()
        return [_journal_entry(row) for row in rows]
