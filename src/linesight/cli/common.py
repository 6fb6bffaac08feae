"""What every command shares: options, console, logging, and turning errors into exit codes.

This is the only place where an exception becomes an exit code:
0 ok, 1 runtime failure, 2 usage/config/input error, 3 a ``--fail-on`` threshold breached.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, ParamSpec, TypeVar

import typer
from rich.console import Console

from linesight.errors import LinesightError
from linesight.okrs import OkrFile, load_okrs
from linesight.settings import Settings, load_settings

__all__ = [
    "EXIT_FAILURE",
    "EXIT_OK",
    "EXIT_THRESHOLD",
    "EXIT_USAGE",
    "ConfigOpt",
    "console",
    "err_console",
    "exits_cleanly",
    "interactive",
    "load",
    "load_with_okrs",
    "setup_logging",
]

EXIT_OK, EXIT_FAILURE, EXIT_USAGE, EXIT_THRESHOLD = 0, 1, 2, 3

console = Console()
err_console = Console(stderr=True)

ConfigOpt = Annotated[
    Path | None,
    typer.Option(
        "--config",
        "-c",
        help="Settings file (TOML). Default: config/linesight.toml if it exists.",
        envvar="LINESIGHT_CONFIG",
        dir_okay=False,
    ),
]

P = ParamSpec("P")
R = TypeVar("R")


def exits_cleanly(fn: Callable[P, R]) -> Callable[P, R]:
    """Turn linesight's errors into one red line on stderr and the right exit code."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return fn(*args, **kwargs)
        except LinesightError as exc:
            for line in str(exc).splitlines() or [type(exc).__name__]:
                err_console.print(
                    f"[bold red]error:[/] {line}", highlight=False, markup=True, soft_wrap=True
                )
            raise typer.Exit(exc.exit_code) from None
        except KeyboardInterrupt:
            err_console.print("[yellow]interrupted[/]")
            raise typer.Exit(130) from None

    return wrapper


def interactive() -> bool:
    """True on a terminal outside CI: show progress bars. Cron and CI get plain log lines."""
    return sys.stderr.isatty() and not os.environ.get("CI")


class _JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        extra = getattr(record, "data", None)
        if isinstance(extra, dict):
            entry.update(extra)
        return json.dumps(entry, default=str)


def setup_logging(log_format: str = "text", verbose: int = 0) -> None:
    """Plain or JSON log lines on stderr; WARNING by default, INFO with -v, DEBUG with -vv."""
    level = logging.WARNING if verbose <= 0 else logging.INFO if verbose == 1 else logging.DEBUG
    handler: logging.Handler
    if log_format == "json":
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(_JsonFormatter())
    elif interactive():
        from rich.logging import RichHandler

        handler = RichHandler(console=err_console, show_path=False, rich_tracebacks=False)
    else:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.WARNING)
    logging.getLogger("linesight").setLevel(level)
    # the client libraries log request URLs at DEBUG; keep them quiet even with -vv
    for noisy in ("urllib3", "msrest", "azure", "jira", "requests_oauthlib"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def load(config: Path | None, **overrides: Any) -> Settings:
    """Settings from the file, .env and the environment, with CLI overrides on top."""
    clean = {k: v for k, v in overrides.items() if v is not None}
    settings = load_settings(config, overrides=clean)
    # the azure-devops SDK caches route data on disk; keep it in linesight's state folder
    os.environ.setdefault("AZURE_DEVOPS_CACHE_DIR", str(settings.state_dir / "azure-devops-cache"))
    return settings


def load_with_okrs(
    config: Path | None, okrs: Path | None, **overrides: Any
) -> tuple[Settings, OkrFile]:
    """Settings and the checked OKR file (``--okrs`` wins over the settings' ``okrs``)."""
    settings = load(config, okrs=okrs, **overrides)
    return settings, load_okrs(settings.okrs)
