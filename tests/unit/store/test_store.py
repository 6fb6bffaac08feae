"""The state store: atomic sync commits, reads, snapshots, journal, migrations, bad files."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pydantic import BaseModel

from linesight.errors import StoreError
from linesight.model import (
    CommentDoc,
    ItemRef,
    Link,
    Operation,
    OperationKind,
    StatusCategory,
    TextSpan,
    WorkItem,
)
from linesight.store import (
    _MIGRATIONS,
    DB_NAME,
    SCHEMA_VERSION,
    JournalState,
    Store,
    SyncMode,
    item_format,
    operation_hash,
)

T0 = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)


def item(key: str, *, source: str = "pay", title: str = "", updated: datetime = T0) -> WorkItem:
    return WorkItem(
        source=source,
        key=key,
        type="Story",
        title=title or f"Work on {key}",
        status="In Progress",
        status_category=StatusCategory.IN_PROGRESS,
        project="PAY",
        team="Payments",
        parent="PAY-1",
        labels=("kr-KR1.1", "checkout"),
        links=(Link(kind="relates to", target="PAY-2"),),
        kr_refs=("KR1.2",),
        created=T0 - timedelta(days=30),
        updated=updated,
        started=T0 - timedelta(days=3),
        url=f"https://example.atlassian.net/browse/{key}",
        rev=7,
    )


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store.open(tmp_path / "state") as opened:
        yield opened


def stored(store: Store, source: str | None = None) -> dict[str, WorkItem]:
    return {i.key: i for i in store.iter_items(None if source is None else [source])}


# ---------------------------------------------------------------------------------------------
# items


def test_items_round_trip_exactly(store: Store) -> None:
    items = [item(f"PAY-{n}") for n in range(1, 6)]
    items.append(
        WorkItem(
            source="pay",
            key="PAY-9",
            type="Bug",
            title='ü ✓ "quoted"',
            status="Open",
            status_category=StatusCategory.TODO,
        )
    )
    result = store.apply_sync("pay", items, set(), T0, mode=SyncMode.FULL)

    assert (result.staged, result.changed, result.removed) == (6, 6, 0)
    assert stored(store) == {i.key: i for i in items}
    assert store.count_items() == 6
    assert store.count_items("pay") == 6
    assert store.item_keys("pay") == {i.key for i in items}
    assert store.get_item("pay", "PAY-9") == items[-1]
    assert store.get_item("pay", "PAY-404") is None


def test_sync_records_watermark_mode_and_clears_error(store: Store) -> None:
    store.record_failure("pay", "401 Unauthorized", T0 - timedelta(hours=1))
    failed = store.source_state("pay")
    assert failed is not None and failed.last_error == "401 Unauthorized"
    assert failed.watermark is None

    store.apply_sync("pay", [item("PAY-1")], set(), T0, mode=SyncMode.FULL, settings_hash="abc")
    state = store.source_state("pay")
    assert state is not None
    assert state.watermark == T0
    assert state.mode is SyncMode.FULL
    assert state.last_full_sync == T0
    assert state.last_error is None and state.last_error_at is None
    assert state.item_format == item_format()
    assert state.settings_hash == "abc"
    assert state.last_success is not None

    later = T0 + timedelta(days=1)
    store.apply_sync("pay", [], set(), later, mode=SyncMode.INCREMENTAL)
    state = store.source_state("pay")
    assert state is not None
    assert (state.watermark, state.mode, state.last_full_sync) == (
        later,
        SyncMode.INCREMENTAL,
        T0,
    )
    assert state.settings_hash == "abc"  # only a full sync records what it was made with
    assert [s.source for s in store.source_states()] == ["pay"]


def test_unchanged_items_are_not_counted_as_changed(store: Store) -> None:
    store.apply_sync("pay", [item("PAY-1"), item("PAY-2")], set(), T0, mode=SyncMode.FULL)
    again = store.apply_sync(
        "pay", [item("PAY-1"), item("PAY-2", title="renamed")], {"PAY-404"}, T0
    )
    assert (again.staged, again.changed, again.removed) == (2, 1, 0)
    assert stored(store)["PAY-2"].title == "renamed"


def test_removed_keys_are_deleted_with_their_source_only(store: Store) -> None:
    store.apply_sync("pay", [item("PAY-1"), item("PAY-2")], set(), T0)
    store.apply_sync("ado", [item("PAY-1", source="ado")], set(), T0)
    result = store.apply_sync("pay", [], {"PAY-1"}, T0)
    assert result.removed == 1
    assert set(stored(store, "pay")) == {"PAY-2"}
    assert set(stored(store, "ado")) == {"PAY-1"}
    assert store.count_items() == 2


def test_duplicates_keep_the_most_recently_updated(store: Store) -> None:
    newer = item("PAY-1", title="newer", updated=T0 + timedelta(minutes=5))
    older = item("PAY-1", title="older", updated=T0)
    with store.begin_sync("pay") as batch:
        batch.add([newer, older, item("PAY-2")])
        assert batch.received == 3
        assert batch.keys == {"PAY-1", "PAY-2"}
        result = batch.commit(removed=(), watermark=T0, mode=SyncMode.FULL)
    assert result.staged == 2
    assert stored(store)["PAY-1"].title == "newer"


def test_a_batch_left_uncommitted_changes_nothing(store: Store) -> None:
    store.apply_sync("pay", [item("PAY-1")], set(), T0, mode=SyncMode.FULL)

    class InjectedError(Exception):
        pass

    def half_then_fail() -> Iterator[WorkItem]:
        yield item("PAY-1", title="half-written")
        yield item("PAY-2")
        raise InjectedError

    with pytest.raises(InjectedError), store.begin_sync("pay") as batch:
        batch.add(half_then_fail())
    assert stored(store) == {"PAY-1": item("PAY-1")}
    state = store.source_state("pay")
    assert state is not None and state.watermark == T0


def test_a_batch_commits_once(store: Store) -> None:
    with store.begin_sync("pay") as batch:
        batch.add([item("PAY-1")])
        batch.commit(removed=(), watermark=T0, mode=SyncMode.FULL)
        with pytest.raises(RuntimeError, match="already committed"):
            batch.commit(removed=(), watermark=T0, mode=SyncMode.FULL)


def test_items_of_another_source_are_refused(store: Store) -> None:
    with pytest.raises(ValueError, match="ado:PAY-1"):
        store.apply_sync("pay", [item("PAY-1", source="ado")], set(), T0)


def test_naive_watermark_is_refused(store: Store) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        store.apply_sync("pay", [], set(), datetime(2026, 11, 20))


def test_iteration_reads_one_consistent_snapshot(store: Store) -> None:
    # more than one read chunk, so the second chunk is read after the concurrent commit
    keys = {f"PAY-{n}" for n in range(6000)}
    store.apply_sync("pay", (item(k) for k in keys), set(), T0, mode=SyncMode.FULL)

    reader = store.iter_items()
    first = next(reader)
    store.apply_sync("pay", [], keys, T0 + timedelta(hours=1))  # deletes everything
    rest = list(reader)

    assert {first.key, *(i.key for i in rest)} == keys
    assert store.count_items() == 0


def test_query_matches_are_replaced_per_sync(store: Store) -> None:
    store.apply_sync(
        "pay",
        [item("PAY-1"), item("PAY-2")],
        set(),
        T0,
        query_matches={("KR1.1", "labels = a"): {"PAY-1", "PAY-2"}, ("KR1.2", "x"): {"PAY-2"}},
    )
    store.apply_sync("ado", [], set(), T0, query_matches={("KR1.1", "[a] = 1"): {"7"}})
    matches = store.query_matches()
    assert matches["KR1.1"]["labels = a"] == {
        ItemRef(source="pay", key="PAY-1"),
        ItemRef(source="pay", key="PAY-2"),
    }
    assert matches["KR1.1"]["[a] = 1"] == {ItemRef(source="ado", key="7")}

    store.apply_sync("pay", [], set(), T0, query_matches={("KR1.1", "labels = a"): {"PAY-2"}})
    assert store.source_query_matches("pay") == {("KR1.1", "labels = a"): {"PAY-2"}}
    assert set(store.query_matches()) == {"KR1.1"}
    assert set(store.query_matches(sources=["ado"])["KR1.1"]) == {"[a] = 1"}


def test_forget_source(store: Store) -> None:
    store.apply_sync(
        "old", [item("X-1", source="old")], set(), T0, query_matches={("K", "q"): {"X-1"}}
    )
    store.apply_sync("pay", [item("PAY-1")], set(), T0)
    assert store.forget_source("old") == 1
    assert store.source_state("old") is None
    assert store.source_query_matches("old") == {}
    assert set(stored(store)) == {"PAY-1"}


def test_two_threads_commit_their_sources(store: Store) -> None:
    import threading

    errors: list[BaseException] = []

    def sync(source: str) -> None:
        try:
            items = [item(f"{source}-{n}", source=source) for n in range(3000)]
            store.apply_sync(source, items, set(), T0, mode=SyncMode.FULL)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=sync, args=(name,)) for name in ("a", "b", "c")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert {s: store.count_items(s) for s in "abc"} == {"a": 3000, "b": 3000, "c": 3000}


def test_store_is_reopened_with_its_data(tmp_path: Path) -> None:
    with Store.open(tmp_path) as first:
        first.apply_sync("pay", [item("PAY-1")], set(), T0, mode=SyncMode.FULL)
    with Store.open(tmp_path) as second:
        assert stored(second) == {"PAY-1": item("PAY-1")}
        assert second.schema_version() == SCHEMA_VERSION
        assert second.verify() == []


# ---------------------------------------------------------------------------------------------
# snapshots


class Summary(BaseModel):
    work_items: int
    in_scope: int
    in_progress: int
    aligned_wip: float
    orphan_count: int
    orphan_share: float | None
    unsupported_kr_count: int


class Result(BaseModel):
    generated_at: datetime
    cycle: str
    summary: Summary
    orphans: list[str]


def result(day: int, orphans: int) -> Result:
    return Result(
        generated_at=T0 + timedelta(days=day),
        cycle="2026-Q4",
        summary=Summary(
            work_items=100,
            in_scope=90,
            in_progress=40,
            aligned_wip=30.5,
            orphan_count=orphans,
            orphan_share=orphans / 60,
            unsupported_kr_count=2,
        ),
        orphans=[f"PAY-{n}" for n in range(orphans)],
    )


def test_snapshots_latest_previous_and_trend(store: Store) -> None:
    assert store.latest_snapshot() is None
    assert store.previous_snapshot() is None
    assert store.snapshots() == []

    ids = [store.save_snapshot(result(day, orphans)) for day, orphans in enumerate([9, 7, 4])]
    assert ids == sorted(ids)

    latest = store.latest_snapshot()
    assert latest is not None
    assert latest.summary.id == ids[2]
    assert Result.model_validate(latest.result) == result(2, 4)
    previous = store.previous_snapshot()
    assert previous is not None and previous.summary.orphan_count == 7

    trend = store.snapshots(limit=2)
    assert [s.orphan_count for s in trend] == [7, 4]  # oldest first
    assert trend[1].created_at == T0 + timedelta(days=2)
    assert trend[1].cycle == "2026-Q4"
    assert trend[1].orphan_share == pytest.approx(4 / 60)
    assert (trend[1].work_items, trend[1].in_scope, trend[1].in_progress) == (100, 90, 40)
    assert (trend[1].aligned_wip, trend[1].unsupported_kr_count) == (30.5, 2)

    assert store.prune_snapshots(keep=1) == 2
    assert [s.id for s in store.snapshots()] == [ids[2]]
    assert store.previous_snapshot() is None


def test_snapshot_from_plain_json_data(store: Store) -> None:
    data = {
        "generated_at": "2026-11-21T02:00:00+00:00",
        "cycle": "2026-Q4",
        "summary": {"orphan_count": 3, "orphan_share": None},
    }
    store.save_snapshot(data)
    latest = store.latest_snapshot()
    assert latest is not None
    assert latest.result == data
    assert latest.summary.orphan_count == 3
    assert latest.summary.orphan_share is None
    assert latest.summary.created_at == datetime(2026, 11, 21, 2, tzinfo=UTC)


# ---------------------------------------------------------------------------------------------
# write-back journal and managed comments


def op(labels: tuple[str, ...] = ("linesight-orphan",), reason: str = "") -> Operation:
    return Operation(
        source="pay", key="PAY-1", kind=OperationKind.LABELS, add_labels=labels, reason=reason
    )


def test_operation_hash_ignores_the_reason_only() -> None:
    assert operation_hash(op(reason="a")) == operation_hash(op(reason="b"))
    assert operation_hash(op()) != operation_hash(op(labels=("other",)))
    comment = Operation(
        source="pay",
        key="PAY-1",
        kind=OperationKind.UPSERT_COMMENT,
        comment=CommentDoc(paragraphs=((TextSpan(text="x"),),)),
    )
    assert operation_hash(comment) != operation_hash(comment.model_copy(update={"key": "PAY-2"}))


def test_journal_lifecycle(tmp_path: Path) -> None:
    with Store.open(tmp_path, run_id="run-1") as store:
        assert store.journal_last_done("pay", "PAY-1", "labels") is None
        first = store.journal_begin(op())
        second = store.journal_begin(op(labels=("x",)))
        assert [e.id for e in store.journal_pending()] == [first, second]

        store.journal_finish(first, JournalState.DONE, "applied")
        store.journal_finish(second, JournalState.FAILED, "403")
        assert store.journal_pending() == []
        assert store.journal_last_done("pay", "PAY-1", OperationKind.LABELS) == operation_hash(op())
        entries = store.journal_entries()
        assert [(e.state, e.detail, e.run_id) for e in entries] == [
            (JournalState.DONE, "applied", "run-1"),
            (JournalState.FAILED, "403", "run-1"),
        ]
        assert all(e.finished_at is not None for e in entries)

        crashed = store.journal_begin(op(labels=("y",)))
        with pytest.raises(ValueError, match="final state"):
            store.journal_finish(crashed, JournalState.PENDING)
        with pytest.raises(ValueError, match="no journal entry"):
            store.journal_finish(9999, JournalState.DONE)

    # a later run (a new process) sees what the crashed one left pending
    with Store.open(tmp_path) as later:
        assert later.run_id != "run-1"
        pending = later.journal_pending()
        assert [(p.id, p.run_id, p.op_hash) for p in pending] == [
            (crashed, "run-1", operation_hash(op(labels=("y",))))
        ]


def test_managed_comment_cache(store: Store) -> None:
    assert store.managed_comment("pay", "PAY-1") is None
    store.remember_comment("pay", "PAY-1", "10001", "h1")
    store.remember_comment("pay", "PAY-1", "10002", "h2")
    cached = store.managed_comment("pay", "PAY-1")
    assert cached is not None and (cached.comment_id, cached.content_hash) == ("10002", "h2")
    store.forget_comment("pay", "PAY-1")
    assert store.managed_comment("pay", "PAY-1") is None


# ---------------------------------------------------------------------------------------------
# schema versions and bad files


def test_migrates_a_version_1_store(tmp_path: Path) -> None:
    path = tmp_path / DB_NAME
    payload = item("PAY-1").model_dump_json(exclude_defaults=True)
    conn = sqlite3.connect(path)
    conn.executescript(_MIGRATIONS[0])
    conn.execute("INSERT INTO meta VALUES ('schema_version', '1')")
    conn.execute(
        "INSERT INTO items VALUES ('pay', 'PAY-1', ?, ?, ?)",
        (payload.encode(), T0.isoformat(), T0.isoformat()),
    )
    conn.execute(
        "INSERT INTO sources (source, watermark, mode) VALUES ('pay', ?, 'full')",
        (T0.isoformat(),),
    )
    conn.commit()
    conn.close()

    with Store.open(tmp_path) as store:
        assert store.schema_version() == SCHEMA_VERSION
        assert stored(store) == {"PAY-1": item("PAY-1")}
        state = store.source_state("pay")
        assert state is not None and state.watermark == T0
        assert state.item_format is None  # unknown: the next sync will be a full one
        store.journal_begin(op())  # tables of later versions exist
        assert store.query_matches() == {}


def test_newer_schema_version_is_refused(tmp_path: Path) -> None:
    with Store.open(tmp_path) as store:
        store.apply_sync("pay", [item("PAY-1")], set(), T0)
    conn = sqlite3.connect(tmp_path / DB_NAME)
    conn.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    conn.commit()
    conn.close()
    with pytest.raises(StoreError) as caught:
        Store.open(tmp_path)
    message = str(caught.value)
    assert str(tmp_path / DB_NAME) in message
    assert f"schema version 99, newer than this linesight understands ({SCHEMA_VERSION})" in message
    assert "upgrade linesight" in message


def test_garbage_file_is_a_store_error(tmp_path: Path) -> None:
    (tmp_path / DB_NAME).write_bytes(b"this is not a database\n" * 100)
    with pytest.raises(StoreError) as caught:
        Store.open(tmp_path)
    message = str(caught.value)
    assert message.startswith(f"{tmp_path / DB_NAME}: the state store is unreadable")
    assert "move it aside or delete it" in message


def test_foreign_sqlite_database_is_refused(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / DB_NAME)
    conn.execute("CREATE TABLE customers (id INTEGER)")
    conn.commit()
    conn.close()
    with pytest.raises(StoreError, match=r"not a linesight state store \(it has customers"):
        Store.open(tmp_path)


def test_damaged_pages_are_a_store_error(tmp_path: Path) -> None:
    with Store.open(tmp_path) as store:
        store.apply_sync("pay", (item(f"PAY-{n}") for n in range(3000)), set(), T0)
    path = tmp_path / DB_NAME
    data = bytearray(path.read_bytes())
    page = 4096
    for start in range(page * 2, len(data) - page, page * 3):  # scribble over every third page
        data[start : start + page] = b"\xa5" * page
    path.write_bytes(bytes(data))

    def read_all() -> None:
        with Store.open(tmp_path) as damaged:
            list(damaged.iter_items())

    with pytest.raises(StoreError, match="the state store is unreadable") as caught:
        read_all()
    assert str(path) in str(caught.value)


def test_state_dir_that_is_a_file(tmp_path: Path) -> None:
    blocker = tmp_path / "state"
    blocker.write_text("not a folder")
    with pytest.raises(StoreError, match="cannot open the state store"):
        Store.open(blocker)


def test_incompatible_payload_asks_for_a_full_sync(store: Store) -> None:
    store.apply_sync("pay", [item("PAY-1")], set(), T0)
    with sqlite3.connect(store.path) as conn:
        conn.execute("UPDATE items SET payload = ?", (b'{"source": "pay", "nonsense": 1}',))
    with pytest.raises(StoreError, match="run 'linesight sync --full'"):
        list(store.iter_items())


def test_a_store_locked_too_long_is_a_store_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import linesight.store.connection as store_module

    monkeypatch.setattr(store_module, "BUSY_TIMEOUT_S", 0.2)
    with Store.open(tmp_path) as store:
        other = sqlite3.connect(tmp_path / DB_NAME, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")  # another process in the middle of a write
        try:
            with pytest.raises(StoreError, match="stayed locked for 0 s") as caught:
                store.apply_sync("pay", [item("PAY-1")], set(), T0)
            assert "is another linesight process writing to it?" in str(caught.value)
        finally:
            other.execute("ROLLBACK")
            other.close()
        store.apply_sync("pay", [item("PAY-1")], set(), T0)  # fine once the other is done
        assert store.count_items() == 1


def test_reading_selected_sources_and_none(store: Store) -> None:
    store.apply_sync("pay", [item("PAY-1")], set(), T0)
    store.apply_sync("ado", [item("1", source="ado")], set(), T0)
    assert [i.ref for i in store.iter_items(["ado"])] == [ItemRef(source="ado", key="1")]
    assert list(store.iter_items([])) == []
    assert store.count_items("nope") == 0
