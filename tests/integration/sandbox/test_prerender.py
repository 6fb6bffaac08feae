"""Pre-rendering: the sandbox renders ahead what bulk reads ask for, and no answer changes."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
import requests

from linesight.sandbox import SandboxServer
from linesight.sandbox.generator import generate_dataset
from linesight.sandbox.wire import DEFAULT_TOKEN, DEFAULT_USER

FIELDS = ["summary", "status", "labels", "issuelinks", "parent", "updated"]
NOW = datetime(2026, 11, 23, tzinfo=UTC)
CLOUD_JQL = "project in (GROW, PAY, PLAT, SHOP) ORDER BY id"  # Cloud refuses unbounded JQL


@pytest.fixture(scope="module")
def dataset() -> dict[str, Any]:
    org = generate_dataset(400, seed=3, now=NOW)
    copied: dict[str, Any] = json.loads(json.dumps(org.dataset))  # a private copy
    return copied


def reads(server: SandboxServer) -> dict[str, bytes]:
    """The answers of every bulk read kind, as bytes (the server's own address left out)."""
    jira = (DEFAULT_USER, DEFAULT_TOKEN)
    ado = ("", DEFAULT_TOKEN)
    answers: dict[str, bytes] = {}
    for name, body in {
        "cloud-fields": {"jql": CLOUD_JQL, "maxResults": 100, "fields": FIELDS},
        "cloud-keys": {"jql": CLOUD_JQL, "maxResults": 5000, "fields": ["key"]},
    }.items():
        url = f"{server.url}/jira/cloud/rest/api/3/search/jql"
        answers[name] = requests.post(url, json=body, auth=jira, timeout=30).content
    url = f"{server.url}/jira/dc/rest/api/2/search"
    body = {"jql": "order by id", "maxResults": 1000, "fields": FIELDS}
    answers["dc-fields"] = requests.post(url, json=body, auth=jira, timeout=30).content
    ids = requests.post(
        f"{server.url}/ado/contoso/_apis/wit/wiql?api-version=7.1&$top=200",
        json={"query": "SELECT [System.Id] FROM WorkItems ORDER BY [System.Id]"},
        auth=ado,
        timeout=30,
    ).json()["workItems"]
    answers["ado-batch"] = requests.post(
        f"{server.url}/ado/contoso/_apis/wit/workitemsbatch?api-version=7.1",
        json={"ids": [r["id"] for r in ids], "$expand": "Relations"},
        auth=ado,
        timeout=30,
    ).content
    here = server.url.encode()
    return {name: body.replace(here, b"BASE") for name, body in answers.items()}


def test_prerendered_answers_are_the_answers_rendered_on_demand(dataset: dict[str, Any]) -> None:
    with SandboxServer(dataset, port=0) as lazy:
        expected = reads(lazy)
    with SandboxServer(dataset, port=0) as server:
        answer = requests.post(
            server.url + "/_sandbox/prerender", json={"jira_fields": [FIELDS]}, timeout=60
        )
        assert answer.status_code == 200
        counts = answer.json()["rendered"]
        jira_issues = {s["name"]: len(s["issues"]) for s in dataset["jira"]}
        ado_items = len(dataset["azure_devops"][0]["work_items"])
        # every issue twice (the key alone and FIELDS), every work item once
        assert counts == {
            "/jira/cloud": 2 * jira_issues["cloud"],
            "/jira/dc": 2 * jira_issues["dc"],
            "/ado/contoso": ado_items,
        }
        assert reads(server) == expected
        assert len(expected["ado-batch"]) > 10_000 and b'"relations"' in expected["ado-batch"]


def test_a_write_after_prerendering_is_seen_by_the_next_read(dataset: dict[str, Any]) -> None:
    with SandboxServer(dataset, port=0) as server:
        server.prerender([FIELDS])
        first = dataset["jira"][0]["issues"][0]["key"]
        requests.put(
            f"{server.url}/jira/cloud/rest/api/3/issue/{first}",
            json={"fields": {"summary": "Renamed after pre-rendering"}},
            auth=(DEFAULT_USER, DEFAULT_TOKEN),
            timeout=30,
        ).raise_for_status()
        assert b"Renamed after pre-rendering" in reads(server)["cloud-fields"]
        assert b"Renamed after pre-rendering" not in reads(server)["dc-fields"]


def test_prerender_refuses_a_bad_body(dataset: dict[str, Any]) -> None:
    with SandboxServer(dataset, port=0) as server:
        for body in ({"jira_fields": "summary"}, {"jira_fields": [["summary", 3]]}):
            answer = requests.post(server.url + "/_sandbox/prerender", json=body, timeout=30)
            assert answer.status_code == 400
            assert "jira_fields" in answer.json()["error"]


def test_request_log_is_a_timeline(dataset: dict[str, Any]) -> None:
    with SandboxServer(dataset, port=0) as server:
        server.faults = server.faults.__class__(latency_ms=30)
        reads(server)
        log = server.requests()
        assert len(log) == 5
        starts = [entry["at"] for entry in log]
        assert starts == sorted(starts) and starts[0] >= 0
        assert all(entry["took"] >= 0.03 for entry in log)  # the latency is inside "took"
