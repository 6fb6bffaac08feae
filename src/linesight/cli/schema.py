"""``linesight schema``: print a JSON Schema."""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Annotated

import typer

from linesight.cli.common import console, exits_cleanly
from linesight.okrs import okrs_json_schema
from linesight.settings import Settings


class SchemaName(StrEnum):
    OKRS = "okrs"
    SETTINGS = "settings"
    ANALYSIS = "analysis"


@exits_cleanly
def schema(
    name: Annotated[SchemaName, typer.Argument(help="Which schema: okrs, settings or analysis.")],
) -> None:
    """Print a JSON Schema (the OKR file, the settings file, or analysis.json).

    Example: linesight schema okrs > okrs.schema.json
    """
    if name is SchemaName.OKRS:
        document = okrs_json_schema()
    elif name is SchemaName.SETTINGS:
        document = Settings.model_json_schema()
    else:
        from linesight.analysis.result import AnalysisResult

        document = AnalysisResult.model_json_schema()
    console.print_json(json.dumps(document))
