"""The :class:`Store` itself: opening the file, and one source's sync as a whole."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Iterable, Mapping
from datetime import datetime
from pathlib import Path

from linesight.errors import StoreError
from linesight.model import WorkItem
from linesight.store.comments import CommentsMixin
from linesight.store.connection import _connect, _corrupt_message, _translated
from linesight.store.items import ItemsMixin
from linesight.store.journal import JournalMixin
from linesight.store.schema import _migrate, _version
from linesight.store.snapshots import SnapshotsMixin
from linesight.store.sources import SourcesMixin, SyncMode
from linesight.store.sync_batch import CommitResult, SyncBatch

DB_NAME = "linesight.db"
_SQLITE_HEADER = b"SQLite format 3\x00"


class Store(ItemsMixin, SourcesMixin, SnapshotsMixin, JournalMixin, CommentsMixin):
    """The state store of one state folder. Open it with :meth:`Store.open`; close it (or use
    ``with``) when done. Safe to share between threads: calls are serialised on one connection,
    and each sync batch and item reader uses its own.
    """

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
