"""``linesight sandbox serve`` and ``linesight sandbox generate``."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Annotated

import typer

from linesight.cli.common import console, exits_cleanly
from linesight.errors import UserError
from linesight.sandbox.wire import DEFAULT_TOKEN

app = typer.Typer(help="The built-in local Jira + Azure DevOps sandbox.", no_args_is_help=True)


@app.command("serve")
@exits_cleanly
def serve(
    dataset: Annotated[
        Path | None,
        typer.Option(
            "--dataset", "-d", help="Dataset JSON (from 'sandbox generate').", dir_okay=False
        ),
    ] = None,
    items: Annotated[
        int, typer.Option(help="Without --dataset: generate an organisation of this many items.")
    ] = 2000,
    seed: Annotated[int, typer.Option(help="Seed for the generated organisation.")] = 1,
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1; 0 picks a free one.")] = 8765,
    token: Annotated[
        str, typer.Option(help="The token clients must send.", envvar="LINESIGHT_SANDBOX_TOKEN")
    ] = DEFAULT_TOKEN,
    latency_ms: Annotated[float, typer.Option(help="Delay added to every request.")] = 0.0,
    fail_rate: Annotated[
        float, typer.Option(help="Share of requests failing with 429/500/503/dropped (0..1).")
    ] = 0.0,
    rate_limit: Annotated[
        int | None, typer.Option(help="Requests per second before 429 with Retry-After.")
    ] = None,
) -> None:
    """Serve a local Jira (Cloud + Data Center) and Azure DevOps on 127.0.0.1 until Ctrl-C.

    Example: linesight sandbox serve --dataset demo/dataset.json --latency-ms 100 --fail-rate 0.1
    """
    from linesight.sandbox import DatasetError, FaultConfig, SandboxServer
    from linesight.sandbox.generator import generate_dataset

    try:
        faults = FaultConfig(latency_ms=latency_ms, fail_rate=fail_rate, rate_limit=rate_limit)
    except ValueError as exc:
        raise UserError(str(exc)) from None
    try:
        data = dataset if dataset is not None else generate_dataset(items, seed).dataset
        server = SandboxServer(data, port=port, token=token, faults=faults)
    except DatasetError as exc:
        raise UserError(str(exc)) from None
    try:
        server.start()
    except OSError as exc:
        raise UserError(
            f"cannot listen on 127.0.0.1:{port}: {exc.strerror}; try --port 0"
        ) from None
    console.print(f"linesight sandbox listening on [bold]{server.url}[/]")
    for mount in server.apps:
        console.print(f"  {server.url}{mount}")
    console.print("user sandbox@example.com, token as given by --token; Ctrl-C stops it")
    try:
        threading.Event().wait()
    finally:
        server.stop()


@app.command("generate")
@exits_cleanly
def generate(
    out: Annotated[
        Path, typer.Option("--out", "-o", help="Folder to write into.", file_okay=False)
    ],
    items: Annotated[int, typer.Option(help="Work items across all three trackers.")] = 2000,
    seed: Annotated[int, typer.Option(help="Same seed, same bytes.")] = 1,
    port: Annotated[int, typer.Option(help="Port the generated settings point at.")] = 8765,
) -> None:
    """Write a realistic seeded organisation: dataset.json, okrs.yaml and linesight.toml.

    Example: linesight sandbox generate --items 5000 --seed 7 --out demo
    """
    from linesight.sandbox.generator import generate as write_generated

    if items < 1:
        raise UserError("--items must be at least 1")
    paths = write_generated(items, seed, out, base_url=f"http://127.0.0.1:{port}")
    for path in paths:
        console.print(f"wrote {path}")
