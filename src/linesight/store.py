"""The state store: one SQLite file, ``<state_dir>/linesight.db``.

It holds what one run hands the next: the synced items of every source with their watermarks,
the results of the KRs' ``jql:`` / ``wiql:`` queries (link rule 5), one snapshot of the analysis
per run (for trends), and the write-back journal.

Tables (schema version :data:`SCHEMA_VERSION`)::

    meta           key, value                       schema_version
    items          source, key, payload, updated,   payload: the WorkItem as compact JSON
                   synced_at                        (defaults left out); UNIQUE(source, key)
    sources        source, watermark, mode,         watermark: start of the last good sync
                   last_full_sync, last_success,    item_format: fingerprint of the WorkItem
                   last_error, last_error_at,       model that wrote the items; settings_hash:
                   item_format, settings_hash       of the source's scope settings (a change
                                                    in either forces one full sync)
    query_matches  source, kr_id, query, key        link rule 5; replaced on each sync
    snapshots      id, created_at, cycle, summary   summary columns for trend charts; result:
                   columns..., result               the analysis result as JSON
    journal        id, run_id, source, key,         write-back write-ahead journal
                   op_kind, op_hash, state,
                   detail, created_at, finished_at
    comments       source, key, comment_id,         the managed comment linesight made on an
                   content_hash                     item: found without listing comments

Crash safety: WAL mode with ``synchronous=FULL``. Every logical write is one transaction, so a
run killed at any point leaves the previous consistent state: a source's items, removals, query
matches and new watermark commit together or not at all (:meth:`Store.begin_sync`). ``FULL``
rather than ``NORMAL``: both keep the file consistent when the process dies, but ``NORMAL`` may
lose the last commits when the *machine* loses power. linesight commits a handful of times per
run (one per source, one per snapshot, two per write-back operation), so the extra fsync per
commit costs nothing measurable, and a finished snapshot or a journalled write survives a
power cut.

Every SQLite failure surfaces as :class:`~linesight.errors.StoreError` naming the file and the
fix, never as a traceback.
"""

from __future__ import annotations

import gc
import hashlib
import json
import logging
import sqlite3
import threading
import uuid
from collections.abc import Collection, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from functools import cache
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from pydantic import BaseModel, TypeAdapter, ValidationError

from linesight.errors import StoreError
from linesight.model import ItemRef, Operation, WorkItem

__all__ = [
    "DB_NAME",
    "SCHEMA_VERSION",
    "CommitResult",
    "JournalEntry",
    "JournalState",
    "ManagedComment",
    "Snapshot",
    "SnapshotSummary",
    "SourceState",
    "Store",
    "SyncBatch",
    "SyncMode",
    "item_format",
    "operation_hash",
]

log = logging.getLogger("linesight.store")

DB_NAME = "linesight.db"
BUSY_TIMEOUT_S = 60.0  # a writer waits this long for another's commit (a 1M-item merge: seconds)
_READ_CHUNK = 4096
_STAGE_CHUNK = 2048
_SQLITE_HEADER = b"SQLite format 3\x00"

# Forward migrations: step i (0-based) takes the schema from version i to i + 1. Never edit a
# released step; append a new one.
_MIGRATIONS: tuple[str, ...] = (
    # 1: items, watermarks, snapshots
    """
    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE items (
        source    TEXT NOT NULL,
        key       TEXT NOT NULL,
        payload   BLOB NOT NULL,
        updated   TEXT,
        synced_at TEXT NOT NULL,
        UNIQUE (source, key)
    );
    CREATE TABLE sources (
        source         TEXT PRIMARY KEY,
        watermark      TEXT,
        mode           TEXT,
        last_full_sync TEXT,
        last_success   TEXT,
        last_error     TEXT,
        last_error_at  TEXT
    );
    CREATE TABLE snapshots (
        id                   INTEGER PRIMARY KEY AUTOINCREMENT,
        created_at           TEXT NOT NULL,
        cycle                TEXT,
        work_items           INTEGER,
        in_scope             INTEGER,
        in_progress          INTEGER,
        aligned_wip          REAL,
        orphan_count         INTEGER,
        orphan_share         REAL,
        unsupported_kr_count INTEGER,
        result               TEXT NOT NULL
    );
    """,
    # 2: write-back journal and the managed-comment cache
    """
    CREATE TABLE journal (
        id          INTEGER PRIMARY KEY AUTOINCREMENT,
        run_id      TEXT NOT NULL,
        source      TEXT NOT NULL,
        key         TEXT NOT NULL,
        op_kind     TEXT NOT NULL,
        op_hash     TEXT NOT NULL,
        state       TEXT NOT NULL CHECK (state IN ('pending', 'done', 'failed')),
        detail      TEXT NOT NULL DEFAULT '',
        created_at  TEXT NOT NULL,
        finished_at TEXT
    );
    CREATE INDEX journal_item ON journal (source, key, op_kind, state);
    CREATE INDEX journal_state ON journal (state);
    CREATE TABLE comments (
        source       TEXT NOT NULL,
        key          TEXT NOT NULL,
        comment_id   TEXT NOT NULL,
        content_hash TEXT NOT NULL,
        PRIMARY KEY (source, key)
    );
    """,
    # 3: link rule 5 query results; the item-format fingerprint per source
    """
    CREATE TABLE query_matches (
        source TEXT NOT NULL,
        kr_id  TEXT NOT NULL,
        query  TEXT NOT NULL,
        key    TEXT NOT NULL,
        PRIMARY KEY (source, kr_id, query, key)
    );
    ALTER TABLE sources ADD COLUMN item_format TEXT;
    ALTER TABLE sources ADD COLUMN settings_hash TEXT;
    """,
)
SCHEMA_VERSION = len(_MIGRATIONS)

_ITEM = TypeAdapter(WorkItem)
_ITEMS = TypeAdapter(list[WorkItem])


def _now() -> datetime:
    return datetime.now(UTC)


def _iso(moment: datetime) -> str:
    """Fixed-width UTC ISO 8601, so stored timestamps also sort as text."""
    if moment.tzinfo is None:
        raise ValueError(f"naive datetime {moment!r}: pass a timezone-aware UTC time")
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def _parse(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


@cache
def item_format() -> str:
    """A fingerprint of the :class:`WorkItem` model that wrote the stored payloads.

    When linesight's model changes (a new field, say), items stored by the old one lack the new
    data; sync notices the changed fingerprint and re-fetches that source in full once.
    """
    schema = json.dumps(WorkItem.model_json_schema(), sort_keys=True)
    return hashlib.sha256(schema.encode()).hexdigest()[:16]


def operation_hash(op: Operation) -> str:
    """What an operation would change, as a stable hash (its ``reason`` left out)."""
    canonical = op.model_dump_json(exclude={"reason"})
    return hashlib.sha256(canonical.encode()).hexdigest()


class SyncMode(StrEnum):
    """How a source was synced: every in-scope item, or only what changed since the watermark."""

    FULL = "full"
    INCREMENTAL = "incremental"


class JournalState(StrEnum):
    PENDING = "pending"  # written before the tracker call; left over only by a crash
    DONE = "done"
    FAILED = "failed"


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


@dataclass(frozen=True, slots=True)
class CommitResult:
    """What one sync commit changed in the store."""

    staged: int  # distinct items handed in
    changed: int  # new items plus items whose stored payload differs
    removed: int  # items deleted because they left the source's scope


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


@dataclass(frozen=True, slots=True)
class ManagedComment:
    """The managed comment linesight last wrote on an item: its id and a hash of its content."""

    comment_id: str
    content_hash: str


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


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic GC while building a chunk of models.

    Building many small objects while many are alive triggers full collections that walk every
    live object: with 100k items in memory that tripled the read time. Only our own chunk-building
    runs paused; the caller's code never does.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


class Store:
    """The state store of one state folder. Open it with :meth:`Store.open`; close it (or use
    ``with``) when done. Safe to share between threads: calls are serialised on one connection,
    and each sync batch and item reader uses its own.
    """

    def __init__(self, path: Path, conn: sqlite3.Connection, run_id: str) -> None:
        self.path = path
        self.run_id = run_id
        self._conn = conn
        self._lock = threading.RLock()

    # ------------------------------------------------------------------ opening

    @classmethod
    def open(cls, state_dir: Path, *, run_id: str | None = None) -> Store:
        """Open (creating and migrating as needed) ``<state_dir>/linesight.db``.

        ``run_id`` tags this run's journal entries (default: a fresh random id).
        Raises :class:`StoreError` for an unreadable, foreign or newer-version file.
        """
        path = state_dir / DB_NAME
        try:
            state_dir.mkdir(parents=True, exist_ok=True)
            if path.is_file() and path.stat().st_size > 0:
                with path.open("rb") as handle:
                    header = handle.read(len(_SQLITE_HEADER))
                if header != _SQLITE_HEADER:
                    raise StoreError(_corrupt_message(path, "not a SQLite database"))
        except OSError as exc:
            raise StoreError(f"{path}: cannot open the state store: {exc.strerror}") from None
        with _translated(path):
            conn = _connect(path)
            try:
                _migrate(conn, path)
            except BaseException:
                conn.close()
                raise
        return cls(path, conn, run_id or uuid.uuid4().hex)

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    @contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        with self._lock, _translated(self.path):
            yield self._conn

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._db() as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    def schema_version(self) -> int:
        with self._db() as conn:
            return _version(conn)

    def verify(self) -> list[str]:
        """SQLite's own consistency check: an empty list when the file is sound."""
        with self._db() as conn:
            problems = [row[0] for row in conn.execute("PRAGMA quick_check")]
        return [] if problems == ["ok"] else problems

    # ------------------------------------------------------------------ items

    def begin_sync(self, source: str) -> SyncBatch:
        """Start staging one sync of ``source``; nothing is visible until :meth:`SyncBatch.commit`.

        Use it as a context manager: leaving the block without committing discards the batch.
        """
        with _translated(self.path):
            return SyncBatch(self, source, _connect(self.path))

    def apply_sync(
        self,
        source: str,
        changed: Iterable[WorkItem],
        removed: Collection[str],
        watermark: datetime,
        query_matches: Mapping[tuple[str, str], Collection[str]] | None = None,
        *,
        mode: SyncMode = SyncMode.INCREMENTAL,
        settings_hash: str | None = None,
    ) -> CommitResult:
        """Write one source's sync in one transaction: items, removals, matches, watermark."""
        with self.begin_sync(source) as batch:
            batch.add(changed)
            return batch.commit(
                removed=removed,
                watermark=watermark,
                query_matches=query_matches,
                mode=mode,
                settings_hash=settings_hash,
            )

    def iter_items(self, sources: Collection[str] | None = None) -> Iterator[WorkItem]:
        """Every stored item (of ``sources`` only, if given), in storage order.

        Reads one consistent snapshot on its own connection, so writes made meanwhile (by this
        or another process) do not show up half-way.
        """
        sql = "SELECT payload FROM items"
        params: tuple[str, ...] = ()
        if sources is not None:
            params = tuple(sources)
            sql += f" WHERE source IN ({', '.join('?' * len(params))})"
        validate = _ITEMS.validate_json
        with _translated(self.path):
            conn = _connect(self.path)
        try:
            with _translated(self.path):
                conn.execute("BEGIN")  # one read snapshot for the whole iteration
                cursor = conn.execute(sql, params)
            while True:
                try:
                    with _translated(self.path), _gc_paused():
                        rows = cursor.fetchmany(_READ_CHUNK)
                        chunk = validate(b"[" + b",".join(payload for (payload,) in rows) + b"]")
                except ValidationError as exc:
                    raise StoreError(
                        f"{self.path}: a stored item does not fit this linesight's model "
                        f"({exc.error_count()} problem(s)); run 'linesight sync --full' to "
                        "rebuild the items"
                    ) from None
                if not chunk:
                    return
                yield from chunk
        finally:
            conn.close()

    def count_items(self, source: str | None = None) -> int:
        with self._db() as conn:
            if source is None:
                row = conn.execute("SELECT count(*) FROM items").fetchone()
            else:
                row = conn.execute(
                    "SELECT count(*) FROM items WHERE source = ?", (source,)
                ).fetchone()
        return int(row[0])

    def item_keys(self, source: str) -> set[str]:
        with self._db() as conn:
            rows = conn.execute("SELECT key FROM items WHERE source = ?", (source,))
            return {key for (key,) in rows}

    def get_item(self, source: str, key: str) -> WorkItem | None:
        with self._db() as conn:
            row = conn.execute(
                "SELECT payload FROM items WHERE source = ? AND key = ?", (source, key)
            ).fetchone()
        return None if row is None else _ITEM.validate_json(row[0])

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

    # ------------------------------------------------------------------ managed comments

    def managed_comment(self, source: str, key: str) -> ManagedComment | None:
        """The managed comment linesight last wrote on the item, if it remembers one.

        A cache, not the truth: the tracker's comment carrying the marker is. When this is
        missing (a new state folder), the connector finds the comment by its marker.
        """
        with self._db() as conn:
            row = conn.execute(
                "SELECT comment_id, content_hash FROM comments WHERE source = ? AND key = ?",
                (source, key),
            ).fetchone()
        return None if row is None else ManagedComment(row[0], row[1])

    def remember_comment(self, source: str, key: str, comment_id: str, content_hash: str) -> None:
        with self._transaction() as conn:
            conn.execute(
                "INSERT INTO comments (source, key, comment_id, content_hash) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (source, key) DO UPDATE SET "
                "comment_id = excluded.comment_id, content_hash = excluded.content_hash",
                (source, key, comment_id, content_hash),
            )

    def forget_comment(self, source: str, key: str) -> None:
        with self._transaction() as conn:
            conn.execute("DELETE FROM comments WHERE source = ? AND key = ?", (source, key))

    def managed_comments(self) -> dict[ItemRef, str]:
        """Every item linesight remembers a managed comment on, with its content hash."""
        with self._db() as conn:
            rows = conn.execute("SELECT source, key, content_hash FROM comments").fetchall()
        return {ItemRef(source=source, key=key): digest for source, key, digest in rows}

    # ------------------------------------------------------------------ write-back results

    def existing(self, refs: Iterable[ItemRef]) -> set[ItemRef]:
        """The refs among ``refs`` whose item is in the store."""
        wanted = list(refs)
        found: set[ItemRef] = set()
        with self._db() as conn:
            for start in range(0, len(wanted), 500):
                chunk = wanted[start : start + 500]
                clause = " OR ".join("(source = ? AND key = ?)" for _ in chunk)
                params = [value for ref in chunk for value in (ref.source, ref.key)]
                rows = conn.execute(f"SELECT source, key FROM items WHERE {clause}", params)  # noqa: S608 - placeholders only
                found.update(ItemRef(source=source, key=key) for source, key in rows)
        return found

    def update_labels(
        self,
        source: str,
        key: str,
        *,
        add: Iterable[str] = (),
        remove: Iterable[str] = (),
        exact: Iterable[str] | None = None,
    ) -> None:
        """Record an item's labels/tags after a write-back, so the next plan sees them.

        ``exact`` (what the tracker answered) wins; otherwise ``add``/``remove`` are applied to
        the stored labels (``remove`` compares case-insensitively, like Azure DevOps tags).
        The item's ``updated`` is left alone: the next incremental sync re-reads it anyway.
        """
        with self._transaction() as conn:
            row = conn.execute(
                "SELECT payload FROM items WHERE source = ? AND key = ?", (source, key)
            ).fetchone()
            if row is None:
                return
            item = _ITEM.validate_json(row[0])
            if exact is not None:
                labels = tuple(exact)
            else:
                gone = {label.casefold() for label in remove}
                labels = tuple(x for x in item.labels if x.casefold() not in gone)
                labels += tuple(x for x in add if x not in labels)
            if labels == item.labels:
                return
            updated = item.model_copy(update={"labels": labels})
            conn.execute(
                "UPDATE items SET payload = ? WHERE source = ? AND key = ?",
                (_ITEM.dump_json(updated, exclude_defaults=True), source, key),
            )


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


# ---------------------------------------------------------------------------------------------
# connections, migrations, error translation

_SOURCE_SELECT = (
    "SELECT source, watermark, mode, last_full_sync, last_success, last_error, last_error_at, "
    "item_format, settings_hash FROM sources"
)
_JOURNAL_SELECT = (
    "SELECT id, run_id, source, key, op_kind, op_hash, state, detail, created_at, finished_at "
    "FROM journal"
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


def _version(conn: sqlite3.Connection) -> int:
    exists = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'"
    ).fetchone()
    if exists is None:
        return 0
    row = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    return 0 if row is None else int(row[0])


def _migrate(conn: sqlite3.Connection, path: Path) -> None:
    conn.execute("BEGIN IMMEDIATE")
    try:
        version = _version(conn)
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"{path}: the state store has schema version {version}, newer than this "
                f"linesight understands ({SCHEMA_VERSION}); upgrade linesight "
                "(pip install -U linesight) or use another state_dir"
            )
        if version == 0:
            tables = [row[0] for row in conn.execute("SELECT name FROM sqlite_master")]
            if tables:
                raise StoreError(
                    f"{path}: a SQLite database but not a linesight state store "
                    f"(it has {', '.join(sorted(tables)[:5])}); point state_dir at another folder"
                )
        for step in range(version, SCHEMA_VERSION):
            for statement in _statements(_MIGRATIONS[step]):
                conn.execute(statement)
            conn.execute(
                "INSERT INTO meta (key, value) VALUES ('schema_version', ?) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (str(step + 1),),
            )
            log.info("%s: state store migrated to schema version %d", path, step + 1)
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def _statements(script: str) -> list[str]:
    # executescript() would COMMIT the surrounding transaction; run the statements one by one
    # instead (so a migration step must not put ';' inside a string literal)
    return [part.strip() for part in script.split(";") if part.strip()]


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
