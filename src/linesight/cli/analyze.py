"""``linesight analyze``: orphans, unsupported KRs, effective WIP and diagnostics."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from linesight.cli.common import (
    EXIT_THRESHOLD,
    ConfigOpt,
    console,
    err_console,
    exits_cleanly,
    load_with_okrs,
)
from linesight.cli.options import AnalyzeFormat, FailOnOpt, OkrsOpt, OutputOpt
from linesight.cli.render import print_analysis
from linesight.pipeline import analyze_store, atomic_write
from linesight.store import Store
from linesight.thresholds import breached, parse_thresholds


@exits_cleanly
def analyze(
    config: ConfigOpt = None,
    okrs: OkrsOpt = None,
    fmt: Annotated[AnalyzeFormat, typer.Option("--format", "-f", help="table or json")] = (
        AnalyzeFormat.TABLE
    ),
    output: OutputOpt = None,
    fail_on: FailOnOpt = None,
) -> None:
    """Analyse the synced items against the OKRs (with no sources: the OKR file alone).

    Example: linesight analyze --format json -o analysis.json --fail-on 'orphan_share>0.2'
    """
    settings, okr_file = load_with_okrs(config, okrs)
    thresholds = parse_thresholds(fail_on or ())
    with Store.open(settings.state_dir) as store:
        result = analyze_store(settings, okr_file, store).result
    if fmt is AnalyzeFormat.JSON:
        text = json.dumps(result.model_dump(mode="json"), indent=2) + "\n"
        if output is None:
            typer.echo(text, nl=False)
        else:
            atomic_write(output, text)
            err_console.print(f"wrote {output}")
    else:
        print_analysis(console, result)
    breaches = breached(result, thresholds)
    for line in breaches:
        err_console.print(f"[bold red]threshold breached:[/] {line}")
    if breaches:
        raise typer.Exit(EXIT_THRESHOLD)
