"""The contract suite itself: each contract fails on a connector with the bug it guards against.

Every case wraps the real Jira Cloud connector in a proxy with one planted bug and runs one
contract against it; the contract must fail. A suite that passes a broken connector is no suite.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any, ClassVar

import pytest

from contract.harnesses import JiraHarness, serve
from linesight.connector import Check, Connector, CurrentState, Progress, Watermark
from linesight.errors import AuthError, QueryError, TrackerError
from linesight.model import Operation, OperationKind, OperationResult, OperationStatus, WorkItem
from linesight.testing.contract import ConnectorContract, ContractRun


class Proxy:
    """The real connector, forwarded; each subclass below plants one bug."""

    def __init__(self, inner: Connector, harness: BuggyHarness, token: str | None) -> None:
        self.inner = inner
        self.harness = harness
        self.token = token

    def fetch(
        self, since: Watermark | None, progress: Progress | None = None
    ) -> Iterator[WorkItem]:
        return self.inner.fetch(since, progress)

    def list_keys(self) -> set[str]:
        return self.inner.list_keys()

    def match(self, query: str) -> set[str]:
        return self.inner.match(query)

    def current_state(self, keys: Iterable[str]) -> dict[str, CurrentState]:
        return self.inner.current_state(keys)

    def apply(self, op: Operation) -> OperationResult:
        return self.inner.apply(op)

    def check(self) -> list[Check]:
        return self.inner.check()

    def close(self) -> None:
        self.inner.close()


class NotAConnector:
    def __init__(self, inner: Connector, harness: BuggyHarness, token: str | None) -> None:
        self.inner = inner

    def fetch(
        self, since: Watermark | None, progress: Progress | None = None
    ) -> Iterator[WorkItem]:
        return self.inner.fetch(since, progress)

    def close(self) -> None:
        self.inner.close()


class DuplicatesAnItem(Proxy):
    def fetch(
        self, since: Watermark | None, progress: Progress | None = None
    ) -> Iterator[WorkItem]:
        items = list(self.inner.fetch(since, progress))
        return iter([*items, items[0]])


class LosesAnItem(Proxy):
    def fetch(
        self, since: Watermark | None, progress: Progress | None = None
    ) -> Iterator[WorkItem]:
        return iter(list(self.inner.fetch(since, progress))[:-1])


class Mapped(Proxy):
    change: ClassVar[dict[str, Any]] = {}

    def fetch(
        self, since: Watermark | None, progress: Progress | None = None
    ) -> Iterator[WorkItem]:
        for item in self.inner.fetch(since, progress):
            values = {k: v(item) if callable(v) else v for k, v in self.change.items()}
            yield item.model_copy(update=values)


class RelativeUrls(Mapped):
    change: ClassVar[dict[str, Any]] = {"url": lambda i: f"/browse/{i.key}"}


class WrongSource(Mapped):
    change: ClassVar[dict[str, Any]] = {"source": "jira"}


class ParentIds(Mapped):
    change: ClassVar[dict[str, Any]] = {"parent": lambda i: i.parent and f"id-{i.parent}"}


class ListKeysMissesOne(Proxy):
    def list_keys(self) -> set[str]:
        return set(sorted(self.inner.list_keys())[1:])


class ProgressStopsEarly(Proxy):
    def fetch(
        self, since: Watermark | None, progress: Progress | None = None
    ) -> Iterator[WorkItem]:
        calls: list[tuple[int, int | None]] = []
        items = list(self.inner.fetch(since, lambda done, total: calls.append((done, total))))
        for done, total in calls[:-1]:  # the last page is never reported
            assert progress is not None
            progress(done - 1, total)
        return iter(items)


class IgnoresSince(Proxy):
    def fetch(
        self, since: Watermark | None, progress: Progress | None = None
    ) -> Iterator[WorkItem]:
        return self.inner.fetch(None, progress)


class MissesRecentEdits(Proxy):
    def fetch(
        self, since: Watermark | None, progress: Progress | None = None
    ) -> Iterator[WorkItem]:
        later = None if since is None else Watermark(since=since.since.replace(year=2100))
        return self.inner.fetch(later, progress)


class KeysSeenByFetch(Proxy):
    seen: ClassVar[set[str]] = set()

    def fetch(
        self, since: Watermark | None, progress: Progress | None = None
    ) -> Iterator[WorkItem]:
        for item in self.inner.fetch(since, progress):
            self.seen.add(item.key)
            yield item

    def list_keys(self) -> set[str]:
        return set(self.seen)


class MatchIgnoresQuery(Proxy):
    def match(self, query: str) -> set[str]:
        return self.inner.list_keys()


class QueryErrorWithoutSource(Proxy):
    def match(self, query: str) -> set[str]:
        try:
            return self.inner.match(query)
        except QueryError:
            raise QueryError("the tracker refused the query") from None


class MatchSwallowsErrors(Proxy):
    def match(self, query: str) -> set[str]:
        try:
            return self.inner.match(query)
        except QueryError:
            return set()


class LeaksTheToken(Proxy):
    def fetch(
        self, since: Watermark | None, progress: Progress | None = None
    ) -> Iterator[WorkItem]:
        try:
            yield from self.inner.fetch(since, progress)
        except AuthError as exc:
            raise AuthError(f"{exc} (token {self.token})", status=401) from None


class AuthAsTrackerError(Proxy):
    def list_keys(self) -> set[str]:
        try:
            return self.inner.list_keys()
        except AuthError as exc:
            raise TrackerError(str(exc)) from None


class NoChecks(Proxy):
    def check(self) -> list[Check]:
        return []


class ChecksAlwaysPass(Proxy):
    def check(self) -> list[Check]:
        return [Check("credentials", True, "looks fine")]


class CloseTwiceFails(Proxy):
    closed = False

    def close(self) -> None:
        if self.closed:
            raise RuntimeError("already closed")
        self.closed = True
        self.inner.close()


class RemovesForeignLabels(Proxy):
    def apply(self, op: Operation) -> OperationResult:
        if op.kind is OperationKind.LABELS and op.add_labels:
            foreign = (*op.remove_labels, self.harness.foreign_label)
            op = op.model_copy(update={"remove_labels": foreign})
        return self.inner.apply(op)


class AlwaysWrites(Proxy):
    kind = OperationKind.LABELS

    def apply(self, op: Operation) -> OperationResult:
        result = self.inner.apply(op)
        if op.kind is self.kind:
            status = OperationStatus.APPLIED
            return result.model_copy(update={"status": status, "writes": result.writes or 1})
        return result


class UpsertAlwaysWrites(AlwaysWrites):
    kind = OperationKind.UPSERT_COMMENT


class DeleteCommentDoesNothing(Proxy):
    def apply(self, op: Operation) -> OperationResult:
        if op.kind is OperationKind.DELETE_COMMENT:
            return OperationResult(operation=op, status=OperationStatus.APPLIED, writes=1)
        return self.inner.apply(op)


class RaisesOnMissingItems(Proxy):
    def apply(self, op: Operation) -> OperationResult:
        result = self.inner.apply(op)
        if result.status is OperationStatus.SKIPPED:
            raise TrackerError(f"{op.key}: 404", status=404)
        return result


class BuggyHarness(JiraHarness):
    """The Jira Cloud harness, handing out connectors with a planted bug."""

    bug: type[Any] = Proxy

    def connector(self, *, token: str | None = None) -> Connector:
        built: Connector = self.bug(super().connector(token=token), self, token)
        return built


@pytest.fixture(scope="module")
def harness() -> Iterator[BuggyHarness]:
    with serve() as server:
        yield BuggyHarness(server, "cloud")


FAILED = pytest.fail.Exception  # what pytest.raises() raises when nothing was raised

CASES = [
    ("test_the_factory_builds_a_connector", NotAConnector, AssertionError),
    ("test_fetch_returns_every_in_scope_item_exactly_once", DuplicatesAnItem, AssertionError),
    ("test_fetch_returns_every_in_scope_item_exactly_once", LosesAnItem, AssertionError),
    ("test_fetched_items_are_valid_work_items", RelativeUrls, AssertionError),
    ("test_fetched_items_are_valid_work_items", WrongSource, AssertionError),
    ("test_fetched_items_are_valid_work_items", ParentIds, AssertionError),
    ("test_list_keys_equals_the_keys_of_a_full_fetch", ListKeysMissesOne, AssertionError),
    ("test_progress_counts_up_to_the_number_of_items", ProgressStopsEarly, AssertionError),
    ("test_incremental_fetch_returns_the_edited_item", IgnoresSince, AssertionError),
    ("test_incremental_fetch_returns_the_edited_item", MissesRecentEdits, AssertionError),
    ("test_a_deleted_item_leaves_list_keys", KeysSeenByFetch, AssertionError),
    ("test_match_returns_the_keys_the_query_matches", MatchIgnoresQuery, AssertionError),
    (
        "test_an_invalid_query_is_a_query_error_naming_the_source",
        QueryErrorWithoutSource,
        AssertionError,
    ),
    ("test_an_invalid_query_is_a_query_error_naming_the_source", MatchSwallowsErrors, FAILED),
    ("test_wrong_credentials_are_an_auth_error_without_the_token", LeaksTheToken, AssertionError),
    (
        "test_wrong_credentials_are_an_auth_error_without_the_token",
        AuthAsTrackerError,
        TrackerError,
    ),
    ("test_check_is_all_ok_against_a_healthy_tracker", NoChecks, AssertionError),
    ("test_check_reports_wrong_credentials_with_a_fix", ChecksAlwaysPass, AssertionError),
    ("test_close_may_be_called_twice", CloseTwiceFails, RuntimeError),
    ("test_labels_touch_only_the_owned_label_and_converge", RemovesForeignLabels, AssertionError),
    ("test_labels_touch_only_the_owned_label_and_converge", AlwaysWrites, AssertionError),
    ("test_one_managed_comment_upserted_in_place_and_deleted", UpsertAlwaysWrites, AssertionError),
    (
        "test_one_managed_comment_upserted_in_place_and_deleted",
        DeleteCommentDoesNothing,
        AssertionError,
    ),
    ("test_operations_on_a_deleted_item_are_skipped", RaisesOnMissingItems, TrackerError),
]


@pytest.mark.parametrize(
    ("contract_test", "bug", "failure"), CASES, ids=[f"{c[0][5:]}-{c[1].__name__}" for c in CASES]
)
def test_the_contract_fails_on_a_planted_bug(
    harness: BuggyHarness,
    caplog: pytest.LogCaptureFixture,
    contract_test: str,
    bug: type[Any],
    failure: type[BaseException],
) -> None:
    KeysSeenByFetch.seen.clear()
    harness.reset()
    suite = ConnectorContract()
    method = getattr(suite, contract_test)
    arguments: dict[str, Any] = (
        {"caplog": caplog} if "caplog" in method.__code__.co_varnames else {}
    )

    harness.bug = Proxy  # the same contract passes on the real connector...
    run = ContractRun(harness)
    try:
        method(run, **arguments)
    finally:
        run.close()

    harness.reset()
    harness.bug = bug  # ...and fails once the bug is planted
    run = ContractRun(harness)
    try:
        with pytest.raises(failure):
            method(run, **arguments)
    finally:
        harness.bug = Proxy
        run.close()
