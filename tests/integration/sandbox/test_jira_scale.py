"""100,000 issues: a full id listing (5,000 a page) and a bulk fetch of every issue."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from linesight.sandbox import SandboxServer
from linesight.testing.plugin import jira_issue

AUTH = ("sandbox@example.com", "sandbox-token")
ITEMS = 100_000
FIELDS = ["summary", "status", "issuetype", "labels", "parent", "created", "updated", "project"]


@pytest.mark.slow
def test_100k_issues_list_and_bulk_fetch_completely() -> None:
    categories = ("new", "indeterminate", "done")
    issues = [
        jira_issue(100_000 + n, f"P{n % 20}-{n}", category=categories[n % 3]) for n in range(ITEMS)
    ]
    dataset = {"jira": [{"name": "cloud", "flavour": "cloud", "issues": issues}]}
    with SandboxServer(dataset, port=0) as server:
        base = server.url + "/jira/cloud/rest/api/3/"
        jql = "project in (" + ", ".join(f"P{p}" for p in range(20)) + ") ORDER BY id"
        started = time.perf_counter()
        session = requests.Session()
        ids: list[str] = []
        token = None
        pages = 0
        while True:
            params = {"jql": jql, "fields": "id,key", "maxResults": "5000"}
            if token:
                params["nextPageToken"] = token
            page = session.get(base + "search/jql", params=params, auth=AUTH, timeout=60).json()
            pages += 1
            ids.extend(issue["id"] for issue in page["issues"])
            token = page.get("nextPageToken")
            if page["isLast"]:
                break
        listed = time.perf_counter() - started
        assert pages == 20
        assert ids == [str(100_000 + n) for n in range(ITEMS)]

        local = threading.local()

        def fetch(chunk: list[str]) -> list[str]:
            if not hasattr(local, "session"):
                local.session = requests.Session()
            body = {"issueIdsOrKeys": chunk, "fields": FIELDS}
            answer = local.session.post(base + "issue/bulkfetch", json=body, auth=AUTH, timeout=60)
            return [issue["key"] for issue in answer.json()["issues"]]

        started = time.perf_counter()
        chunks = [ids[i : i + 100] for i in range(0, ITEMS, 100)]
        with ThreadPoolExecutor(8) as pool:
            keys = [key for page_keys in pool.map(fetch, chunks) for key in page_keys]
        fetched = time.perf_counter() - started
        assert len(keys) == ITEMS == len(set(keys))
        print(f"\n100k: id listing {listed:.2f}s ({pages} pages), bulk fetch {fetched:.2f}s")
        # generous bounds: a regression to per-request full scans would blow far past them
        assert listed < 60 and fetched < 120
