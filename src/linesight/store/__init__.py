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

The code, one noun per module: :mod:`.db` (:class:`Store`: opening, a sync as a whole),
:mod:`.base` (the shared connection, its lock, transactions), :mod:`.items`, :mod:`.sync_batch`,
:mod:`.sources` (sync state, query matches), :mod:`.snapshots`, :mod:`.journal`, :mod:`.comments`,
:mod:`.schema` (migrations), :mod:`.connection` (connecting, error translation) and
:mod:`.timestamps`.
"""

from linesight.store.comments import ManagedComment
from linesight.store.db import DB_NAME, Store
from linesight.store.items import item_format
from linesight.store.journal import JournalEntry, JournalState, operation_hash
from linesight.store.schema import _MIGRATIONS as _MIGRATIONS
from linesight.store.schema import SCHEMA_VERSION
from linesight.store.snapshots import Snapshot, SnapshotSummary
from linesight.store.sources import SourceState, SyncMode
from linesight.store.sync_batch import CommitResult, SyncBatch

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
