"""The nightly job, step by step: sync -> analyse -> outputs -> snapshot -> write-back.

Each step is a function the CLI commands share (``sync``, ``analyze``, ``report``, ``export``,
``plan``, ``apply`` and ``run`` are all made of them). Everything is computed before anything
is written (jira-agile-metrics' good habit); one failing output does not stop the others.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

from linesight.analysis import Analysis, analyze
from linesight.analysis.result import AnalysisResult
from linesight.connector import Connector, open_connector
from linesight.errors import LinesightError
from linesight.lock import RunLock
from linesight.model import ItemRef, Operation, WorkItem
from linesight.okrs import OkrFile
from linesight.settings import Settings
from linesight.store import Snapshot, Store, SyncMode
from linesight.sync import SyncProgress, SyncReport, sync_full, sync_incremental
from linesight.thresholds import Threshold, breached
from linesight.trend import compute_trend
from linesight.writeback.apply import ApplyReport, apply_plan, check_cap
from linesight.writeback.plan import ItemState, plan_writeback

if TYPE_CHECKING:
    from linesight.outputs.pmo_report import SnapshotPoint

__all__ = [
    "AnalysisRun",
    "JobOutcome",
    "TrendBaseline",
    "analyze_store",
    "apply_operations",
    "atomic_write",
    "open_connectors",
    "plan_from_store",
    "report_history",
    "run_job",
    "write_outputs",
]

log = logging.getLogger("linesight.pipeline")


def atomic_write(path: Path, text: str) -> Path:
    """Write ``text`` to ``path`` through a temporary file and a rename: never half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        Path(tmp).replace(path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


class TrendBaseline(StrEnum):
    """What the trend in a result compares with."""

    NONE = "none"  # no trend (plan, apply, export)
    LAST_SNAPSHOT = "last_snapshot"  # the nightly job: this run against the previous run
    LAST_RUN = "last_run"  # read-only commands: the change the last run saw, or since it


@dataclass(slots=True)
class AnalysisRun:
    """An analysis of the store, with what write-back planning needs to know of the items."""

    analysis: Analysis
    result: AnalysisResult  # the analysis result, with the trend since the last snapshot
    labelled: dict[ItemRef, tuple[str, ...]] = field(default_factory=dict)
    present: set[ItemRef] = field(default_factory=set)


def analyze_store(
    settings: Settings,
    okrs: OkrFile,
    store: Store,
    *,
    now: datetime | None = None,
    trend: TrendBaseline = TrendBaseline.LAST_RUN,
) -> AnalysisRun:
    """Analyse every stored item against the OKRs, with the trend against ``trend``'s baseline."""
    label = settings.writeback.orphan_label
    folded = label.casefold()
    labelled: dict[ItemRef, tuple[str, ...]] = {}
    present: set[ItemRef] = set()

    def tap(items: Iterable[WorkItem]) -> Iterator[WorkItem]:
        for item in items:
            if item.labels and any(x.casefold() == folded for x in item.labels):
                labelled[item.ref] = item.labels
            yield item

    analysis = analyze(
        okrs.objectives,
        tap(store.iter_items()),
        cycle=okrs.cycle,
        settings=settings,
        query_matches=store.query_matches(),
        now=now or datetime.now(UTC),
    )
    present.update(ItemRef(source=o.source, key=o.key) for o in analysis.result.orphans)
    result = analysis.result
    if trend is not TrendBaseline.NONE:
        previous = _baseline(store, trend)
        if previous is not None:
            try:
                before = AnalysisResult.model_validate(previous.result)
            except ValueError:
                log.warning("the previous snapshot is unreadable; no trend this time")
            else:
                change = compute_trend(result, before)
                result = result.model_copy(update={"trend": change.model_dump(mode="json")})
    return AnalysisRun(analysis=analysis, result=result, labelled=labelled, present=present)


def _baseline(store: Store, trend: TrendBaseline) -> Snapshot | None:
    latest = store.latest_snapshot()
    if trend is TrendBaseline.LAST_SNAPSHOT or latest is None:
        return latest
    synced = [s.last_success for s in store.source_states() if s.last_success is not None]
    if not synced or max(synced) <= latest.summary.created_at:
        # no sync since the last run: the data are what it analysed; show its trend
        return store.previous_snapshot()
    return latest


def plan_from_store(run: AnalysisRun, settings: Settings, store: Store) -> list[Operation]:
    """The write-back plan: what the analysis wants vs what the store knows of each item."""
    comments = store.managed_comments()
    state: dict[ItemRef, ItemState] = {}
    for ref in run.present | set(run.labelled) | set(comments):
        state[ref] = ItemState(labels=run.labelled.get(ref, ()), comment_hash=comments.get(ref))
    # items linesight remembers a comment on but that are gone from the store are left alone
    stored = store.existing(state.keys())
    state = {ref: s for ref, s in state.items() if ref in stored}
    return plan_writeback(run.result, state, settings.writeback, settings.sources)


def open_connectors(settings: Settings, names: Iterable[str]) -> dict[str, Connector]:
    """Connectors for the named sources (each fails loudly if its package is missing)."""
    connectors: dict[str, Connector] = {}
    try:
        for name in sorted(set(names)):
            connectors[name] = open_connector(settings.source(name))
    except BaseException:
        for connector in connectors.values():
            connector.close()
        raise
    return connectors


def apply_operations(
    operations: Sequence[Operation],
    settings: Settings,
    store: Store,
    *,
    force: bool = False,
    max_writes: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> ApplyReport:
    """Check the cap, open the connectors the plan needs, make the operations."""
    check_cap(
        operations, settings.writeback.max_writes if max_writes is None else max_writes, force=force
    )
    if not operations:
        return ApplyReport()
    connectors = open_connectors(settings, {op.source for op in operations})
    try:
        concurrency = {name: settings.source(name).concurrency for name in connectors}
        return apply_plan(operations, connectors, store, concurrency=concurrency, progress=progress)
    finally:
        for connector in connectors.values():
            connector.close()


def report_history(store: Store, result: AnalysisResult) -> list[SnapshotPoint]:
    """Past runs' summary numbers plus this one, oldest first, for the trend chart."""
    from linesight.outputs.pmo_report import SnapshotPoint

    history = [
        SnapshotPoint(
            at=s.created_at,
            orphan_count=s.orphan_count or 0,
            orphan_share=s.orphan_share,
            aligned_wip=s.aligned_wip or 0.0,
        )
        for s in store.snapshots(limit=90)
        if s.created_at < result.generated_at
    ]
    history.append(
        SnapshotPoint(
            at=result.generated_at,
            orphan_count=result.summary.orphan_count,
            orphan_share=result.summary.orphan_share,
            aligned_wip=result.summary.aligned_wip,
        )
    )
    return history


def write_outputs(
    settings: Settings,
    run: AnalysisRun,
    store: Store,
    out_dir: Path,
    *,
    source_errors: Mapping[str, str] | None = None,
) -> tuple[list[Path], list[str]]:
    """``analysis.json``, the report(s) and the graph export(s); returns (paths, problems).

    One failing output is reported and does not stop the others.
    """
    from linesight.outputs.graph_export import export_graph
    from linesight.outputs.pmo_report import render_report

    written: list[Path] = []
    problems: list[str] = []
    result = run.result
    analysis_json = json.dumps(result.model_dump(mode="json"), indent=2) + "\n"
    written.append(atomic_write(out_dir / "analysis.json", analysis_json))
    history = report_history(store, result)
    for fmt in settings.output.report_formats:
        try:
            text = render_report(result, fmt, history=history, source_errors=source_errors or {})
            written.append(atomic_write(out_dir / f"report.{fmt}", text))
        except (LinesightError, ValueError, OSError) as exc:
            problems.append(f"report.{fmt}: {exc}")
    for graph_fmt in settings.output.export_formats:
        try:
            text = export_graph(run.analysis.graph, graph_fmt)
            suffix = {"mermaid": "mmd", "cytoscape": "cyjs.json"}.get(graph_fmt, graph_fmt)
            written.append(atomic_write(out_dir / f"graph.{suffix}", text))
        except (LinesightError, ValueError, OSError) as exc:
            problems.append(f"graph.{graph_fmt}: {exc}")
    return written, problems


@dataclass(slots=True)
class JobOutcome:
    """Everything one nightly run did, for the CLI to print and turn into an exit code."""

    sync: SyncReport
    run: AnalysisRun
    outputs: list[Path]
    output_problems: list[str]
    snapshot_id: int
    operations: list[Operation] = field(default_factory=list)
    writeback: ApplyReport | None = None
    breaches: list[str] = field(default_factory=list)
    # planned operations not made because their source's sync failed in this run
    held_back: list[Operation] = field(default_factory=list)

    @property
    def failures(self) -> list[str]:
        """Runtime failures (exit 1): failed sources, outputs and write-back operations."""
        lines = [f"source '{r.source}': {r.error}" for r in self.sync.failed]
        lines += self.output_problems
        if self.writeback is not None:
            lines += [
                f"write-back {r.operation.kind.value} on {r.operation.source}:"
                f"{r.operation.key}: {r.message}"
                for r in self.writeback.failed
            ]
        return lines


def run_job(
    settings: Settings,
    okrs: OkrFile,
    *,
    mode: SyncMode = SyncMode.INCREMENTAL,
    apply: bool = False,
    force: bool = False,
    max_writes: int | None = None,
    thresholds: Sequence[Threshold] = (),
    output_dir: Path | None = None,
    sync_progress: SyncProgress | None = None,
    apply_progress: Callable[[int, int], None] | None = None,
    now: Callable[[], datetime] | None = None,
) -> JobOutcome:
    """The nightly job: lock, sync every source, analyse, write outputs, snapshot, write back.

    A source that fails keeps its last good data; the run goes on and reports it, and holds
    back that source's write-back (``JobOutcome.held_back``). Write-back happens only when
    ``apply`` is true (``--apply`` or ``writeback.enabled``).
    """
    clock = now or (lambda: datetime.now(UTC))
    with RunLock(settings.state_dir), Store.open(settings.state_dir) as store:
        sync = sync_full if mode is SyncMode.FULL else sync_incremental
        report = sync(
            settings, store, objectives=okrs.objectives, cycle=okrs.cycle, progress=sync_progress
        )
        run = analyze_store(settings, okrs, store, now=clock(), trend=TrendBaseline.LAST_SNAPSHOT)
        errors = {r.source: r.error or "" for r in report.failed}
        written, problems = write_outputs(
            settings, run, store, output_dir or settings.output_dir, source_errors=errors
        )
        snapshot_id = store.save_snapshot(run.result)
        outcome = JobOutcome(
            sync=report, run=run, outputs=written, output_problems=problems, snapshot_id=snapshot_id
        )
        if apply:
            outcome.operations = plan_from_store(run, settings, store)
            # A source whose sync failed has stale data (and is likely unreachable): writing
            # back to it would act on old findings, so it waits for the next good sync.
            stale = set(errors)
            outcome.held_back = [op for op in outcome.operations if op.source in stale]
            outcome.writeback = apply_operations(
                [op for op in outcome.operations if op.source not in stale],
                settings,
                store,
                force=force,
                max_writes=max_writes,
                progress=apply_progress,
            )
        outcome.breaches = breached(run.result, thresholds)
    return outcome
