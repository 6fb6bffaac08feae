"""``linesight config show``: the effective settings, secrets masked."""

from __future__ import annotations

import json

import typer

from linesight.cli.common import ConfigOpt, console, exits_cleanly, load

app = typer.Typer(help="Inspect the settings.", no_args_is_help=True)


@app.command("show")
@exits_cleanly
def show(config: ConfigOpt = None) -> None:
    """Print the effective settings (file + .env + environment), with every token masked.

    Example: LINESIGHT_WRITEBACK__MAX_WRITES=50 linesight config show -c config/linesight.toml
    """
    settings = load(config)
    console.print_json(json.dumps(settings.masked(), default=str))
