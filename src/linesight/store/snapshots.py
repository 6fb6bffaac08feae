"""Analysis snapshots: one per run, kept for trends."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import BaseModel

from linesight.store.base import StoreBase
from linesight.store.timestamps import _iso, _now


@dataclass(frozen=True, slots=True)
class SnapshotSummary:
    """The summary numbers of one analysis snapshot, for trend charts."""

    id: int
    created_at: datetime
    cycle: str | None
    work_items: int | None
    in_scope: int | None
    in_progress: int | None
    aligned_wip: float | None
    orphan_count: int | None
    orphan_share: float | None
    unsupported_kr_count: int | None


@dataclass(frozen=True, slots=True)
class Snapshot:
    """One analysis snapshot: its summary and the whole result as plain JSON data.

    Rebuild the typed result with ``AnalysisResult.model_validate(snapshot.result)``.
    """

    summary: SnapshotSummary
    result: dict[str, Any]


_SUMMARY_COLUMNS = (
    "work_items",
    "in_scope",
    "in_progress",
    "aligned_wip",
    "orphan_count",
    "orphan_share",
    "unsupported_kr_count",
)
_SNAPSHOT_SELECT = "SELECT id, created_at, cycle, " + ", ".join(_SUMMARY_COLUMNS)


def _summary(row: tuple[Any, ...]) -> SnapshotSummary:
    return SnapshotSummary(row[0], datetime.fromisoformat(row[1]), row[2], *row[3:10])


class SnapshotsMixin(StoreBase):
    """The snapshots part of :class:`~linesight.store.Store`."""

    # ------------------------------------------------------------------ snapshots

    def save_snapshot(self, result: BaseModel | Mapping[str, Any]) -> int:
        """Store one analysis result (``generated_at``, ``cycle``, ``summary`` per the SPEC).

        Returns the snapshot id. One transaction: a run killed meanwhile loses no earlier one.
        """
        if isinstance(result, BaseModel):
            head = result.model_dump(mode="json", include={"generated_at", "cycle", "summary"})
            text = result.model_dump_json()
        else:
            head = dict(result)
            text = json.dumps(head, separators=(",", ":"), default=str)
        summary = head.get("summary") or {}
        created = head.get("generated_at")
        created_at = _iso(datetime.fromisoformat(created) if isinstance(created, str) else _now())
        values = [summary.get(column) for column in _SUMMARY_COLUMNS]
        with self._transaction() as conn:
            cursor = conn.execute(
                "INSERT INTO snapshots (created_at, cycle, work_items, in_scope, in_progress, "
                "aligned_wip, orphan_count, orphan_share, unsupported_kr_count, result) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (created_at, head.get("cycle"), *values, text),
            )
            snapshot_id = cursor.lastrowid
        assert snapshot_id is not None
        return snapshot_id

    def latest_snapshot(self) -> Snapshot | None:
        return self._snapshot_at(0)

    def previous_snapshot(self) -> Snapshot | None:
        """The snapshot before the latest: the baseline of "trend since the last run"."""
        return self._snapshot_at(1)

    def _snapshot_at(self, offset: int) -> Snapshot | None:
        with self._db() as conn:
            row = conn.execute(
                _SNAPSHOT_SELECT + ", result FROM snapshots ORDER BY id DESC LIMIT 1 OFFSET ?",
                (offset,),
            ).fetchone()
        if row is None:
            return None
        return Snapshot(summary=_summary(row[:10]), result=json.loads(row[10]))

    def snapshots(self, limit: int = 90) -> list[SnapshotSummary]:
        """The summaries of the last ``limit`` snapshots, oldest first (ready for a chart)."""
        with self._db() as conn:
            rows = conn.execute(
                _SNAPSHOT_SELECT + " FROM snapshots ORDER BY id DESC LIMIT ?", (limit,)
            ).fetchall()
        return [_summary(row) for row in reversed(rows)]

    def prune_snapshots(self, keep: int) -> int:
        """Delete all but the newest ``keep`` snapshots; returns how many went."""
        with self._transaction() as conn:
            return conn.execute(
                "DELETE FROM snapshots WHERE id NOT IN "
                "(SELECT id FROM snapshots ORDER BY id DESC LIMIT ?)",
                (keep,),
            ).rowcount
