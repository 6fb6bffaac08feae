"""What the store remembers per source: its sync state and its link rule 5 query matches."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from linesight.model import ItemRef
from linesight.store.base import StoreBase
from linesight.store.timestamps import _iso, _now, _parse


class SyncMode(StrEnum):
    """How a source was synced: every in-scope item, or only what changed since the watermark."""

    FULL = "full"
    INCREMENTAL = "incremental"


@dataclass(frozen=True, slots=True)
class SourceState:
    """What the store remembers about one source's syncs."""

    source: str
    watermark: datetime | None  # start of the last successful sync
    mode: SyncMode | None  # mode of the last successful sync
    last_full_sync: datetime | None
    last_success: datetime | None
    last_error: str | None  # the last failure's message (cleared by a success)
    last_error_at: datetime | None
    item_format: str | None
    settings_hash: str | None  # fingerprint of the scope settings of the last full sync


_SOURCE_SELECT = (
    "SELECT source, watermark, mode, last_full_sync, last_success, last_error, last_error_at, "
    "item_format, settings_hash FROM sources"
)


def _source_state(row: tuple[Any, ...]) -> SourceState:
    return SourceState(
        source=row[0],
        watermark=_parse(row[1]),
        mode=None if row[2] is None else SyncMode(row[2]),
        last_full_sync=_parse(row[3]),
        last_success=_parse(row[4]),
        last_error=row[5],
        last_error_at=_parse(row[6]),
        item_format=row[7],
        settings_hash=row[8],
    )


class SourcesMixin(StoreBase):
    """The sources part of :class:`~linesight.store.Store`."""

    # ------------------------------------------------------------------ sources

    def source_state(self, source: str) -> SourceState | None:
        with self._db() as conn:
            row = conn.execute(_SOURCE_SELECT + " WHERE source = ?", (source,)).fetchone()
        return None if row is None else _source_state(row)

    def source_states(self) -> list[SourceState]:
        """Every source the store knows, including ones no longer configured."""
        with self._db() as conn:
            rows = conn.execute(_SOURCE_SELECT + " ORDER BY source").fetchall()
        return [_source_state(row) for row in rows]

    def record_failure(self, source: str, message: str, at: datetime | None = None) -> None:
        """Remember that a sync of ``source`` failed; its items and watermark stay as they were."""
        with self._transaction() as conn:
            conn.execute(
                "INSERT INTO sources (source, last_error, last_error_at) VALUES (?, ?, ?) "
                "ON CONFLICT (source) DO UPDATE SET "
                "last_error = excluded.last_error, last_error_at = excluded.last_error_at",
                (source, message, _iso(at or _now())),
            )

    def forget_source(self, source: str) -> int:
        """Delete everything synced from ``source`` (a source removed from the settings)."""
        with self._transaction() as conn:
            removed = conn.execute("DELETE FROM items WHERE source = ?", (source,)).rowcount
            conn.execute("DELETE FROM query_matches WHERE source = ?", (source,))
            conn.execute("DELETE FROM sources WHERE source = ?", (source,))
        return removed

    # ------------------------------------------------------------------ query matches

    def query_matches(
        self, sources: Collection[str] | None = None
    ) -> dict[str, dict[str, set[ItemRef]]]:
        """Link rule 5 results: ``{kr_id: {query: {ItemRef, ...}}}`` from the last syncs."""
        found: dict[str, dict[str, set[ItemRef]]] = {}
        with self._db() as conn:
            rows = conn.execute("SELECT source, kr_id, query, key FROM query_matches").fetchall()
        for source, kr_id, query, key in rows:
            if sources is None or source in sources:
                refs = found.setdefault(kr_id, {}).setdefault(query, set())
                refs.add(ItemRef(source=source, key=key))
        return found

    def source_query_matches(self, source: str) -> dict[tuple[str, str], set[str]]:
        """One source's stored matches as ``{(kr_id, query): {key, ...}}``."""
        found: dict[tuple[str, str], set[str]] = {}
        with self._db() as conn:
            rows = conn.execute(
                "SELECT kr_id, query, key FROM query_matches WHERE source = ?", (source,)
            ).fetchall()
        for kr_id, query, key in rows:
            found.setdefault((kr_id, query), set()).add(key)
        return found
