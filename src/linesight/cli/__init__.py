"""The ``linesight`` command line: typer + rich, one module per command.

Exit codes: 0 ok, 1 runtime failure, 2 usage/config/input error, 3 a ``--fail-on`` threshold
breached.
"""

from __future__ import annotations

from typing import Annotated

import typer

from linesight import __version__
from linesight.cli import analyze as analyze_cmd
from linesight.cli import config as config_cmd
from linesight.cli import demo as demo_cmd
from linesight.cli import doctor as doctor_cmd
from linesight.cli import export as export_cmd
from linesight.cli import report as report_cmd
from linesight.cli import run as run_cmd
from linesight.cli import sandbox as sandbox_cmd
from linesight.cli import schema as schema_cmd
from linesight.cli import sync as sync_cmd
from linesight.cli import writeback as writeback_cmd
from linesight.cli.common import setup_logging

__all__ = ["app", "main"]

app = typer.Typer(
    name="linesight",
    help="Line of sight from OKRs to the work in Jira and Azure DevOps.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"linesight {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    verbose: Annotated[
        int, typer.Option("--verbose", "-v", count=True, help="More log output (-vv: debug).")
    ] = 0,
    log_format: Annotated[
        str, typer.Option("--log-format", help="Log lines as 'text' or 'json'.")
    ] = "text",
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = False,
) -> None:
    """linesight: orphaned work, unsupported key results and effective WIP per objective."""
    if log_format not in ("text", "json"):
        raise typer.BadParameter("use 'text' or 'json'", param_hint="--log-format")
    setup_logging(log_format, verbose)


app.command("sync")(sync_cmd.sync)
app.command("analyze")(analyze_cmd.analyze)
app.command("report")(report_cmd.report)
app.command("export")(export_cmd.export)
app.command("plan")(writeback_cmd.plan)
app.command("apply")(writeback_cmd.apply)
app.command("run")(run_cmd.run)
app.command("demo")(demo_cmd.demo)
app.command("schema")(schema_cmd.schema)
app.command("doctor")(doctor_cmd.doctor)
app.add_typer(config_cmd.app, name="config")
app.add_typer(sandbox_cmd.app, name="sandbox")


def main() -> None:
    """Console-script entry point (usage errors exit 2, as typer does)."""
    app()
