"""Carry out a write-back plan: journal, call the connector, record. No decisions here.

Each operation is journalled as *pending* in the state store before its call and closed as
*done* or *failed* after it, and what linesight now knows of the item (its labels, the hash of
its managed comment) is recorded, so the next plan is empty when nothing changed. A run killed
halfway leaves pending entries and an unchanged record; the rerun plans those operations again
and the connectors make them idempotently (labels are compared with the item's current ones, the
managed comment is found by its marker before anything is created), so it converges without
duplicates.

Per-item problems (403 on one project, a deleted item) are reported and skipped; errors that
concern a whole source stop that source's remaining operations: bad credentials stop the run,
and a source still unreachable after the retry policy gave up (connection refused, 5xx on and
on) has its remaining operations skipped, instead of each of them waiting out the retries again.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from linesight.connector import Connector
from linesight.errors import AuthError, LinesightError, TransientError, UserError
from linesight.model import Operation, OperationKind, OperationResult, OperationStatus
from linesight.store import JournalState, Store
from linesight.writeback.plan import comment_hash

__all__ = ["ApplyReport", "apply_plan", "check_cap"]

log = logging.getLogger("linesight.writeback")

Progress = Callable[[int, int], None]


@dataclass(slots=True)
class ApplyReport:
    results: list[OperationResult] = field(default_factory=list)

    @property
    def writes(self) -> int:
        return sum(r.writes for r in self.results)

    def counts(self) -> Counter[str]:
        """``{"labels:applied": 3, "upsert_comment:unchanged": 1, ...}``."""
        return Counter(f"{r.operation.kind.value}:{r.status.value}" for r in self.results)

    @property
    def failed(self) -> list[OperationResult]:
        return [r for r in self.results if r.status is OperationStatus.FAILED]

    @property
    def skipped(self) -> list[OperationResult]:
        return [r for r in self.results if r.status is OperationStatus.SKIPPED]


def check_cap(operations: Sequence[Operation], max_writes: int, *, force: bool) -> None:
    """Refuse a plan larger than the cap, so a bad config cannot relabel a whole site."""
    if len(operations) > max_writes and not force:
        raise UserError(
            f"the plan has {len(operations)} operations, more than max_writes = {max_writes}; "
            "check the plan with 'linesight plan', then raise writeback.max_writes or pass "
            "--force"
        )


def _record(store: Store, op: Operation, result: OperationResult) -> None:
    if result.status not in (OperationStatus.APPLIED, OperationStatus.UNCHANGED):
        return
    if op.kind is OperationKind.LABELS:
        store.update_labels(
            op.source, op.key, add=op.add_labels, remove=op.remove_labels, exact=result.labels
        )
    elif op.kind is OperationKind.UPSERT_COMMENT and op.comment is not None:
        store.remember_comment(op.source, op.key, result.comment_id or "", comment_hash(op.comment))
    elif op.kind is OperationKind.DELETE_COMMENT:
        store.forget_comment(op.source, op.key)


def _apply_one(store: Store, connector: Connector, op: Operation) -> OperationResult:
    entry = store.journal_begin(op)
    try:
        result = connector.apply(op)
    except AuthError:
        store.journal_finish(entry, JournalState.FAILED, "credentials or permissions")
        raise
    except TransientError as exc:
        store.journal_finish(entry, JournalState.FAILED, str(exc))
        raise  # retries exhausted: the caller stops this source
    except LinesightError as exc:
        store.journal_finish(entry, JournalState.FAILED, str(exc))
        return OperationResult(operation=op, status=OperationStatus.FAILED, message=str(exc))
    _record(store, op, result)
    state = JournalState.FAILED if result.status is OperationStatus.FAILED else JournalState.DONE
    store.journal_finish(entry, state, f"{result.status.value}: {result.message}".strip(": "))
    return result


def apply_plan(
    operations: Sequence[Operation],
    connectors: Mapping[str, Connector],
    store: Store,
    *,
    concurrency: Mapping[str, int] | None = None,
    progress: Progress | None = None,
) -> ApplyReport:
    """Make the operations, each source's in parallel (bounded), and report every result.

    The operations of one item run in order on one worker, so an item's label change and its
    comment never race.
    """
    report = ApplyReport()
    done = 0
    by_source: dict[str, dict[str, list[Operation]]] = {}
    for op in operations:
        by_source.setdefault(op.source, {}).setdefault(op.key, []).append(op)

    unreachable: dict[str, str] = {}  # source -> why its remaining operations are skipped

    def run_item(connector: Connector, ops: list[Operation]) -> list[OperationResult]:
        results: list[OperationResult] = []
        for op in ops:
            why = unreachable.get(op.source)
            if why is not None:
                results.append(
                    OperationResult(operation=op, status=OperationStatus.SKIPPED, message=why)
                )
                continue
            try:
                results.append(_apply_one(store, connector, op))
            except TransientError as exc:
                why = f"not attempted: source '{op.source}' is unreachable ({exc})"
                if unreachable.setdefault(op.source, why) is why:
                    log.error("write-back to '%s' stopped: %s", op.source, exc)
                results.append(
                    OperationResult(operation=op, status=OperationStatus.FAILED, message=str(exc))
                )
        return results

    for source, items in by_source.items():
        connector = connectors.get(source)
        if connector is None:
            for ops in items.values():
                report.results.extend(
                    OperationResult(
                        operation=op,
                        status=OperationStatus.SKIPPED,
                        message=f"source '{source}' is not configured",
                    )
                    for op in ops
                )
            continue
        workers = max(1, (concurrency or {}).get(source, 4))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix=f"apply-{source}") as pool:
            futures = [pool.submit(run_item, connector, ops) for ops in items.values()]
            try:
                for future in futures:
                    results = future.result()
                    report.results.extend(results)
                    done += len(results)
                    if progress is not None:
                        progress(done, len(operations))
            except AuthError as exc:
                for pending in futures:
                    pending.cancel()
                log.error("write-back to '%s' stopped: %s", source, exc)
                raise
    return report
