"""``linesight sync``: bring the state store up to date with every source."""

from __future__ import annotations

from typing import Annotated

import typer

from linesight.cli.common import (
    EXIT_FAILURE,
    ConfigOpt,
    console,
    exits_cleanly,
    load_with_okrs,
)
from linesight.cli.options import OkrsOpt
from linesight.cli.render import print_sync, sync_progress
from linesight.lock import RunLock
from linesight.store import Store
from linesight.sync import sync_full, sync_incremental


@exits_cleanly
def sync(
    config: ConfigOpt = None,
    okrs: OkrsOpt = None,
    full: Annotated[
        bool, typer.Option("--full", help="Re-read every item instead of what changed.")
    ] = False,
    source: Annotated[
        list[str] | None, typer.Option("--source", "-s", help="Only this source (repeatable).")
    ] = None,
) -> None:
    """Sync every source into the state store: what changed since the last sync, or --full.

    Example: linesight sync --source pay --full
    """
    settings, okr_file = load_with_okrs(config, okrs)
    for name in source or ():
        settings.source(name)  # unknown names: a clear error before anything starts
    run = sync_full if full else sync_incremental
    with (
        RunLock(settings.state_dir),
        Store.open(settings.state_dir) as store,
        sync_progress() as progress,
    ):
        report = run(
            settings,
            store,
            objectives=okr_file.objectives,
            cycle=okr_file.cycle,
            sources=source or None,
            progress=progress,
        )
    print_sync(console, report)
    if not report.ok:
        raise typer.Exit(EXIT_FAILURE)
