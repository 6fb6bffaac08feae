"""The one table: every figure of one run side by side, with its target and verdict.

Rows are built from :class:`Results` by :func:`rows`; a measurement that could not run shows
``n/a (not built)`` (its code is missing) or ``n/a (failed: ...)``, never an invented number.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from rich.markup import escape
from rich.table import Table

from benchlib import NotBuiltError
from benchlib.analysis import AnalysisRun
from benchlib.measure import SyncRun, Timing, WritebackRun

T = TypeVar("T")

NOT_BUILT = "n/a (not built)"
PASS, FAIL = "pass", "FAIL"

JIRA_TARGET = 5.0  # x faster than the jira library's plain loop
ADO_TARGET = 20.0  # x faster than the azure-devops SDK's plain loop
INCREMENTAL_TARGET = 0.10  # share of the full sync's time
ANALYSIS_SECONDS_1M = 60.0
ANALYSIS_MIB_1M = 6 * 1024


@dataclass
class Outcome:
    """A measured value, or why there is none."""

    value: Any = None
    problem: str | None = None


@dataclass
class Results:
    """Everything one run measured, keyed by what it is."""

    jira: Outcome = field(default_factory=Outcome)
    jira_baseline: Outcome = field(default_factory=Outcome)
    ado: Outcome = field(default_factory=Outcome)
    ado_baseline: Outcome = field(default_factory=Outcome)
    full_sync: Outcome = field(default_factory=Outcome)
    churn_edits: Outcome = field(default_factory=Outcome)
    incremental: Outcome = field(default_factory=Outcome)
    writeback: Outcome = field(default_factory=Outcome)
    analysis: dict[int, Outcome] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        def plain(outcome: Outcome) -> Any:
            if outcome.problem is not None:
                return {"problem": outcome.problem}
            value = outcome.value
            return value.as_dict() if hasattr(value, "as_dict") else value

        return {
            "jira_cloud": {
                "linesight": plain(self.jira),
                "jira_library": plain(self.jira_baseline),
            },
            "azure_devops": {"linesight": plain(self.ado), "sdk": plain(self.ado_baseline)},
            "full_sync": plain(self.full_sync),
            "churn_edits": plain(self.churn_edits),
            "incremental_sync": plain(self.incremental),
            "writeback": plain(self.writeback),
            "analysis": {str(n): plain(o) for n, o in sorted(self.analysis.items())},
        }


@dataclass(frozen=True)
class Row:
    key: str  # stable name, for tests and the JSON
    what: str
    linesight: str
    baseline: str = ""
    ratio: str = ""
    target: str = ""
    verdict: str = ""


def shown(outcome: Outcome, render: Callable[[Any], str]) -> str:
    if outcome.problem is not None:
        return outcome.problem
    if outcome.value is None:
        return "n/a (not run)"
    return render(outcome.value)


def _secs(seconds: float) -> str:
    return f"{seconds:,.1f} s" if seconds >= 10 else f"{seconds:,.2f} s"


def _time_with_bound(t: Timing) -> str:
    median = f"median of {len(t.runs_s)}, " if len(t.runs_s) > 1 else ""
    return f"{_secs(t.seconds)} ({median}bound {_secs(t.lower_bound_s)})"


def _cpu(t: Timing) -> str:
    if t.client_cpu_s is None:
        return ""
    sandbox = f", sandbox {_secs(t.server_cpu_s)}" if t.server_cpu_s is not None else ""
    return f"; CPU {_secs(t.client_cpu_s)}{sandbox}"


def _speedup_row(key: str, what: str, ours: Outcome, theirs: Outcome, target: float) -> list[Row]:
    ratio = verdict = ""
    if isinstance(ours.value, Timing) and isinstance(theirs.value, Timing) and ours.value.seconds:
        speedup = theirs.value.seconds / ours.value.seconds
        ratio = f"{speedup:,.1f}x faster"
        verdict = PASS if speedup >= target else FAIL
    items = ""
    if isinstance(ours.value, Timing):
        items = f", {ours.value.items:,} items"
        if isinstance(theirs.value, Timing) and theirs.value.items != ours.value.items:
            items = f", {ours.value.items:,} vs {theirs.value.items:,} items"
    return [
        Row(
            key,
            f"{what} full read{items}",
            shown(ours, _time_with_bound),
            shown(theirs, _time_with_bound),
            ratio,
            f">= {target:g}x",
            verdict,
        ),
        Row(
            f"{key}_requests",
            "  requests per 1,000 items; CPU used",
            shown(ours, lambda t: f"{t.per_1000:,.1f} ({t.requests:,} req){_cpu(t)}"),
            shown(theirs, lambda t: f"{t.per_1000:,.1f} ({t.requests:,} req){_cpu(t)}"),
        ),
    ]


def rows(results: Results, analysis_sizes: tuple[int, ...]) -> list[Row]:
    """Every row of the table, in order; one per measurement whether it ran or not."""
    table = [
        *_speedup_row("jira", "Jira Cloud", results.jira, results.jira_baseline, JIRA_TARGET),
        *_speedup_row("ado", "Azure DevOps", results.ado, results.ado_baseline, ADO_TARGET),
    ]

    def full(run: SyncRun) -> str:
        t = run.timing
        text = f"{_time_with_bound(t)}, {t.requests:,} req ({t.per_1000:,.1f} / 1k){_cpu(t)}"
        return text + (f"; errors: {'; '.join(run.errors)}" if run.errors else "")

    def incremental(run: SyncRun) -> str:
        t = run.timing
        text = f"{_time_with_bound(t)}, {t.requests:,} req, {t.items:,} fetched{_cpu(t)}"
        return text + (f"; errors: {'; '.join(run.errors)}" if run.errors else "")

    table.append(
        Row(
            "full_sync",
            "sync_full, all sources"
            + (
                f", {results.full_sync.value.timing.items:,} items"
                if isinstance(results.full_sync.value, SyncRun)
                else ""
            ),
            shown(results.full_sync, full),
        )
    )
    ratio = verdict = ""
    if isinstance(results.full_sync.value, SyncRun) and isinstance(
        results.incremental.value, SyncRun
    ):
        share = results.incremental.value.timing.seconds / results.full_sync.value.timing.seconds
        ratio = f"{share:.1%} of full"
        verdict = PASS if share < INCREMENTAL_TARGET else FAIL
    edits = results.churn_edits.value
    table.append(
        Row(
            "incremental",
            "sync_incremental after churn"
            + (f" ({edits:,} edited)" if isinstance(edits, int) else ""),
            shown(results.incremental, incremental),
            "",
            ratio,
            f"< {INCREMENTAL_TARGET:.0%} of full",
            verdict,
        )
    )

    per_item: list[float] = []
    for size in analysis_sizes:
        outcome = results.analysis.get(size, Outcome())
        ratio = verdict = target = ""
        if isinstance(outcome.value, AnalysisRun):
            run = outcome.value
            per_item.append(run.seconds / run.items)
            ratio = f"{run.seconds * 100_000 / run.items:.2f} s / 100k items"
            if size >= 1_000_000:
                target = "< 60 s, < 6 GiB"
                ok = run.seconds < ANALYSIS_SECONDS_1M and run.peak_mib < ANALYSIS_MIB_1M
                verdict = PASS if ok else FAIL
        table.append(
            Row(
                f"analysis_{size}",
                f"analysis, {size:,} items, {_krs(size):,} KRs",
                shown(outcome, _analysis_text),
                "",
                ratio,
                target,
                verdict,
            )
        )
    growth = ""
    verdict = ""
    timed = [t for t in per_item if t > 0]  # bench_analysis prints 10 ms steps
    if len(timed) >= 2:
        factor = timed[-1] / timed[0]
        growth = f"time per item x{factor:.2f}, smallest to largest size"
        verdict = PASS if factor < 2.0 else FAIL
    table.append(
        Row(
            "analysis_linearity",
            "analysis: linear in items",
            growth or "n/a (needs two sizes that take >= 10 ms)",
            "",
            "",
            "per-item time within 2x",
            verdict,
        )
    )

    wb = results.writeback
    ratio = verdict = ""
    if isinstance(wb.value, WritebackRun):
        equal = wb.value.write_calls == wb.value.changes and not wb.value.failed
        ratio = "equal" if equal else f"{wb.value.write_calls - wb.value.changes:+,} calls"
        verdict = PASS if equal else FAIL
    table.append(
        Row(
            "writeback",
            "write-back: write calls vs changes",
            shown(
                wb,
                lambda w: (
                    f"{w.write_calls:,} calls for {w.operations:,} operations"
                    + (f", {w.failed} failed" if w.failed else "")
                ),
            ),
            shown(
                wb,
                lambda w: (
                    f"{w.changes:,} changes ({w.label_changes:,} labels, "
                    f"{w.comment_changes:,} comments)"
                ),
            ),
            ratio,
            "equal",
            verdict,
        )
    )
    ok_second = isinstance(wb.value, WritebackRun) and wb.value.second_write_calls == 0
    table.append(
        Row(
            "writeback_rerun",
            "write-back: 2nd apply after a sync",
            shown(
                wb, lambda w: f"{w.second_write_calls:,} write calls ({w.second_operations:,} ops)"
            ),
            "",
            "",
            "0 writes",
            (PASS if ok_second else FAIL) if isinstance(wb.value, WritebackRun) else "",
        )
    )
    ok_foreign = isinstance(wb.value, WritebackRun) and wb.value.foreign_label_changes == 0
    table.append(
        Row(
            "writeback_foreign",
            "write-back: other labels changed",
            shown(wb, lambda w: f"{w.foreign_label_changes:,}"),
            "",
            "",
            "0",
            (PASS if ok_foreign else FAIL) if isinstance(wb.value, WritebackRun) else "",
        )
    )
    return table


def _krs(items: int) -> int:
    from benchlib.analysis import krs_for

    return krs_for(items)


def _analysis_text(run: AnalysisRun) -> str:
    return f"{_secs(run.seconds)}, peak RSS {run.peak_mib:,.0f} MiB"


def render(table_rows: list[Row], title: str, caption: str) -> Table:
    """The rich table."""
    table = Table(title=title, caption=caption, title_justify="left", caption_justify="left")
    table.add_column("measure", no_wrap=True)
    table.add_column("linesight")
    table.add_column("plain library loop / truth")
    table.add_column("ratio")
    table.add_column("target")
    table.add_column("ok")
    for row in table_rows:
        style = "red" if row.verdict == FAIL else None
        verdict = {PASS: "[green]pass[/]", FAIL: "[red]FAIL[/]"}.get(row.verdict, row.verdict)
        cells = (row.what, row.linesight, row.baseline, row.ratio, row.target)
        # tracker error messages may hold [brackets] that rich would read as markup
        table.add_row(*map(escape, cells), verdict, style=style)
    return table


def attempt(run: Callable[[], T]) -> Outcome:
    """Run one measurement; a missing piece is ``not built``, a failure says what failed."""
    from linesight.errors import UnknownConnectorError

    try:
        return Outcome(value=run())
    except (ImportError, NotBuiltError, UnknownConnectorError):
        return Outcome(problem=NOT_BUILT)
    except AttributeError as exc:
        # one module calling a function another engineer has not landed yet
        return Outcome(problem=f"{NOT_BUILT[:-1]}: {' '.join(str(exc).split())[:120]})")
    except Exception as exc:  # one broken measurement must not hide the others
        message = " ".join(str(exc).split())[:160]
        return Outcome(problem=f"n/a (failed: {type(exc).__name__}: {message})")
