"""``linesight demo``: the whole nightly job against the built-in sandbox, no account needed."""

from __future__ import annotations

import json
import os
import shutil
import socket
import time
from pathlib import Path
from typing import Annotated

import typer

from linesight.cli.common import console, exits_cleanly, load
from linesight.cli.run import execute, exit_code
from linesight.errors import UserError
from linesight.okrs import load_okrs
from linesight.sandbox.wire import DEFAULT_TOKEN
from linesight.store import SyncMode


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _reusable(folder: Path, items: int, seed: int) -> bool:
    marker = folder / "demo.json"
    if not (marker.is_file() and (folder / "dataset.json").is_file()):
        return False
    try:
        return json.loads(marker.read_text()) == {"items": items, "seed": seed}  # type: ignore[no-any-return]
    except ValueError:
        return False


@exits_cleanly
def demo(
    folder: Annotated[
        Path,
        typer.Option("--dir", help="Where the demo organisation and outputs go.", file_okay=False),
    ] = Path("linesight-demo"),
    items: Annotated[
        int, typer.Option(min=50, help="Work items across the three trackers.")
    ] = 1500,
    seed: Annotated[int, typer.Option(help="Seed of the generated organisation.")] = 7,
    port: Annotated[int, typer.Option(help="Sandbox port (0: a free one).")] = 0,
) -> None:
    """Generate (or reuse) an organisation, start the sandbox (Jira Cloud, Jira Data Center,
    Azure DevOps), run the nightly job with write-back, and show where the outputs are.

    Example: linesight demo --items 5000 --dir /tmp/linesight-demo
    """
    from linesight.sandbox import SandboxServer
    from linesight.sandbox.generator import (
        TOKEN_ENV,
        generate_dataset,
        render_settings,
        write_org,
    )

    started = time.monotonic()
    folder = folder.resolve()
    port = port or _free_port()
    base_url = f"http://127.0.0.1:{port}"
    if _reusable(folder, items, seed):
        console.print(f"reusing the organisation in {folder}")
        dataset_path = folder / "dataset.json"
        (folder / "linesight.toml").write_text(
            render_settings(json.loads((folder / "facts.json").read_text()), folder).replace(
                "http://127.0.0.1:8765", base_url
            ),
            encoding="utf-8",
        )
        server = SandboxServer(dataset_path, port=port)
    else:
        console.print(f"generating an organisation of {items} items in {folder}")
        org = generate_dataset(items, seed, base_url=base_url)
        write_org(org, folder)
        (folder / "demo.json").write_text(json.dumps({"items": items, "seed": seed}))
        server = SandboxServer(org.dataset, port=port)
    # every demo starts from the generated data: a fresh state store and outputs
    for stale in (folder / ".linesight", folder / "linesight-out"):
        shutil.rmtree(stale, ignore_errors=True)
    os.environ[TOKEN_ENV] = DEFAULT_TOKEN
    try:
        server.start()
    except OSError as exc:
        raise UserError(f"cannot start the sandbox on port {port}: {exc.strerror}") from None
    try:
        console.print(
            f"sandbox serving Jira Cloud, Jira Data Center and Azure DevOps at {server.url}"
        )
        settings = load(folder / "linesight.toml")
        okrs = load_okrs(settings.okrs)
        outcome = execute(settings, okrs, mode=SyncMode.FULL, apply=True, force=True)
    finally:
        server.stop()
    console.print(
        f"\n[bold green]demo finished in {time.monotonic() - started:.1f}s.[/] Open "
        f"[bold]{settings.output_dir / 'report.html'}[/] (the PMO report) and "
        f"[bold]{settings.output_dir / 'graph.html'}[/] (the graph); analysis.json is beside them."
    )
    code = exit_code(outcome)
    if code:
        raise typer.Exit(code)
