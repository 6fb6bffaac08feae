"""``linesight doctor``: check the settings, the OKR file and every source's connectivity."""

from __future__ import annotations

import typer
from rich.table import Table

from linesight.cli.common import EXIT_FAILURE, ConfigOpt, console, exits_cleanly, load
from linesight.cli.options import OkrsOpt
from linesight.connector import Check, open_connector
from linesight.errors import LinesightError
from linesight.okrs import load_okrs


@exits_cleanly
def doctor(config: ConfigOpt = None, okrs: OkrsOpt = None) -> None:
    """Check the settings, the OKR file, and each source's URL, credentials and permissions.

    Example: linesight doctor -c config/linesight.toml
    """
    settings = load(config, okrs=okrs)
    rows: list[tuple[str, Check]] = [("settings", Check("settings", True, "valid"))]
    okr_path = okrs or settings.okrs
    try:
        okr_file = load_okrs(okr_path)
        count = sum(1 for _ in okr_file.key_results())
        rows.append(
            (
                "okrs",
                Check(
                    "okr file",
                    True,
                    f"{okr_path}: cycle {okr_file.cycle}, "
                    f"{len(okr_file.objectives)} objectives, {count} key results",
                ),
            )
        )
    except LinesightError as exc:
        rows.append(("okrs", Check("okr file", False, str(exc), "fix the file and run again")))
    for source in settings.sources:
        if source.token is None:
            rows.append(
                (
                    source.name,
                    Check(
                        "token",
                        False,
                        f"{source.token_env or 'token_env'} is not set",
                        f"export {source.token_env or 'TOKEN_VAR'}=... (or put it in .env)",
                    ),
                )
            )
            continue
        try:
            connector = open_connector(source)
            try:
                rows.extend((source.name, check) for check in connector.check())
            finally:
                connector.close()
        except LinesightError as exc:
            rows.append((source.name, Check("connect", False, str(exc))))
    table = Table(title="linesight doctor", show_lines=False)
    table.add_column("where")
    table.add_column("check")
    table.add_column("result")
    table.add_column("detail", overflow="fold")
    for where, check in rows:
        mark = "[green]ok[/]" if check.ok else "[red]FAIL[/]"
        detail = check.detail + (
            f"\n[dim]fix: {check.fix}[/]" if check.fix and not check.ok else ""
        )
        table.add_row(where, check.name, mark, detail)
    console.print(table)
    if not all(check.ok for _, check in rows):
        raise typer.Exit(EXIT_FAILURE)
