"""Benchmark: the connector's full sync vs the SDK's plain WIQL + get_work_items_batch loop.

    .venv/bin/python tests/integration/ado/bench_ado.py --ado-items 20000 --latency-ms 0 [--sdk]

Generates an organisation with about ``--ado-items`` Azure DevOps work items, serves it on the
sandbox in its own process (server work does not share the client's GIL), and prints items,
requests, requests per 1,000 items and wall time. Not a test: numbers for the README and the
lead, measured on this machine.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import SecretStr

sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("AZURE_DEVOPS_CACHE_DIR", tempfile.mkdtemp(prefix="ado-bench-"))

from linesight.sandbox import FaultConfig, SandboxServer
from linesight.sandbox.generator import generate_dataset
from linesight.sandbox.wire import DEFAULT_TOKEN
from linesight.settings import AzureDevOpsSource
from linesight_azure_devops.connector import AzureDevOpsConnector
from linesight_azure_devops.wiql import Scope

NOW = datetime(2026, 11, 1, tzinfo=UTC)


def ado_only(ado_items: int, seed: int = 7) -> dict[str, Any]:
    """A generated dataset with only its Azure DevOps part (about 35% of all items)."""
    generated = generate_dataset(int(ado_items / 0.35) + 100, seed, now=NOW)
    return {"azure_devops": generated.dataset["azure_devops"]}


def source_for(base: str, **overrides: Any) -> AzureDevOpsSource:
    values: dict[str, Any] = {
        "name": "contoso",
        "kind": "azure-devops",
        "url": f"{base}/ado/contoso",
        "project": "Fabrikam",
        "area_paths": ("Fabrikam",),
        "kr_field": "Custom.KeyResults",
        "token": SecretStr(DEFAULT_TOKEN),
        "token_env": "LINESIGHT_SANDBOX_TOKEN",
    }
    values.update(overrides)
    return AzureDevOpsSource(**values)


def serve(ado_items: int, latency_ms: float, port: Any, stop: Any) -> None:
    """Child process: serve the generated org until told to stop (the server gets its own GIL)."""
    faults = FaultConfig(latency_ms=latency_ms)
    with SandboxServer(ado_only(ado_items), port=0, faults=faults) as sandbox:
        port.send(sandbox.port)
        stop.wait()


def request_count(base: str) -> int:
    with urllib.request.urlopen(f"{base}/_sandbox/requests", timeout=120) as answer:
        return len(json.load(answer))


def connector_sync(base: str, concurrency: int) -> tuple[int, int, float]:
    before = request_count(base)
    started = time.perf_counter()
    connector = AzureDevOpsConnector(source_for(base, concurrency=concurrency))
    try:
        count = sum(1 for _ in connector.fetch(None))
    finally:
        connector.close()
    seconds = time.perf_counter() - started
    return count, request_count(base) - before, seconds


def sdk_sync(base: str) -> tuple[int, int, float]:
    """What the SDK's documentation suggests: WIQL for ids, then get_work_items_batch."""
    from azure.devops.connection import Connection
    from azure.devops.v7_1.work_item_tracking.models import (
        TeamContext,
        Wiql,
        WorkItemBatchGetRequest,
    )
    from msrest.authentication import BasicAuthentication

    before = request_count(base)
    started = time.perf_counter()
    connection = Connection(
        base_url=f"{base}/ado/contoso", creds=BasicAuthentication("", DEFAULT_TOKEN)
    )
    client = connection.clients_v7_1.get_work_item_tracking_client()
    ids: list[int] = []
    last = 0
    while True:  # the SDK has no paging for WIQL either: keyset by id, 20,000 at a time
        query = Scope().query(after_id=last)
        result = client.query_by_wiql(Wiql(query=query), TeamContext(project="Fabrikam"), top=20000)
        page = [ref.id for ref in result.work_items]
        ids.extend(page)
        if len(page) < 20000:
            break
        last = page[-1]
    count = 0
    for start in range(0, len(ids), 200):
        batch = client.get_work_items_batch(
            WorkItemBatchGetRequest(ids=ids[start : start + 200], expand="Relations"),
            project="Fabrikam",
        )
        count += len(batch)
    seconds = time.perf_counter() - started
    return count, request_count(base) - before, seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ado-items", type=int, default=20000)
    parser.add_argument("--latency-ms", type=float, default=0.0)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--sdk", action="store_true", help="also time the SDK's plain loop")
    args = parser.parse_args()
    receive, send = multiprocessing.Pipe(duplex=False)
    stop = multiprocessing.Event()
    server = multiprocessing.Process(
        target=serve, args=(args.ado_items, args.latency_ms, send, stop), daemon=True
    )
    server.start()
    try:
        base = f"http://127.0.0.1:{receive.recv()}"
        runs: list[tuple[str, Callable[[], tuple[int, int, float]]]] = [
            ("linesight connector", lambda: connector_sync(base, args.concurrency))
        ]
        if args.sdk:
            runs.append(("SDK WIQL + get_work_items_batch", lambda: sdk_sync(base)))
        for name, run in runs:
            count, requests, seconds = run()
            print(
                f"{name}: {count} items, {requests} requests "
                f"({1000 * requests / max(count, 1):.2f} per 1,000 items), {seconds:.2f} s "
                f"(latency {args.latency_ms:g} ms, concurrency {args.concurrency})",
                flush=True,
            )
    finally:
        stop.set()
        server.join(timeout=30)


if __name__ == "__main__":
    main()
