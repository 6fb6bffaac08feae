"""``linesight export``: the whole line-of-sight graph for Gephi, yEd, Graphviz, Mermaid..."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer

from linesight.cli.common import ConfigOpt, err_console, exits_cleanly, load_with_okrs
from linesight.cli.options import ExportFormat, OkrsOpt, OutputOpt
from linesight.pipeline import TrendBaseline, analyze_store, atomic_write
from linesight.store import Store


class Only(StrEnum):
    ORPHANS = "orphans"
    UNSUPPORTED = "unsupported"


@exits_cleanly
def export(
    config: ConfigOpt = None,
    okrs: OkrsOpt = None,
    fmt: Annotated[ExportFormat, typer.Option("--format", "-f", help="Graph file format.")] = (
        ExportFormat.GRAPHML
    ),
    output: OutputOpt = None,
    objective: Annotated[
        str | None, typer.Option(help="Only this objective and what serves it.")
    ] = None,
    source: Annotated[str | None, typer.Option(help="Only items of this source.")] = None,
    only: Annotated[Only | None, typer.Option(help="Only orphans or unsupported KRs.")] = None,
    depth: Annotated[int | None, typer.Option(min=1, help="Levels below the objectives.")] = None,
) -> None:
    """Export the graph of objectives, key results and work items, with the link rule of
    every edge.

    Example: linesight export --format mermaid --objective O1 -o o1.mmd
    """
    from linesight.outputs.graph_export import export_graph

    settings, okr_file = load_with_okrs(config, okrs)
    if source is not None:
        settings.source(source)
    with Store.open(settings.state_dir) as store:
        run = analyze_store(settings, okr_file, store, trend=TrendBaseline.NONE)
    text = export_graph(
        run.analysis.graph,
        fmt.value,
        objective=objective,
        source=source,
        only=None if only is None else only.value,
        depth=depth,
    )
    if output is None:
        typer.echo(text, nl=not text.endswith("\n"))
    else:
        atomic_write(output, text)
        err_console.print(f"wrote {output}")
