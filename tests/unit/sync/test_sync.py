"""The sync engine, driven through an in-memory double of the Connector *protocol*.

The double stands for a tracker (a dict of WorkItems that tests edit) and records every call,
so these tests check the engine's own decisions: what it asks for, what it commits, and what it
keeps when something fails. The real connectors are tested against the sandbox elsewhere.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from linesight.connector import Check, Connector, CurrentState, Progress, Watermark
from linesight.errors import AuthError, QueryError, UserError
from linesight.model import (
    KeyResult,
    Objective,
    Operation,
    OperationResult,
    StatusCategory,
    WorkItem,
)
from linesight.settings import LinkRules, Settings, SourceSettings
from linesight.store import Store, SyncMode
from linesight.sync import DEFAULT_OVERLAP, SyncReport, sync_full, sync_incremental

T0 = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)


class InjectedError(Exception):
    pass


@dataclass
class Tracker:
    """A tracker's state plus what the engine asked of it."""

    name: str
    items: dict[str, WorkItem] = field(default_factory=dict)
    queries: dict[str, set[str]] = field(default_factory=dict)
    refused: set[str] = field(default_factory=set)  # queries answered with QueryError
    fail_with: Exception | None = None  # raised by fetch before anything
    fail_after: int | None = None  # fetch raises InjectedError after this many items
    duplicates: bool = False  # fetch returns every item twice, older copy second
    before_fetch: Callable[[], object] | None = None
    before_side_read: Callable[[str], object] | None = None  # list_keys / match, given the call
    list_fails_with: Exception | None = None
    calls: list[tuple[str, Any]] = field(default_factory=list)
    closed: int = 0

    def put(self, key: str, *, title: str = "", updated: datetime = T0) -> WorkItem:
        work = WorkItem(
            source=self.name,
            key=key,
            type="Story",
            title=title or f"Work on {key}",
            status="In Progress",
            status_category=StatusCategory.IN_PROGRESS,
            updated=updated,
        )
        self.items[key] = work
        return work


class FakeConnector:
    """Implements the Connector protocol over a :class:`Tracker`."""

    request_count = 0

    def __init__(self, tracker: Tracker) -> None:
        self.tracker = tracker

    def fetch(
        self, since: Watermark | None, progress: Progress | None = None
    ) -> Iterator[WorkItem]:
        tracker = self.tracker
        tracker.calls.append(("fetch", since))
        if tracker.before_fetch is not None:
            tracker.before_fetch()
        if tracker.fail_with is not None:
            raise tracker.fail_with
        chosen = [
            i
            for i in tracker.items.values()
            if since is None or (i.updated is not None and i.updated >= since.since)
        ]
        for done, work in enumerate(chosen, start=1):
            if tracker.fail_after is not None and done > tracker.fail_after:
                raise InjectedError("connection reset in the middle of the sync")
            self.request_count += 1
            yield work
            if tracker.duplicates:
                yield work.model_copy(update={"title": "stale", "updated": T0 - timedelta(days=9)})
            if progress is not None:
                progress(done, len(chosen))

    def list_keys(self) -> set[str]:
        self.tracker.calls.append(("list_keys", None))
        if self.tracker.before_side_read is not None:
            self.tracker.before_side_read("list_keys")
        if self.tracker.list_fails_with is not None:
            raise self.tracker.list_fails_with
        return set(self.tracker.items)

    def match(self, query: str) -> set[str]:
        self.tracker.calls.append(("match", query))
        if self.tracker.before_side_read is not None:
            self.tracker.before_side_read("match")
        if query in self.tracker.refused:
            raise QueryError(f"the tracker refused the query {query!r}")
        return set(self.tracker.queries.get(query, set()))

    def current_state(self, keys: Iterable[str]) -> dict[str, CurrentState]:
        raise NotImplementedError

    def apply(self, op: Operation) -> OperationResult:
        raise NotImplementedError

    def check(self) -> list[Check]:
        raise NotImplementedError

    def close(self) -> None:
        self.tracker.closed += 1


class World:
    """Two sources (a Jira one and an Azure DevOps one), their trackers and a store."""

    def __init__(self, tmp_path: Path) -> None:
        self.trackers = {"pay": Tracker("pay"), "ado": Tracker("ado")}
        self.store = Store.open(tmp_path / "state")
        self.now = T0
        self.links = LinkRules()

    @property
    def settings(self) -> Settings:
        return Settings(
            state_dir=self.store.path.parent,
            links=self.links,
            sources=(
                {"kind": "jira", "name": "pay", "url": "http://127.0.0.1:9", "projects": ["PAY"]},
                {
                    "kind": "azure-devops",
                    "name": "ado",
                    "url": "http://127.0.0.1:9/org",
                    "project": "Fabrikam",
                },
            ),
        )

    def connector(self, source: SourceSettings) -> Connector:
        return FakeConnector(self.trackers[source.name])

    def clock(self) -> datetime:
        return self.now

    def incremental(self, **kwargs: Any) -> SyncReport:
        kwargs.setdefault("objectives", ())
        registry = {"jira": self.connector, "azure-devops": self.connector}
        return sync_incremental(
            self.settings, self.store, registry=registry, clock=self.clock, **kwargs
        )

    def full(self, **kwargs: Any) -> SyncReport:
        kwargs.setdefault("objectives", ())
        registry = {"jira": self.connector, "azure-devops": self.connector}
        return sync_full(self.settings, self.store, registry=registry, clock=self.clock, **kwargs)

    def stored(self, source: str) -> dict[str, WorkItem]:
        return {i.key: i for i in self.store.iter_items([source])}


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    made = World(tmp_path)
    yield made
    made.store.close()


def by_source(report: SyncReport) -> dict[str, Any]:
    return {r.source: r for r in report.sources}


# ---------------------------------------------------------------------------------------------


def test_full_sync_stores_everything(world: World) -> None:
    pay = world.trackers["pay"]
    expected = {k: pay.put(k) for k in ("PAY-1", "PAY-2", "PAY-3")}
    world.trackers["ado"].put("4711")

    report = world.full()

    assert report.ok and report.failed == ()
    assert [r.source for r in report.sources] == ["pay", "ado"]  # settings order
    first = by_source(report)["pay"]
    assert (first.mode, first.fetched, first.changed, first.removed) == (SyncMode.FULL, 3, 3, 0)
    assert first.requests == 3
    assert first.duration_s >= 0
    assert world.stored("pay") == expected
    assert set(world.stored("ado")) == {"4711"}
    assert pay.calls == [("fetch", None)]
    assert pay.closed == 1
    state = world.store.source_state("pay")
    assert state is not None and state.watermark == T0 and state.last_full_sync == T0


def test_incremental_applies_exactly_the_changes(world: World) -> None:
    pay = world.trackers["pay"]
    for key in ("PAY-1", "PAY-2", "PAY-3"):
        pay.put(key, updated=T0 - timedelta(hours=1))  # before the overlap of the next sync
    world.full()

    world.now = T0 + timedelta(days=1)
    edited = pay.put("PAY-1", title="edited", updated=T0 + timedelta(hours=3))
    added = pay.put("PAY-4", updated=T0 + timedelta(hours=4))
    del pay.items["PAY-2"]
    pay.calls.clear()

    report = by_source(world.incremental())["pay"]

    # fetch and list_keys run side by side: which one the tracker sees first is not fixed
    assert sorted(pay.calls, key=str) == [
        ("fetch", Watermark(since=T0 - DEFAULT_OVERLAP)),
        ("list_keys", None),
    ]
    assert (report.mode, report.fetched, report.changed, report.removed) == (
        SyncMode.INCREMENTAL,
        2,
        2,
        1,
    )
    assert report.reason == ""
    assert world.stored("pay") == {"PAY-1": edited, "PAY-3": pay.items["PAY-3"], "PAY-4": added}
    state = world.store.source_state("pay")
    assert state is not None and state.watermark == world.now
    assert state.last_full_sync == T0  # the incremental sync does not claim to be full


def test_an_item_fetched_then_deleted_before_listing_is_not_kept(world: World) -> None:
    pay = world.trackers["pay"]
    pay.put("PAY-1")
    world.full()
    world.now = T0 + timedelta(days=1)
    pay.put("PAY-2", updated=world.now)

    original_list_keys = FakeConnector.list_keys

    def deleted_meanwhile(self: FakeConnector) -> set[str]:
        return original_list_keys(self) - {"PAY-2"}

    FakeConnector.list_keys = deleted_meanwhile  # type: ignore[method-assign]
    try:
        report = by_source(world.incremental())["pay"]
    finally:
        FakeConnector.list_keys = original_list_keys  # type: ignore[method-assign]
    assert report.removed == 0  # it never was stored...
    assert set(world.stored("pay")) == {"PAY-1"}  # ...and is not stored now


def test_watermark_is_the_start_of_the_sync_not_the_newest_item(world: World) -> None:
    pay = world.trackers["pay"]
    # the tracker's clock runs ahead of ours, and the sync takes a while
    pay.put("PAY-1", updated=T0 + timedelta(hours=2))
    ticks = iter([T0, T0 + timedelta(minutes=30), T0 + timedelta(hours=1)])
    world.clock = lambda: next(ticks)  # type: ignore[method-assign]

    world.full(sources=["pay"])

    state = world.store.source_state("pay")
    assert state is not None and state.watermark == T0


def test_a_failing_source_keeps_its_data_and_the_others_succeed(world: World) -> None:
    pay, ado = world.trackers["pay"], world.trackers["ado"]
    kept = pay.put("PAY-1")
    ado.put("1")
    world.full()

    world.now = T0 + timedelta(days=1)
    pay.put("PAY-2", updated=world.now)
    pay.fail_with = AuthError("pay: 401 Unauthorized: check the token in PAY_TOKEN", status=401)
    ado.put("2", updated=world.now)

    report = world.incremental()

    assert not report.ok
    assert [r.source for r in report.failed] == ["pay"]
    failed = by_source(report)["pay"]
    assert failed.error == "pay: 401 Unauthorized: check the token in PAY_TOKEN"
    assert (failed.fetched, failed.changed) == (0, 0)
    assert world.stored("pay") == {"PAY-1": kept}
    state = world.store.source_state("pay")
    assert state is not None
    assert state.watermark == T0  # not advanced
    assert state.last_error == failed.error and state.last_error_at == world.now
    assert pay.closed == 2  # closed after the failure too
    assert set(world.stored("ado")) == {"1", "2"}
    assert by_source(report)["ado"].ok

    pay.fail_with = None
    world.now = T0 + timedelta(days=2)
    assert world.incremental().ok
    healed = world.store.source_state("pay")
    assert healed is not None and healed.last_error is None and healed.watermark == world.now
    assert set(world.stored("pay")) == {"PAY-1", "PAY-2"}


def test_a_crash_half_way_through_the_fetch_commits_nothing(world: World) -> None:
    pay = world.trackers["pay"]
    for n in range(10):
        pay.put(f"PAY-{n}")
    world.full()
    before = world.stored("pay")

    world.now = T0 + timedelta(days=1)
    for n in range(10):
        pay.put(f"PAY-{n}", title="changed", updated=world.now)
    pay.fail_after = 5

    report = by_source(world.incremental())["pay"]

    assert report.error == "InjectedError: connection reset in the middle of the sync"
    assert world.stored("pay") == before
    state = world.store.source_state("pay")
    assert state is not None and state.watermark == T0


def test_an_unexpected_error_message_is_redacted(world: World) -> None:
    world.trackers["pay"].fail_with = OSError(
        "cannot reach https://bob:hunter2@jira.example.com/rest?token=abc123"
    )
    report = by_source(world.full())["pay"]
    assert report.error is not None
    assert "hunter2" not in report.error and "abc123" not in report.error
    assert report.error.startswith("OSError: cannot reach https://***@jira.example.com")


def test_missing_connector_fails_only_its_source(world: World) -> None:
    world.trackers["ado"].put("1")
    report = sync_full(
        world.settings,
        world.store,
        objectives=(),
        registry={"azure-devops": world.connector},
        clock=world.clock,
    )
    failed = by_source(report)["pay"]
    assert failed.error == (
        "source 'pay' needs connector 'jira' (installed: azure-devops); pip install linesight-jira"
    )
    assert by_source(report)["ado"].ok


def test_incremental_runs_in_full_when_it_must(world: World) -> None:
    pay = world.trackers["pay"]
    pay.put("PAY-1")

    first = by_source(world.incremental())["pay"]
    assert first.mode is SyncMode.FULL and first.reason == "first sync of this source"

    world.now = T0 + timedelta(days=1)
    second = by_source(world.incremental())["pay"]
    assert second.mode is SyncMode.INCREMENTAL

    # widening the scope: the new project's old items would never look "changed"
    wider = world.settings.sources[0].model_copy(update={"projects": ("PAY", "OPS")})
    settings = world.settings.model_copy(update={"sources": (wider,)})
    report = sync_incremental(
        settings, world.store, objectives=(), registry={"jira": world.connector}, clock=world.clock
    )
    assert report.sources[0].mode is SyncMode.FULL
    assert report.sources[0].reason == "the source's settings changed since its last full sync"


def test_a_new_token_does_not_force_a_full_sync(world: World) -> None:
    world.trackers["pay"].put("PAY-1")
    world.full()
    source = world.settings.sources[0].model_copy(
        update={"token": SecretStr("new"), "concurrency": 2}
    )
    settings = world.settings.model_copy(update={"sources": (source,)})
    report = sync_incremental(
        settings, world.store, objectives=(), registry={"jira": world.connector}, clock=world.clock
    )
    assert report.sources[0].mode is SyncMode.INCREMENTAL


def test_items_stored_by_another_item_model_are_refetched_in_full(world: World) -> None:
    world.trackers["pay"].put("PAY-1")
    world.full()
    with world.store._db() as conn:
        conn.execute("UPDATE sources SET item_format = 'older-model'")
    report = by_source(world.incremental())["pay"]
    assert report.mode is SyncMode.FULL
    assert report.reason == "items were stored by another version of linesight"


def test_duplicates_are_merged_by_key(world: World) -> None:
    pay = world.trackers["pay"]
    pay.put("PAY-1", title="current")
    pay.duplicates = True
    report = by_source(world.full())["pay"]
    assert (report.fetched, report.changed) == (2, 1)
    assert world.stored("pay")["PAY-1"].title == "current"


def test_full_sync_removes_what_the_tracker_no_longer_returns(world: World) -> None:
    pay = world.trackers["pay"]
    for n in range(30):
        pay.put(f"PAY-{n}")
    world.full()
    for n in range(20):
        del pay.items[f"PAY-{n}"]
    report = by_source(world.full())["pay"]
    assert report.removed == 20
    assert set(world.stored("pay")) == {f"PAY-{n}" for n in range(20, 30)}
    assert report.warnings == (
        "20 of 30 stored items left the scope; check the source's settings if that is unexpected",
    )


def test_items_in_scope_but_never_fetched_are_reported(world: World) -> None:
    pay = world.trackers["pay"]
    pay.put("PAY-1")
    world.full()
    world.now = T0 + timedelta(days=1)
    pay.put("PAY-OLD", updated=T0 - timedelta(days=300))  # e.g. moved into scope unchanged
    report = by_source(world.incremental())["pay"]
    assert report.warnings == (
        "1 in-scope item(s) are not in the store yet; they arrive when they next change, "
        "or run a full sync",
    )


# ---------------------------------------------------------------------------------------------
# link rule 5


def okrs() -> list[Objective]:
    def kr(kr_id: str, *work: str) -> KeyResult:
        return KeyResult(id=kr_id, objective=kr_id[2], title=kr_id, work=work)

    return [
        Objective(
            id="O1",
            title="active",
            cycle="2026-Q4",
            key_results=(
                kr(
                    "KR1.1",
                    "jql:labels = checkout",
                    "wiql:[System.Tags] CONTAINS 'x'",
                    "jira:PAY-1",
                ),
                kr("KR1.2", "jql:labels = checkout", "jql: bad ((query"),
            ),
        ),
        Objective(
            id="O2",
            title="closed",
            cycle="2026-Q4",
            closed=True,
            key_results=(kr("KR2.1", "jql:closed = 1"),),
        ),
        Objective(
            id="O3", title="last cycle", cycle="2026-Q3", key_results=(kr("KR3.1", "jql:old = 1"),)
        ),
    ]


def test_kr_queries_are_matched_per_source_kind_and_stored(world: World) -> None:
    pay, ado = world.trackers["pay"], world.trackers["ado"]
    pay.put("PAY-1")
    pay.queries = {"labels = checkout": {"PAY-1"}, "bad ((query": {"PAY-9"}}
    ado.queries = {"[System.Tags] CONTAINS 'x'": {"7"}}

    report = world.full(objectives=okrs(), cycle="2026-Q4")

    assert report.ok
    # each distinct query once (side by side, in any order), only the active cycle's open
    # objectives, by source kind
    assert sorted(c for c in pay.calls if c[0] == "match") == [
        ("match", "bad ((query"),
        ("match", "labels = checkout"),
    ]
    assert [c for c in ado.calls if c[0] == "match"] == [("match", "[System.Tags] CONTAINS 'x'")]
    assert world.store.source_query_matches("pay") == {
        ("KR1.1", "labels = checkout"): {"PAY-1"},
        ("KR1.2", "labels = checkout"): {"PAY-1"},
        ("KR1.2", "bad ((query"): {"PAY-9"},
    }
    assert world.store.source_query_matches("ado") == {
        ("KR1.1", "[System.Tags] CONTAINS 'x'"): {"7"}
    }

    # a query the tracker now refuses keeps its previous matches and says why
    pay.refused = {"bad ((query"}
    pay.queries["labels = checkout"] = {"PAY-1", "PAY-2"}
    world.now = T0 + timedelta(days=1)
    again = by_source(world.incremental(objectives=okrs(), cycle="2026-Q4"))["pay"]
    assert again.ok
    assert again.warnings == ("KR KR1.2: the tracker refused the query 'bad ((query'",)
    assert world.store.source_query_matches("pay") == {
        ("KR1.1", "labels = checkout"): {"PAY-1", "PAY-2"},
        ("KR1.2", "labels = checkout"): {"PAY-1", "PAY-2"},
        ("KR1.2", "bad ((query"): {"PAY-9"},
    }


def test_query_rule_switched_off_runs_no_query(world: World) -> None:
    pay = world.trackers["pay"]
    pay.queries = {"labels = checkout": {"PAY-1"}}
    world.full(objectives=okrs(), cycle="2026-Q4")
    world.links = LinkRules(query=False)
    world.full(objectives=okrs(), cycle="2026-Q4")
    assert sum(1 for c in pay.calls if c[0] == "match") == 2  # from the first sync only
    assert world.store.query_matches() == {}


# ---------------------------------------------------------------------------------------------
# progress, parallelism, selection


def test_progress_is_reported_per_source(world: World) -> None:
    for n in range(3):
        world.trackers["pay"].put(f"PAY-{n}")
    seen: list[tuple[str, int, int | None]] = []
    lock = threading.Lock()

    def progress(source: str, done: int, total: int | None) -> None:
        with lock:
            seen.append((source, done, total))

    world.full(progress=progress)
    assert seen == [("pay", 1, 3), ("pay", 2, 3), ("pay", 3, 3)]


def test_sources_sync_in_parallel(world: World) -> None:
    both_fetching = threading.Barrier(2, timeout=10)
    for tracker in world.trackers.values():
        tracker.before_fetch = both_fetching.wait  # passes only if the other is fetching too
    report = world.full()
    assert report.ok


def test_selected_sources_only(world: World) -> None:
    world.trackers["pay"].put("PAY-1")
    world.trackers["ado"].put("1")
    report = world.full(sources=["ado"])
    assert [r.source for r in report.sources] == ["ado"]
    assert world.store.count_items("pay") == 0
    with pytest.raises(UserError, match=r"no source named 'nope' \(configured: pay, ado\)"):
        world.full(sources=["nope"])


def test_no_sources_is_an_empty_report(world: World) -> None:
    report = sync_full(Settings(), world.store, objectives=())
    assert report.ok and report.sources == ()


def test_a_query_answered_by_another_site_of_its_kind_is_no_warning(world: World) -> None:
    # two Jira sites: a KR's "project = PAY" only makes sense on one of them
    pay, ops = world.trackers["pay"], Tracker("ops")
    world.trackers["ops"] = ops
    pay.queries = {"labels = checkout": {"PAY-1"}}
    ops.refused = {"labels = checkout", "bad ((query"}
    pay.refused = {"bad ((query"}
    second = world.settings.sources[0].model_copy(update={"name": "ops"})
    settings = world.settings.model_copy(update={"sources": (world.settings.sources[0], second)})

    report = sync_full(
        settings,
        world.store,
        objectives=okrs(),
        cycle="2026-Q4",
        registry={"jira": world.connector},
        clock=world.clock,
    )

    refused_everywhere = "KR KR1.2: the tracker refused the query 'bad ((query'"
    assert by_source(report)["pay"].warnings == (refused_everywhere,)
    assert by_source(report)["ops"].warnings == (refused_everywhere,)
    assert world.store.source_query_matches("ops") == {}
    assert world.store.source_query_matches("pay")[("KR1.1", "labels = checkout")] == {"PAY-1"}


# ---------------------------------------------------------------------------------------------
# within a source: list_keys and the KR queries overlap the fetch


def test_list_keys_and_queries_run_beside_the_fetch(world: World) -> None:
    pay = world.trackers["pay"]
    pay.put("PAY-1", updated=T0 - timedelta(hours=1))
    world.full(sources=["pay"])
    world.now = T0 + timedelta(days=1)
    pay.put("PAY-2", updated=world.now)
    pay.queries = {"labels = checkout": {"PAY-2"}, "bad ((query": set()}
    # fetch, list_keys and both queries: passes only if all four are under way at once
    everyone = threading.Barrier(4, timeout=10)
    pay.before_fetch = everyone.wait
    pay.before_side_read = lambda _call: everyone.wait()

    report = world.incremental(objectives=okrs(), cycle="2026-Q4", sources=["pay"])

    assert report.ok, report.failed
    assert set(world.stored("pay")) == {"PAY-1", "PAY-2"}
    assert world.store.source_query_matches("pay")[("KR1.1", "labels = checkout")] == {"PAY-2"}


def test_a_failing_list_keys_fails_the_source_and_commits_nothing(world: World) -> None:
    pay = world.trackers["pay"]
    pay.put("PAY-1", updated=T0 - timedelta(hours=1))
    world.full(sources=["pay"])
    before = world.stored("pay")
    world.now = T0 + timedelta(days=1)
    pay.put("PAY-1", title="edited", updated=world.now)
    pay.list_fails_with = AuthError("pay: 403 Forbidden while listing keys", status=403)

    report = by_source(world.incremental(sources=["pay"]))["pay"]

    assert report.error == "pay: 403 Forbidden while listing keys"
    assert world.stored("pay") == before
    state = world.store.source_state("pay")
    assert state is not None and state.watermark == T0


def test_a_failing_query_fails_the_source_unless_the_tracker_refused_it(world: World) -> None:
    pay = world.trackers["pay"]
    pay.put("PAY-1")
    pay.queries = {"labels = checkout": {"PAY-1"}}
    world.full(objectives=okrs(), cycle="2026-Q4", sources=["pay"])
    world.now = T0 + timedelta(days=1)

    def outage(call: str) -> None:
        if call == "match":
            raise InjectedError("connection reset while matching")

    pay.before_side_read = outage
    report = by_source(world.incremental(objectives=okrs(), cycle="2026-Q4", sources=["pay"]))

    assert report["pay"].error == "InjectedError: connection reset while matching"
    assert world.store.source_query_matches("pay")[("KR1.1", "labels = checkout")] == {"PAY-1"}
    state = world.store.source_state("pay")
    assert state is not None and state.watermark == T0


def test_the_connector_is_closed_only_after_the_side_reads_are_done(world: World) -> None:
    pay = world.trackers["pay"]
    pay.put("PAY-1")
    world.full(sources=["pay"])
    world.now = T0 + timedelta(days=1)
    listing = threading.Event()
    closed_while_listing: list[int] = []

    def slow_listing(_call: str) -> None:
        listing.set()
        time.sleep(0.2)  # the fetch fails meanwhile
        closed_while_listing.append(pay.closed)

    pay.before_side_read = slow_listing
    pay.before_fetch = lambda: listing.wait(10)
    pay.fail_with = InjectedError("the tracker went away")

    report = by_source(world.incremental(sources=["pay"]))["pay"]

    assert report.error == "InjectedError: the tracker went away"
    assert closed_while_listing == [1]  # the full sync's close only; this one came after
    assert pay.closed == 2
