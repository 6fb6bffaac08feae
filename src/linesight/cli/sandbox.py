"""``linesight sandbox serve`` and ``linesight sandbox generate``."""

from __future__ import annotations

import typer

from linesight.cli._pending import not_yet
from linesight.cli.common import exits_cleanly

app = typer.Typer(help="The built-in local Jira + Azure DevOps sandbox.", no_args_is_help=True)


@app.command("serve")
@exits_cleanly
def serve() -> None:
    """Not available yet.

    Example: linesight sandbox serve --dataset demo/dataset.json
    """
    raise not_yet("sandbox serve", "issue 3 (sandbox)")


@app.command("generate")
@exits_cleanly
def generate() -> None:
    """Not available yet.

    Example: linesight sandbox generate --items 5000 --seed 7 --out demo
    """
    raise not_yet("sandbox generate", "issue 3 (sandbox)")
