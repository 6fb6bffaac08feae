"""``linesight report``: the PMO's orphan-work report."""

from __future__ import annotations

from typing import Annotated

import typer

from linesight.cli.common import ConfigOpt, err_console, exits_cleanly, load_with_okrs
from linesight.cli.options import OkrsOpt, OutputOpt, ReportFormat
from linesight.pipeline import analyze_store, atomic_write, report_history
from linesight.store import Store


@exits_cleanly
def report(
    config: ConfigOpt = None,
    okrs: OkrsOpt = None,
    fmt: Annotated[ReportFormat, typer.Option("--format", "-f", help="html, md, csv or json")] = (
        ReportFormat.HTML
    ),
    output: OutputOpt = None,
) -> None:
    """The orphan-work report: totals and trend, orphans by team, unsupported KRs, WIP.

    Example: linesight report --format html -o orphans.html
    """
    from linesight.outputs.pmo_report import render_report

    settings, okr_file = load_with_okrs(config, okrs)
    with Store.open(settings.state_dir) as store:
        run = analyze_store(settings, okr_file, store)
        errors = {s.source: s.last_error for s in store.source_states() if s.last_error}
        history = report_history(store, run.result)
    text = render_report(run.result, fmt.value, history=history, source_errors=errors)
    if output is None:
        typer.echo(text, nl=not text.endswith("\n"))
    else:
        atomic_write(output, text)
        err_console.print(f"wrote {output}")
