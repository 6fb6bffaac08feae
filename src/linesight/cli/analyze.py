"""``linesight analyze``."""

from __future__ import annotations

from typing import Annotated

import typer

from linesight.cli._pending import not_yet
from linesight.cli.common import ConfigOpt, exits_cleanly, load
from linesight.cli.options import AnalyzeFormat, OkrsOpt


@exits_cleanly
def analyze(
    config: ConfigOpt = None,
    okrs: OkrsOpt = None,
    fmt: Annotated[AnalyzeFormat, typer.Option("--format", "-f", help="table or json")] = (
        AnalyzeFormat.TABLE
    ),
) -> None:
    """Analyse the synced items against the OKRs.

    Example: linesight analyze --format json > analysis.json
    """
    from linesight.okrs import load_okrs

    settings = load(config, okrs=okrs)
    load_okrs(okrs or settings.okrs)
    raise not_yet("analyze", "issue 5 (analysis)")
