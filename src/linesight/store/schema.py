"""The store's schema: its forward migrations and the check of a file's version."""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path

from linesight.errors import StoreError

log = logging.getLogger("linesight.store")

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
