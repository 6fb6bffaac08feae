"""``linesight plan`` and ``linesight apply``: the write-back, shown and made."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from linesight.cli.common import (
    EXIT_FAILURE,
    ConfigOpt,
    console,
    exits_cleanly,
    load_with_okrs,
)
from linesight.cli.options import OkrsOpt, PlanFormat
from linesight.cli.render import count_progress, print_apply, print_plan
from linesight.lock import RunLock
from linesight.pipeline import TrendBaseline, analyze_store, apply_operations, plan_from_store
from linesight.store import Store

MaxWritesOpt = Annotated[
    int | None,
    typer.Option("--max-writes", min=0, help="Refuse plans bigger than this (default: settings)."),
]
ForceOpt = Annotated[bool, typer.Option("--force", help="Apply a plan bigger than the cap.")]


@exits_cleanly
def plan(
    config: ConfigOpt = None,
    okrs: OkrsOpt = None,
    fmt: Annotated[PlanFormat, typer.Option("--format", "-f", help="table or json")] = (
        PlanFormat.TABLE
    ),
) -> None:
    """Show the labels/tags and comments a write-back would change (changes nothing).

    Example: linesight plan --format json | jq '.[].kind'
    """
    settings, okr_file = load_with_okrs(config, okrs)
    with Store.open(settings.state_dir) as store:
        run = analyze_store(settings, okr_file, store, trend=TrendBaseline.NONE)
        operations = plan_from_store(run, settings, store)
    if fmt is PlanFormat.JSON:
        typer.echo(json.dumps([op.model_dump(mode="json") for op in operations], indent=2))
    else:
        print_plan(console, operations)


@exits_cleanly
def apply(
    config: ConfigOpt = None,
    okrs: OkrsOpt = None,
    max_writes: MaxWritesOpt = None,
    force: ForceOpt = False,
) -> None:
    """Make the write-back: the orphan label/tag and one managed comment per item.

    Example: linesight apply --max-writes 200
    """
    settings, okr_file = load_with_okrs(config, okrs)
    with RunLock(settings.state_dir), Store.open(settings.state_dir) as store:
        run = analyze_store(settings, okr_file, store, trend=TrendBaseline.NONE)
        operations = plan_from_store(run, settings, store)
        with count_progress("write-back") as progress:
            report = apply_operations(
                operations,
                settings,
                store,
                force=force,
                max_writes=max_writes,
                progress=progress,  # type: ignore[arg-type]
            )
    print_apply(console, report)
    if report.failed:
        raise typer.Exit(EXIT_FAILURE)
