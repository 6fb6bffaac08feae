"""How fast a full Cloud sync is, and how many requests it takes (prints the numbers).

The sandbox runs in its own process so that the connector's threads do not share a GIL with
the server. Compared with the ``jira`` library's plain ``enhanced_search_issues`` pagination
(100 issues a page, one page at a time) on the same server and the same latency.
"""

from __future__ import annotations

import multiprocessing
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import requests
from jira import JIRA
from pydantic import SecretStr

from linesight.sandbox.wire import DEFAULT_TOKEN, DEFAULT_USER
from linesight.settings import JiraSource
from linesight_jira.connector import JiraConnector

CLOUD_SHARE = 0.45  # of a generated organisation's items
NOW = datetime(2026, 11, 23, tzinfo=UTC)


def _serve(items: int, ready: Any, stop: Any) -> None:  # pragma: no cover - child process
    from linesight.sandbox import SandboxServer
    from linesight.sandbox.generator import generate_dataset

    org = generate_dataset(items, 5, now=NOW)
    projects = org.facts["sources"]["cloud"]["projects"]
    dataset = {"jira": [org.dataset["jira"][0]]}
    with SandboxServer(dataset, port=0) as server:
        ready.put((server.url, projects))
        stop.wait()


@pytest.fixture(scope="module")
def cloud_10k() -> Iterator[tuple[str, list[str]]]:
    context = multiprocessing.get_context("spawn")
    ready, stop = context.Queue(), context.Event()
    child = context.Process(target=_serve, args=(int(10_000 / CLOUD_SHARE), ready, stop))
    child.start()
    try:
        yield ready.get(timeout=120)
    finally:
        stop.set()
        child.join(30)


def control(url: str, path: str, body: Any = None) -> Any:
    answer = requests.request(
        "POST" if body is not None else "GET", url + path, json=body, timeout=60
    )
    answer.raise_for_status()
    return answer.json() if answer.content else None


def sync(url: str, projects: list[str], latency_ms: float) -> tuple[int, float, int]:
    control(url, "/_sandbox/faults", {"latency_ms": latency_ms})
    control(url, "/_sandbox/reset", {})
    source = JiraSource(
        kind="jira",
        name="cloud",
        url=url + "/jira/cloud",
        user=DEFAULT_USER,
        token=SecretStr(DEFAULT_TOKEN),
        projects=tuple(projects),
        kr_field="customfield_10100",
        team_field="customfield_10001",
    )
    connector = JiraConnector(source)
    started = time.perf_counter()
    count = sum(1 for _ in connector.fetch(None))
    elapsed = time.perf_counter() - started
    connector.close()
    return count, elapsed, len(control(url, "/_sandbox/requests"))


def plain_pagination(url: str, projects: list[str], latency_ms: float) -> tuple[int, float]:
    control(url, "/_sandbox/faults", {"latency_ms": latency_ms})
    client = JIRA(url + "/jira/cloud", basic_auth=(DEFAULT_USER, DEFAULT_TOKEN), max_retries=0)
    jql = "project in (" + ", ".join(projects) + ") ORDER BY id ASC"
    started = time.perf_counter()
    count, token = 0, None
    while True:
        page = client.enhanced_search_issues(jql, nextPageToken=token, maxResults=100)
        count += len(page)
        token = page.nextPageToken
        if not token:
            break
    elapsed = time.perf_counter() - started
    client.close()
    return count, elapsed


@pytest.mark.slow
def test_cloud_full_sync_speed_and_request_budget(cloud_10k: tuple[str, list[str]]) -> None:
    url, projects = cloud_10k
    count, fast, calls = sync(url, projects, 0)
    per_thousand = calls * 1000 / count
    slow_count, slow, _ = sync(url, projects, 100)
    plain_count, plain = plain_pagination(url, projects, 100)
    print(
        f"\nJira Cloud full sync of {count:,} issues: {calls} requests "
        f"({per_thousand:.1f} per 1,000 issues); {fast:.1f}s at 0 ms latency, "
        f"{slow:.1f}s at 100 ms; plain enhanced_search_issues paging at 100 ms: {plain:.1f}s "
        f"({plain / slow:.1f}x slower)"
    )
    assert slow_count == plain_count == count
    assert per_thousand <= 12
    assert plain / slow >= 5
