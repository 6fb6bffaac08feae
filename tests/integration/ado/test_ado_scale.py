"""A generated organisation of over 20,000 Azure DevOps work items, synced in full.

Compares every item with the sandbox's own state (``GET /_sandbox/state``) and reports the
requests per 1,000 items (``GET /_sandbox/requests``).
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import SecretStr

from linesight.model import WorkItem
from linesight.sandbox import SandboxServer
from linesight.sandbox.generator import generate_dataset
from linesight.sandbox.wire import DEFAULT_TOKEN
from linesight.settings import AzureDevOpsSource
from linesight_azure_devops.connector import AzureDevOpsConnector

NOW = datetime(2026, 11, 1, tzinfo=UTC)
CATEGORY = {"New": "todo", "Active": "in_progress", "Resolved": "in_progress", "Closed": "done"}


@pytest.fixture(scope="module")
def big_sandbox() -> Iterator[SandboxServer]:
    generated = generate_dataset(60_000, 11, now=NOW)  # ~21,000 Azure DevOps items
    with SandboxServer({"azure_devops": generated.dataset["azure_devops"]}, port=0) as server:
        yield server


def control(sandbox: SandboxServer, path: str) -> Any:
    with urllib.request.urlopen(f"{sandbox.url}/_sandbox/{path}", timeout=60) as answer:
        return json.load(answer)


def expected_items(sandbox: SandboxServer) -> dict[str, dict[str, Any]]:
    payloads = control(sandbox, "state")["azure_devops"]["contoso"]["Fabrikam"]
    return {str(p["id"]): p for p in payloads if p["fields"]["System.State"] != "Removed"}


@pytest.mark.slow  # ~20 s: generating and serving 21,000 items
def test_full_sync_of_over_20000_items_returns_every_item_correctly(
    big_sandbox: SandboxServer, capsys: pytest.CaptureFixture[str]
) -> None:
    expected = expected_items(big_sandbox)
    assert len(expected) > 20_000
    source = AzureDevOpsSource(
        name="contoso",
        kind="azure-devops",
        url=f"{big_sandbox.url}/ado/contoso",
        project="Fabrikam",
        area_paths=("Fabrikam",),
        kr_field="Custom.KeyResults",
        token=SecretStr(DEFAULT_TOKEN),
    )
    before = len(control(big_sandbox, "requests"))
    connector = AzureDevOpsConnector(source)
    seen: list[tuple[int, int | None]] = []
    try:
        items = list(connector.fetch(None, progress=lambda done, total: seen.append((done, total))))
    finally:
        connector.close()
    # two WIQL pages: items are read while the second is queried, so the total comes later
    assert seen[0] == (0, None)
    assert seen[-1] == (len(items), len(items))
    assert [done for done, _ in seen] == sorted(done for done, _ in seen)
    requests = len(control(big_sandbox, "requests")) - before
    got = {item.key: item for item in items}
    assert len(got) == len(items)
    assert set(got) == set(expected)
    for key, payload in expected.items():
        check(got[key], payload)
    per_thousand = 1000 * requests / len(items)
    with capsys.disabled():
        print(
            f"\nADO full sync: {len(items)} items, {requests} requests, "
            f"{per_thousand:.2f} requests per 1,000 items"
        )
    assert per_thousand <= 8


def check(item: WorkItem, payload: dict[str, Any]) -> None:
    fields = payload["fields"]
    assert item.title == fields["System.Title"]
    assert item.type == fields["System.WorkItemType"]
    assert item.status == fields["System.State"]
    assert item.status_category.value == CATEGORY[fields["System.State"]]
    assert item.team == fields["System.AreaPath"]
    assert item.rev == payload["rev"]
    parent = fields.get("System.Parent")
    assert item.parent == (str(parent) if parent is not None else None)
    tags = [t.strip() for t in fields.get("System.Tags", "").split(";") if t.strip()]
    assert list(item.labels) == tags
    krs = [k.strip() for k in fields.get("Custom.KeyResults", "").split(",") if k.strip()]
    assert list(item.kr_refs) == krs
    related = sorted(
        r["url"].rsplit("/", 1)[-1]
        for r in payload.get("relations", [])
        if r["rel"] == "System.LinkTypes.Related"
    )
    assert sorted(link.target for link in item.links) == related
    assert item.updated == datetime.fromisoformat(fields["System.ChangedDate"])
