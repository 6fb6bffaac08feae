"""The connector contract suite: what the core relies on from every connector, as pytest tests.

linesight finds connectors through the ``linesight.connectors`` entry point group and talks to
them only through :class:`~linesight.connector.Connector`. This module is the behaviour behind
that protocol, written once: every connector — the built-in Jira and Azure DevOps ones and any
third-party one — runs the same tests against a test tracker it can change.

A connector's tests provide a :class:`ConnectorHarness`: how to build the connector, what the
tracker holds (worked out from the tracker's own data, never through the connector), and a few
edits made through the tracker's real API, the way a person would make them. Give a module a
``harness`` fixture and subclass :class:`ConnectorContract` as a ``Test...`` class; pytest then
collects every contract as a test of that class. A third-party connector for, say, Linear::

    # tests/test_contract.py of the linesight-linear package
    from collections.abc import Iterator

    import pytest
    from pydantic import SecretStr

    from linesight.connector import Connector
    from linesight.testing.contract import ConnectorContract, ConnectorHarness
    from linesight_linear.connector import LinearConnector, LinearSource
    from tests.fake_linear import FakeLinear  # your tracker on 127.0.0.1, >= 10 items


    class LinearHarness(ConnectorHarness):
        def __init__(self, server: FakeLinear) -> None:
            self.server = server
            self.source_name = "linear"

        def connector(self, *, token: str | None = None) -> Connector:
            source = LinearSource(kind="linear", name="linear", url=self.server.url,
                                  team="ENG", token=SecretStr(token or self.server.token))
            return LinearConnector(source)

        def reset(self) -> None: self.server.reset()
        def expected_keys(self) -> set[str]: return self.server.keys(team="ENG")
        def all_keys(self) -> set[str]: return self.server.keys()
        def valid_query(self) -> tuple[str, set[str]]:
            return 'label = "bug"', self.server.keys(team="ENG", label="bug")
        def invalid_query(self) -> str: return "label = = ("
        def rename(self, key: str, title: str) -> None:
            self.server.api("PATCH", f"/issues/{key}", {"title": title})
        def delete(self, key: str) -> None: self.server.api("DELETE", f"/issues/{key}")
        def add_label(self, key: str, label: str) -> None: ...
        def labels(self, key: str) -> list[str]: return self.server.issue(key)["labels"]
        def comments(self, key: str) -> list[str]: ...


    @pytest.fixture(scope="module")
    def harness() -> Iterator[ConnectorHarness]:
        with FakeLinear(port=0) as server:
            yield LinearHarness(server)


    class TestLinearContract(ConnectorContract):
        pass  # pytest collects every contract of the suite here

What is checked (each contract is one test method, named after it):

- ``fetch(None)`` returns every in-scope item exactly once, as valid :class:`WorkItem` s of the
  configured source: status category one of three, absolute ``url``, labels a tuple of ``str``,
  tz-aware dates, ``parent`` and link targets naming items of the same tracker;
- ``list_keys()`` equals the keys of ``fetch(None)``; ``progress`` counts up to the item count;
- after an edit through the tracker's API, ``fetch(Watermark(since=t0))`` returns the edited item
  (with the new title) and fewer than all items; after a delete, ``list_keys()`` drops the key;
- ``match()`` returns exactly the keys a valid query matches; an invalid one raises
  :class:`~linesight.errors.QueryError` naming the source;
- wrong credentials: :class:`~linesight.errors.AuthError`, and ``check()`` reports a failed
  check with a fix — the token never appears in an error, a check or the log;
- write-back touches only what linesight owns, converges, and a repeated operation makes zero
  writes; an operation on an item that no longer exists is SKIPPED, not raised;
- ``check()`` is all green on a healthy tracker; ``close()`` may be called twice.

Each test starts from ``harness.reset()`` and closes every connector it opened.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pytest

from linesight.connector import Check, Connector, CurrentState, Watermark
from linesight.errors import AuthError, QueryError
from linesight.model import (
    MANAGED_COMMENT_MARKER,
    CommentDoc,
    Operation,
    OperationKind,
    OperationResult,
    OperationStatus,
    StatusCategory,
    TextSpan,
    WorkItem,
)

__all__ = ["MIN_ITEMS", "ConnectorContract", "ConnectorHarness", "ContractRun"]

MIN_ITEMS = 10
"""The smallest dataset the suite accepts: "fewer than all" must mean something."""


class ConnectorHarness(ABC):
    """What the suite needs to know about one connector and the test tracker behind it.

    Everything that reads the tracker (``expected_keys``, ``labels``, ``comments``, ...) must
    read the tracker's own data (its REST API, or a test server's state), never go through the
    connector under test — otherwise a connector would be checked against itself.
    """

    source_name: str
    """The source name the connector is configured with (``WorkItem.source``)."""

    owned_label = "linesight-contract"
    """A label/tag the write-back tests own; no item may carry it already."""

    foreign_label = "team-contract"
    """A label/tag a person adds; linesight must leave it exactly as it is."""

    wrong_token = "contract-wrong-token-8f1d2c7b"  # noqa: S105 - a deliberately wrong credential
    """Credentials the tracker rejects; they must never show in an error, a check or the log."""

    @abstractmethod
    def connector(self, *, token: str | None = None) -> Connector:
        """A new connector for the test tracker; ``token`` replaces the working credentials."""

    @abstractmethod
    def reset(self) -> None:
        """Put the tracker back to its dataset (undo every edit, delete and write-back)."""

    @abstractmethod
    def expected_keys(self) -> set[str]:
        """Keys of the items the connector's configured scope covers, read from the tracker.

        At least :data:`MIN_ITEMS`, some of them with a parent. The tracker should also hold
        items *outside* the scope, so that the scope is checked too.
        """

    @abstractmethod
    def all_keys(self) -> set[str]:
        """Keys of every item the tracker holds, in scope or not."""

    @abstractmethod
    def valid_query(self) -> tuple[str, set[str]]:
        """A query ``match()`` accepts and the in-scope keys it must return (not none, not all)."""

    @abstractmethod
    def invalid_query(self) -> str:
        """A query the tracker refuses as invalid."""

    @abstractmethod
    def rename(self, key: str, title: str) -> None:
        """Change an item's title through the tracker's API (as a person would)."""

    @abstractmethod
    def delete(self, key: str) -> None:
        """Delete an item through the tracker's API."""

    @abstractmethod
    def add_label(self, key: str, label: str) -> None:
        """Add a label/tag to an item through the tracker's API, keeping its others."""

    @abstractmethod
    def labels(self, key: str) -> list[str]:
        """The item's labels/tags as the tracker stores them, in its order."""

    @abstractmethod
    def comments(self, key: str) -> list[str]:
        """The raw text of every (not deleted) comment on the item (JSON for rich bodies)."""


class ContractRun:
    """One contract test's view of the harness: connectors it opened are closed at the end."""

    def __init__(self, harness: ConnectorHarness) -> None:
        self.harness = harness
        self.name = harness.source_name
        self._opened: list[Connector] = []
        self._items: list[WorkItem] | None = None

    def open(self, *, token: str | None = None) -> Connector:
        connector = self.harness.connector(token=token)
        self._opened.append(connector)
        return connector

    def close(self) -> None:
        for connector in self._opened:
            connector.close()

    def everything(self) -> list[WorkItem]:
        """``fetch(None)`` of a fresh connector, read once per test."""
        if self._items is None:
            self._items = list(self.open().fetch(None))
            assert len(self._items) >= MIN_ITEMS, (
                f"the harness's dataset has {len(self._items)} in-scope items; "
                f"the contract needs at least {MIN_ITEMS}"
            )
        return self._items

    def leaves(self) -> list[str]:
        """In-scope keys that are nobody's parent, sorted: safe to delete or edit."""
        items = self.everything()
        parents = {i.parent for i in items if i.parent}
        return sorted(i.key for i in items if i.key not in parents)

    def op(self, key: str, kind: OperationKind, **values: object) -> Operation:
        return Operation.model_validate({"source": self.name, "key": key, "kind": kind, **values})

    def marked(self, key: str) -> list[str]:
        return [c for c in self.harness.comments(key) if MANAGED_COMMENT_MARKER in c]


def _absolute(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def _describe(result: OperationResult) -> str:
    return f"{result.status.value}, {result.writes} writes, {result.message!r}"


def _exception_chain(error: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def _comment(*paragraphs: str) -> CommentDoc:
    return CommentDoc(
        paragraphs=tuple(
            (TextSpan(text="linesight", strong=True), TextSpan(text=f": {text}"))
            for text in paragraphs
        )
    )


class ConnectorContract:
    """The contract suite. Subclass it as ``Test<Name>Contract`` with a ``harness`` fixture.

    The name does not start with ``Test``, so pytest collects the subclasses, not this class.
    """

    @pytest.fixture
    def contract(self, harness: ConnectorHarness) -> Iterator[ContractRun]:
        harness.reset()
        run = ContractRun(harness)
        try:
            yield run
        finally:
            run.close()

    # -- reading -------------------------------------------------------------------------------

    def test_the_factory_builds_a_connector(self, contract: ContractRun) -> None:
        connector = contract.open()
        assert isinstance(connector, Connector), (
            f"{type(connector).__name__} lacks methods of the Connector protocol"
        )

    def test_fetch_returns_every_in_scope_item_exactly_once(self, contract: ContractRun) -> None:
        keys = [item.key for item in contract.everything()]
        twice = sorted({k for k in keys if keys.count(k) > 1})
        assert not twice, f"fetch(None) returned these keys more than once: {twice}"
        expected = contract.harness.expected_keys()
        assert set(keys) == expected, (
            f"missing: {sorted(expected - set(keys))[:10]}, "
            f"out of scope: {sorted(set(keys) - expected)[:10]}"
        )

    def test_fetched_items_are_valid_work_items(self, contract: ContractRun) -> None:
        items = contract.everything()
        known = contract.harness.all_keys()
        for item in items:
            assert isinstance(item, WorkItem), f"{type(item).__name__} is not a WorkItem"
            # a model_construct()ed item skips validation: validate it again
            assert WorkItem.model_validate(item.model_dump()) == item, item.key
            assert item.source == contract.name, (item.key, item.source)
            assert item.key and item.key == item.key.strip(), repr(item.key)
            assert isinstance(item.status_category, StatusCategory), (item.key, item.status)
            assert _absolute(item.url), f"{item.key}: url {item.url!r} is not absolute"
            assert isinstance(item.labels, tuple), (item.key, item.labels)
            assert all(isinstance(label, str) and label for label in item.labels), item.key
            for moment in (item.created, item.updated, item.started, item.resolved):
                assert moment is None or moment.utcoffset() is not None, (item.key, moment)
            if item.parent is not None:
                assert item.parent != item.key, f"{item.key} is its own parent"
                assert item.parent in known, (
                    f"{item.key}: parent {item.parent!r} is no item of this tracker"
                )
            for link in item.links:
                assert link.target in known, f"{item.key}: link target {link.target!r} unknown"
        assert any(item.parent for item in items), (
            "no fetched item has a parent: the harness's dataset must exercise hierarchy"
        )

    def test_list_keys_equals_the_keys_of_a_full_fetch(self, contract: ContractRun) -> None:
        fetched = {item.key for item in contract.everything()}
        assert contract.open().list_keys() == fetched

    def test_progress_counts_up_to_the_number_of_items(self, contract: ContractRun) -> None:
        calls: list[tuple[int, int | None]] = []
        items = list(contract.open().fetch(None, lambda done, total: calls.append((done, total))))
        assert calls, "fetch(None) never called progress"
        dones = [done for done, _ in calls]
        assert dones == sorted(dones) and dones[0] >= 0, f"done went backwards: {dones}"
        assert all(total is None or 0 <= done <= total for done, total in calls), calls
        assert dones[-1] == len(items), f"progress ended at {calls[-1]}, {len(items)} items"

    def test_incremental_fetch_returns_the_edited_item(self, contract: ContractRun) -> None:
        everything = contract.everything()
        key = contract.leaves()[0]
        title = f"Renamed by the contract suite ({key})"
        # A tracker may keep whole seconds or milliseconds: a t0 with microseconds could fall
        # after the stored time of an edit made right after it.
        t0 = datetime.now(UTC) - timedelta(seconds=1)
        contract.harness.rename(key, title)

        changed = {i.key: i for i in contract.open().fetch(Watermark(since=t0))}
        assert key in changed, f"fetch(since) missed the item edited after t0 ({key})"
        assert changed[key].title == title
        assert len(changed) < len(everything), (
            f"fetch(since) returned {len(changed)} of {len(everything)} items: not incremental"
        )
        assert set(changed) <= contract.harness.expected_keys()

    def test_a_deleted_item_leaves_list_keys(self, contract: ContractRun) -> None:
        before = {item.key for item in contract.everything()}
        key = contract.leaves()[-1]
        contract.harness.delete(key)
        assert contract.open().list_keys() == before - {key}

    def test_match_returns_the_keys_the_query_matches(self, contract: ContractRun) -> None:
        query, expected = contract.harness.valid_query()
        connector = contract.open()
        scope = connector.list_keys()
        assert expected and expected < scope, "the harness's valid_query must match some, not all"
        assert connector.match(query) == expected

    def test_an_invalid_query_is_a_query_error_naming_the_source(
        self, contract: ContractRun
    ) -> None:
        with pytest.raises(QueryError) as caught:
            contract.open().match(contract.harness.invalid_query())
        message = str(caught.value)
        assert f"'{contract.name}'" in message, f"the source is not named: {message!r}"
        assert len(message.splitlines()) == 1, f"not one line: {message!r}"

    def test_wrong_credentials_are_an_auth_error_without_the_token(
        self, contract: ContractRun, caplog: pytest.LogCaptureFixture
    ) -> None:
        secret = contract.harness.wrong_token
        with caplog.at_level(logging.DEBUG):
            with pytest.raises(AuthError) as fetching:
                list(contract.open(token=secret).fetch(None))
            with pytest.raises(AuthError) as listing:
                contract.open(token=secret).list_keys()
        for caught in (fetching, listing):
            for error in _exception_chain(caught.value):
                assert secret not in str(error), f"the token leaks: {error!r}"
        assert secret not in caplog.text, "the token is in the log"

    def test_check_is_all_ok_against_a_healthy_tracker(self, contract: ContractRun) -> None:
        checks = contract.open().check()
        assert checks and all(isinstance(c, Check) for c in checks), checks
        failed = [c for c in checks if not c.ok]
        assert not failed, f"failed checks against a healthy tracker: {failed}"

    def test_check_reports_wrong_credentials_with_a_fix(self, contract: ContractRun) -> None:
        secret = contract.harness.wrong_token
        checks = contract.open(token=secret).check()
        failed = [c for c in checks if not c.ok]
        assert failed, f"no failed check with wrong credentials: {checks}"
        assert any(c.fix.strip() for c in failed), f"no failed check says how to fix it: {failed}"
        assert all(secret not in f"{c.detail} {c.fix}" for c in checks), "the token leaks"

    def test_close_may_be_called_twice(self, contract: ContractRun) -> None:
        unused = contract.harness.connector()
        unused.close()
        unused.close()
        used = contract.harness.connector()
        used.list_keys()
        used.close()
        used.close()

    # -- write-back ----------------------------------------------------------------------------

    def test_labels_touch_only_the_owned_label_and_converge(self, contract: ContractRun) -> None:
        harness, owned = contract.harness, contract.harness.owned_label
        key = contract.leaves()[len(contract.leaves()) // 2]
        harness.add_label(key, harness.foreign_label)
        original = harness.labels(key)
        assert harness.foreign_label in original and owned not in original, original
        connector = contract.open()
        assert connector.current_state([key])[key].labels == tuple(original)

        add = contract.op(key, OperationKind.LABELS, add_labels=(owned,))
        added = connector.apply(add)
        assert added.status is OperationStatus.APPLIED and added.writes >= 1, _describe(added)
        assert [x for x in harness.labels(key) if x != owned] == original, "others changed"
        assert owned in harness.labels(key)
        state = connector.current_state([key])[key]
        assert state.labels == tuple(harness.labels(key)), state
        if added.labels is not None:
            assert added.labels == state.labels, (
                "OperationResult.labels differs from the item's labels"
            )

        again = connector.apply(add)
        assert (again.status, again.writes) == (OperationStatus.UNCHANGED, 0), _describe(again)

        remove = contract.op(key, OperationKind.LABELS, remove_labels=(owned,))
        removed = connector.apply(remove)
        assert removed.status is OperationStatus.APPLIED, _describe(removed)
        assert harness.labels(key) == original, "removing the owned label changed others"
        assert connector.current_state([key])[key].labels == tuple(original)

    def test_one_managed_comment_upserted_in_place_and_deleted(self, contract: ContractRun) -> None:
        harness = contract.harness
        key = contract.leaves()[1]
        others = harness.comments(key)
        connector = contract.open()
        first = _comment("no key result reaches this item", "see the <PMO> *report*")
        upsert = contract.op(key, OperationKind.UPSERT_COMMENT, comment=first)

        created = connector.apply(upsert)
        assert created.status is OperationStatus.APPLIED and created.writes >= 1, created
        again = connector.apply(upsert)
        assert (again.status, again.writes) == (OperationStatus.UNCHANGED, 0), _describe(again)
        assert len(contract.marked(key)) == 1, harness.comments(key)
        state: CurrentState = connector.current_state([key])[key]
        assert state.managed_comment == first.plain_text()

        second = _comment("now linked to a key result")
        updated = connector.apply(contract.op(key, OperationKind.UPSERT_COMMENT, comment=second))
        assert updated.status is OperationStatus.APPLIED, _describe(updated)
        assert len(contract.marked(key)) == 1, "the managed comment was not updated in place"
        assert connector.current_state([key])[key].managed_comment == second.plain_text()

        deleted = connector.apply(contract.op(key, OperationKind.DELETE_COMMENT))
        assert deleted.status is OperationStatus.APPLIED, _describe(deleted)
        assert contract.marked(key) == [] and harness.comments(key) == others
        assert connector.current_state([key])[key].managed_comment is None
        nothing = connector.apply(contract.op(key, OperationKind.DELETE_COMMENT))
        assert (nothing.status, nothing.writes) == (OperationStatus.UNCHANGED, 0), nothing

    def test_operations_on_a_deleted_item_are_skipped(self, contract: ContractRun) -> None:
        key = contract.leaves()[-1]
        connector = contract.open()
        assert key in connector.current_state([key])
        contract.harness.delete(key)
        ops: Sequence[Operation] = (
            contract.op(key, OperationKind.LABELS, add_labels=(contract.harness.owned_label,)),
            contract.op(key, OperationKind.UPSERT_COMMENT, comment=_comment("orphan")),
            contract.op(key, OperationKind.DELETE_COMMENT),
        )
        for op in ops:
            result = connector.apply(op)
            assert result.status is OperationStatus.SKIPPED, f"{op.kind}: {_describe(result)}"
            assert result.message, f"{op.kind}: a SKIPPED result must say why"
        assert key not in connector.current_state([key]), "current_state reports a deleted item"
