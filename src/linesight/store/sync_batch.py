"""One source's sync, staged and then committed in one transaction."""

from __future__ import annotations

import sqlite3
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import TYPE_CHECKING, Self

from linesight.model import WorkItem
from linesight.store.connection import _translated
from linesight.store.items import _ITEM, item_format
from linesight.store.sources import SyncMode
from linesight.store.timestamps import _iso, _now

if TYPE_CHECKING:
    from linesight.store.db import Store

_STAGE_CHUNK = 2048


@dataclass(frozen=True, slots=True)
class CommitResult:
    """What one sync commit changed in the store."""

    staged: int  # distinct items handed in
    changed: int  # new items plus items whose stored payload differs
    removed: int  # items deleted because they left the source's scope


class SyncBatch:
    """One source's sync, staged on a private connection and committed in one transaction.

    Items go to a temporary table as they arrive (so a million-item sync does not sit in
    memory); :meth:`commit` merges them, deletes the removed keys, replaces the query matches
    and moves the watermark together. A batch left without committing leaves the store untouched.
    Duplicates of a key are merged, keeping the most recently updated version.
    """

    def __init__(self, store: Store, source: str, conn: sqlite3.Connection) -> None:
        self.store = store
        self.source = source
        self.keys: set[str] = set()  # distinct keys staged so far
        self.received = 0  # items handed in, duplicates included
        self._conn = conn
        self._done = False
        with _translated(store.path):
            conn.execute(
                "CREATE TEMP TABLE stage "
                "(key TEXT PRIMARY KEY, updated TEXT, payload BLOB NOT NULL)"
            )
            # Staging runs in one transaction that touches only the private temp table (no lock
            # on the store): four times faster than a transaction per chunk.
            conn.execute("BEGIN")

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.discard()

    def add(self, items: Iterable[WorkItem]) -> None:
        """Stage items (any iterable, consumed in chunks)."""
        dump = _ITEM.dump_json
        chunk: list[tuple[str, str | None, bytes]] = []
        for item in items:
            if item.source != self.source:
                raise ValueError(f"item {item.ref} staged into a sync of '{self.source}'")
            updated = None if item.updated is None else _iso(item.updated)
            chunk.append((item.key, updated, dump(item, exclude_defaults=True)))
            if len(chunk) >= _STAGE_CHUNK:
                self._stage(chunk)
                chunk = []
        if chunk:
            self._stage(chunk)

    def _stage(self, rows: list[tuple[str, str | None, bytes]]) -> None:
        with _translated(self.store.path):
            self._conn.executemany(
                "INSERT INTO temp.stage (key, updated, payload) VALUES (?, ?, ?) "
                "ON CONFLICT (key) DO UPDATE SET updated = excluded.updated, "
                "payload = excluded.payload WHERE excluded.updated IS NULL "
                "OR stage.updated IS NULL OR excluded.updated >= stage.updated",
                rows,
            )
        self.received += len(rows)
        self.keys.update(key for key, _, _ in rows)

    def commit(
        self,
        *,
        removed: Collection[str],
        watermark: datetime,
        mode: SyncMode,
        query_matches: Mapping[tuple[str, str], Collection[str]] | None = None,
        settings_hash: str | None = None,
    ) -> CommitResult:
        """Make the sync visible, all of it at once.

        ``removed``: keys to delete (no longer in scope). ``watermark``: the sync's *start*.
        ``query_matches``: ``{(kr_id, query): keys}``; replaces the source's stored matches.
        ``settings_hash``: a fingerprint of the scope settings a full sync was made with.
        """
        if self._done:
            raise RuntimeError("this sync batch is already committed or discarded")
        conn = self._conn
        stamp = _iso(watermark)
        now = _iso(_now())
        matches = [
            (self.source, kr_id, query, key)
            for (kr_id, query), keys in (query_matches or {}).items()
            for key in keys
        ]
        with _translated(self.store.path):
            conn.execute("COMMIT")  # the staging transaction
            conn.execute("BEGIN IMMEDIATE")
            try:
                # an item fetched and then found gone by the end of the sync is not stored at all
                conn.executemany("DELETE FROM temp.stage WHERE key = ?", ((k,) for k in removed))
                before = conn.total_changes
                # "WHERE true" lets SQLite parse the upsert after a SELECT
                conn.execute(
                    "INSERT INTO items (source, key, payload, updated, synced_at) "
                    "SELECT ?, key, payload, updated, ? FROM temp.stage WHERE true "
                    "ON CONFLICT (source, key) DO UPDATE SET payload = excluded.payload, "
                    "updated = excluded.updated, synced_at = excluded.synced_at "
                    "WHERE items.payload IS NOT excluded.payload",
                    (self.source, stamp),
                )
                changed = conn.total_changes - before
                before = conn.total_changes
                conn.executemany(
                    "DELETE FROM items WHERE source = ? AND key = ?",
                    ((self.source, key) for key in removed),
                )
                gone = conn.total_changes - before
                conn.execute("DELETE FROM query_matches WHERE source = ?", (self.source,))
                conn.executemany(
                    "INSERT OR IGNORE INTO query_matches (source, kr_id, query, key) "
                    "VALUES (?, ?, ?, ?)",
                    matches,
                )
                conn.execute(
                    "INSERT INTO sources (source, watermark, mode, last_success) "
                    "VALUES (?, ?, ?, ?) ON CONFLICT (source) DO UPDATE SET "
                    "watermark = excluded.watermark, mode = excluded.mode, "
                    "last_success = excluded.last_success, last_error = NULL, last_error_at = NULL",
                    (self.source, stamp, mode.value, now),
                )
                if mode is SyncMode.FULL:
                    # what this full sync was made with; a later change forces another
                    conn.execute(
                        "UPDATE sources SET last_full_sync = ?, item_format = ?, settings_hash = ? "
                        "WHERE source = ?",
                        (stamp, item_format(), settings_hash, self.source),
                    )
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
        staged = len(self.keys)
        self.discard()
        return CommitResult(staged=staged, changed=changed, removed=gone)

    def discard(self) -> None:
        """Drop the staged items (the temporary table goes with the connection)."""
        if not self._done:
            self._done = True
            self._conn.close()
