"""A 100,000-work-item organization is servable: partitioned WIQL + batches fetch all of it."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests

from linesight.testing.plugin import SandboxFactory

TOTAL = 100_000
PARTITION = 19_000  # each WIQL stays under the 20,000-result cap
AUTH = ("", "sandbox-token")
SELECT = "SELECT [System.Id] FROM WorkItems WHERE [System.TeamProject] = @project"
ROOT = "https://dev.azure.com/contoso/_apis/wit/workItems"
KINDS = [("Epic", "Active"), ("Feature", "Active"), ("User Story", "New"), ("Task", "Closed")]


def organization() -> dict[str, Any]:
    items = []
    for number in range(1, TOTAL + 1):
        kind, state = KINDS[number % 4]
        items.append(
            {
                "id": number,
                "rev": 1,
                "fields": {
                    "System.AreaPath": f"Fabrikam\\Team {number % 20}",
                    "System.TeamProject": "Fabrikam",
                    "System.IterationPath": "Fabrikam",
                    "System.WorkItemType": kind,
                    "System.State": state,
                    "System.CreatedDate": "2026-10-01T09:00:00.123Z",
                    "System.ChangedDate": f"2026-11-{1 + number % 28:02d}T10:00:00.000Z",
                    "System.Title": f"Work item {number}",
                    "System.Tags": f"KR:KR{number % 50}.1",
                },
                "relations": []
                if number <= 100
                else [
                    {
                        "rel": "System.LinkTypes.Hierarchy-Reverse",
                        "url": f"{ROOT}/{number % 100 + 1}",
                        "attributes": {},
                    }
                ],
            }
        )
    return {
        "azure_devops": [{"organization": "contoso", "project": "Fabrikam", "work_items": items}]
    }


@pytest.mark.slow
def test_partitioned_wiql_and_batches_fetch_100k_items(sandbox_factory: SandboxFactory) -> None:
    data = organization()
    started = time.perf_counter()
    with sandbox_factory(data) as sandbox:
        loaded = time.perf_counter() - started
        base = f"{sandbox.url}/ado/contoso/Fabrikam/_apis/wit"
        session = requests.Session()
        session.auth = AUTH
        session.headers["Accept"] = "application/json;api-version=7.1"

        started = time.perf_counter()
        ids: list[int] = []
        for low in range(0, TOTAL, PARTITION):
            bounds = f"[System.Id] > {low} AND [System.Id] <= {low + PARTITION}"
            query = f"{SELECT} AND {bounds} ORDER BY [System.Id]"
            response = session.post(f"{base}/wiql", json={"query": query})
            assert response.status_code == 200, response.text
            ids += [ref["id"] for ref in response.json()["workItems"]]
        queried = time.perf_counter() - started
        assert ids == list(range(1, TOTAL + 1))

        def fetch(chunk: list[int]) -> list[dict[str, Any]]:
            with requests.Session() as own:
                own.auth = AUTH
                response = own.post(
                    f"{base}/workitemsbatch",
                    json={"ids": chunk, "$expand": "Relations"},
                    headers={"Accept": "application/json;api-version=7.1"},
                )
                assert response.status_code == 200, response.text
                return response.json()["value"]  # type: ignore[no-any-return]

        started = time.perf_counter()
        chunks = [ids[i : i + 200] for i in range(0, TOTAL, 200)]
        with ThreadPoolExecutor(max_workers=8) as pool:
            fetched = [item for page in pool.map(fetch, chunks) for item in page]
        batched = time.perf_counter() - started

    assert len(fetched) == TOTAL
    assert {item["id"] for item in fetched} == set(ids)
    assert fetched[-1]["relations"][0]["url"].startswith(sandbox.url)
    timings = f"load {loaded:.1f}s, 6 WIQL {queried:.2f}s, 500 batches {batched:.1f}s"
    # Generous ceilings: this guards against accidental quadratic behaviour, not a benchmark.
    assert loaded < 60 and queried < 30 and batched < 120, timings
