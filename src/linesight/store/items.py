"""The synced work items: reading them back, and recording write-back results on them."""

from __future__ import annotations

import gc
import hashlib
import json
from collections.abc import Collection, Iterable, Iterator
from contextlib import contextmanager
from functools import cache

from pydantic import TypeAdapter, ValidationError

from linesight.errors import StoreError
from linesight.model import ItemRef, WorkItem
from linesight.store.base import StoreBase
from linesight.store.connection import _connect, _translated

_READ_CHUNK = 4096

_ITEM = TypeAdapter(WorkItem)
_ITEMS = TypeAdapter(list[WorkItem])


@cache
def item_format() -> str:
    """A fingerprint of the :class:`WorkItem` model that wrote the stored payloads.

    When linesight's model changes (a new field, say), items stored by the old one lack the new
    data; sync notices the changed fingerprint and re-fetches that source in full once.
    """
    schema = json.dumps(WorkItem.model_json_schema(), sort_keys=True)
    return hashlib.sha256(schema.encode()).hexdigest()[:16]


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


class ItemsMixin(StoreBase):
    """The items part of :class:`~linesight.store.Store` (a sync batch writes them)."""

    # ------------------------------------------------------------------ items

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
