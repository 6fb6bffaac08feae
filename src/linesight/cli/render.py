"""Rich views shared by the commands: the summary, objectives, diagnostics, sync and plan."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table
from rich.text import Text

from linesight.analysis.result import AnalysisResult
from linesight.cli.common import err_console, interactive
from linesight.model import Operation
from linesight.sync import SyncProgress, SyncReport
from linesight.writeback.apply import ApplyReport

__all__ = [
    "count_progress",
    "print_analysis",
    "print_apply",
    "print_plan",
    "print_sync",
    "sync_progress",
]


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value:.0%}"


def _num(value: float | None, digits: int = 1) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def print_analysis(console: Console, result: AnalysisResult) -> None:
    """The summary, the objectives against their limits, and the diagnostics."""
    s = result.summary
    head = Table.grid(padding=(0, 2))
    head.add_column(style="bold")
    head.add_column()
    head.add_row("cycle", result.cycle)
    head.add_row(
        "work items", f"{s.work_items} ({s.in_scope} in scope, {s.in_progress} in progress)"
    )
    head.add_row("orphans", f"{s.orphan_count} ({_pct(s.orphan_share)} of open work)")
    head.add_row("unsupported key results", str(s.unsupported_kr_count))
    head.add_row("aligned WIP", f"{s.aligned_wip:g} of {s.wip} ({_pct(s.aligned_wip_share)})")
    trend = result.trend or {}
    if trend:
        head.add_row(
            "since last run",
            f"{len(trend.get('new_orphans', []))} new orphans, "
            f"{len(trend.get('resolved_orphans', []))} resolved",
        )
    console.print(head)

    table = Table(title="Objectives", title_justify="left", show_edge=False)
    table.add_column("objective", overflow="fold")
    for column in ("WIP", "limit", "done/wk", "lead d", "age p50/p85 d"):
        table.add_column(column, justify="right", no_wrap=True, min_width=len(column))
    for o in result.objectives:
        if not o.active:
            continue
        wip = Text(f"{o.effective_wip:g}", style="bold red" if o.over_limit else "")
        table.add_row(
            f"{o.id} {o.title}",
            wip,
            "–" if o.wip_limit is None else str(o.wip_limit),
            _num(o.throughput_per_week),
            _num(o.lead_time_days),
            f"{_num(o.wip_age_p50_days)}/{_num(o.wip_age_p85_days)}",
        )
    console.print(table)
    unsupported = [kr for kr in result.key_results if kr.status != "supported"]
    if unsupported:
        krs = Table(
            title="Key results without work behind them", title_justify="left", show_edge=False
        )
        krs.add_column("key result")
        krs.add_column("status")
        krs.add_column("why")
        for kr in unsupported:
            krs.add_row(f"{kr.id} {kr.title}", kr.status, kr.status_reason)
        console.print(krs)
    if result.diagnostics:
        diag = Table(title="Diagnostics", title_justify="left", show_edge=False)
        diag.add_column("severity")
        diag.add_column("code")
        diag.add_column("message", overflow="fold")
        colour = {"error": "red", "warning": "yellow", "info": "cyan"}
        for d in result.diagnostics:
            diag.add_row(Text(d.severity, style=colour[d.severity]), d.code, d.message)
        console.print(diag)


def print_sync(console: Console, report: SyncReport) -> None:
    table = Table(title="Sync", title_justify="left", show_edge=False)
    for column in ("source", "mode", "fetched", "changed", "removed", "seconds", "result"):
        table.add_column(
            column, justify="right" if column not in ("source", "mode", "result") else "left"
        )
    for r in report.sources:
        result = Text("ok", style="green") if r.ok else Text(f"FAILED: {r.error}", style="red")
        table.add_row(
            r.source,
            r.mode.value,
            str(r.fetched),
            str(r.changed),
            str(r.removed),
            f"{r.duration_s:.1f}",
            result,
        )
    console.print(table)


def print_plan(console: Console, operations: Sequence[Operation]) -> None:
    if not operations:
        console.print("nothing to write back: every item already carries what it should")
        return
    table = Table(
        title=f"Write-back plan: {len(operations)} operations",
        title_justify="left",
        show_edge=False,
    )
    for column in ("source", "item", "operation", "why"):
        table.add_column(column)
    for op in operations:
        what = op.kind.value
        if op.add_labels:
            what += " +" + ", +".join(op.add_labels)
        if op.remove_labels:
            what += " -" + ", -".join(op.remove_labels)
        table.add_row(op.source, op.key, what, op.reason)
    console.print(table)


@contextmanager
def sync_progress() -> Iterator[SyncProgress | None]:
    """A progress bar per source on a terminal; nothing in cron or CI."""
    if not interactive():
        yield None
        return
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=err_console, transient=True) as progress:
        tasks: dict[str, TaskID] = {}

        def update(source: str, done: int, total: int | None) -> None:
            if source not in tasks:
                tasks[source] = progress.add_task(f"sync {source}", total=total)
            progress.update(tasks[source], completed=done, total=total)

        yield update


@contextmanager
def count_progress(label: str) -> Iterator[object]:
    """A single bar (write-back) on a terminal; ``None`` elsewhere."""
    if not interactive():
        yield None
        return
    with Progress(
        TextColumn(label), BarColumn(), MofNCompleteColumn(), console=err_console, transient=True
    ) as progress:
        task = progress.add_task(label, total=None)

        def update(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        yield update


def print_apply(console: Console, report: ApplyReport) -> None:
    """Counts per operation kind and outcome, then every problem."""
    if not report.results:
        console.print("write-back: nothing to change")
        return
    counts = ", ".join(f"{n} {kind}" for kind, n in sorted(report.counts().items()))
    console.print(f"write-back: {report.writes} write calls ({counts})")
    for r in report.skipped + report.failed:
        op = r.operation
        console.print(
            f"  [yellow]{r.status.value}[/] {op.source}:{op.key} {op.kind.value}: {r.message}",
            highlight=False,
        )
