"""``linesight run``: the nightly job — sync, analyse, report, export, write back."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from linesight.cli.common import (
    EXIT_FAILURE,
    EXIT_THRESHOLD,
    ConfigOpt,
    console,
    err_console,
    exits_cleanly,
    load_with_okrs,
)
from linesight.cli.options import FailOnOpt, OkrsOpt
from linesight.cli.render import (
    count_progress,
    print_analysis,
    print_apply,
    print_sync,
    sync_progress,
)
from linesight.cli.writeback import ForceOpt, MaxWritesOpt
from linesight.okrs import OkrFile
from linesight.pipeline import JobOutcome, run_job
from linesight.settings import Settings
from linesight.store import SyncMode
from linesight.thresholds import Threshold, parse_thresholds


def execute(
    settings: Settings,
    okrs: OkrFile,
    *,
    mode: SyncMode,
    apply: bool,
    force: bool = False,
    max_writes: int | None = None,
    thresholds: list[Threshold] | None = None,
    out: Console = console,
) -> JobOutcome:
    """Run the job with progress bars (on a terminal) and print what it did."""
    with sync_progress() as sync_bar, count_progress("write-back") as apply_bar:
        outcome = run_job(
            settings,
            okrs,
            mode=mode,
            apply=apply,
            force=force,
            max_writes=max_writes,
            thresholds=thresholds or [],
            sync_progress=sync_bar,
            apply_progress=apply_bar,  # type: ignore[arg-type]
        )
    print_sync(out, outcome.sync)
    print_analysis(out, outcome.run.result)
    if outcome.writeback is not None:
        print_apply(out, outcome.writeback)
    elif not apply:
        out.print("write-back: dry run (use --apply or writeback.enabled to write)")
    for source, count in sorted(Counter(op.source for op in outcome.held_back).items()):
        out.print(
            f"write-back to '{source}' held back ({count} operations): its sync failed, so its "
            "data may be stale; the next run that syncs it catches up"
        )
    out.print(
        f"outputs in [bold]{settings.output_dir}[/]: " + ", ".join(p.name for p in outcome.outputs)
    )
    return outcome


def exit_code(outcome: JobOutcome) -> int:
    for line in outcome.failures:
        err_console.print(f"[bold red]failed:[/] {line}", highlight=False)
    for line in outcome.breaches:
        err_console.print(f"[bold red]threshold breached:[/] {line}", highlight=False)
    if outcome.failures:
        return EXIT_FAILURE
    return EXIT_THRESHOLD if outcome.breaches else 0


@exits_cleanly
def run(
    config: ConfigOpt = None,
    okrs: OkrsOpt = None,
    full: Annotated[bool, typer.Option("--full", help="Full sync instead of incremental.")] = False,
    apply: Annotated[
        bool, typer.Option("--apply", help="Write back (default: writeback.enabled).")
    ] = False,
    force: ForceOpt = False,
    max_writes: MaxWritesOpt = None,
    fail_on: FailOnOpt = None,
    output_dir: Annotated[
        Path | None, typer.Option("--output-dir", help="Where outputs go (default: settings).")
    ] = None,
) -> None:
    """The nightly job: sync every source, analyse, write analysis.json, the report and the
    graph export, and write back when asked. Exit 1 if a source or a write failed, 3 if a
    --fail-on threshold was breached.

    Example: linesight run --apply --fail-on 'orphan_share>0.25'
    """
    settings, okr_file = load_with_okrs(config, okrs, output_dir=output_dir)
    thresholds = parse_thresholds(fail_on or ())
    outcome = execute(
        settings,
        okr_file,
        mode=SyncMode.FULL if full else SyncMode.INCREMENTAL,
        apply=apply or settings.writeback.enabled,
        force=force,
        max_writes=max_writes,
        thresholds=thresholds,
    )
    code = exit_code(outcome)
    if code:
        raise typer.Exit(code)
