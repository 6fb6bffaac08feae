"""Option types shared by several commands."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

__all__ = [
    "AnalyzeFormat",
    "ExportFormat",
    "FailOnOpt",
    "OkrsOpt",
    "OutputOpt",
    "PlanFormat",
    "ReportFormat",
]


class AnalyzeFormat(StrEnum):
    TABLE = "table"
    JSON = "json"


class PlanFormat(StrEnum):
    TABLE = "table"
    JSON = "json"


class ReportFormat(StrEnum):
    HTML = "html"
    MD = "md"
    CSV = "csv"
    JSON = "json"


class ExportFormat(StrEnum):
    GRAPHML = "graphml"
    GEXF = "gexf"
    JSON = "json"
    DOT = "dot"
    MERMAID = "mermaid"
    CYTOSCAPE = "cytoscape"
    HTML = "html"


OkrsOpt = Annotated[
    Path | None,
    typer.Option("--okrs", help="OKR file (default: 'okrs' from the settings).", dir_okay=False),
]
OutputOpt = Annotated[
    Path | None,
    typer.Option("--output", "-o", help="Write to this file instead of standard output."),
]

FailOnOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--fail-on",
        help="Exit 3 when a threshold is breached, e.g. 'orphan_share>0.2' (repeatable).",
    ),
]
