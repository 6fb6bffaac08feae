"""The managed-comment cache: which comment linesight made on an item, and its content hash."""

from __future__ import annotations

from dataclasses import dataclass

from linesight.model import ItemRef
from linesight.store.base import StoreBase


@dataclass(frozen=True, slots=True)
class ManagedComment:
    """The managed comment linesight last wrote on an item: its id and a hash of its content."""

    comment_id: str
    content_hash: str


class CommentsMixin(StoreBase):
    """The managed-comment part of :class:`~linesight.store.Store`."""

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
