"""The real ``jira`` library against the sandbox, Cloud (v3 and v2) and Data Center."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from jira import JIRA, JIRAError

from linesight.sandbox import FaultConfig, SandboxServer
from linesight.sandbox.faults import FaultInjector
from linesight.testing.plugin import SandboxFactory, jira_issue, small_dataset

USER, TOKEN = "sandbox@example.com", "sandbox-token"
ADF_HELLO = {
    "type": "doc",
    "version": 1,
    "content": [{"type": "paragraph", "content": [{"type": "text", "text": "hello"}]}],
}


@pytest.fixture
def sandbox(sandbox_factory: SandboxFactory) -> Iterator[SandboxServer]:
    with sandbox_factory(small_dataset()) as server:
        yield server


def cloud(sandbox: SandboxServer, version: str = "3", **kwargs: Any) -> JIRA:
    return JIRA(
        server=sandbox.url + "/jira/cloud",
        basic_auth=(USER, TOKEN),
        options={"rest_api_version": version},
        **kwargs,
    )


def dc(sandbox: SandboxServer) -> JIRA:
    return JIRA(server=sandbox.url + "/jira/dc", token_auth=TOKEN)


def test_cloud_client_sees_cloud_and_pages_to_the_end(sandbox_factory: SandboxFactory) -> None:
    issues = [jira_issue(10000 + n, f"BIG-{n}", category="new") for n in range(1, 251)]
    dataset = {"jira": [{"name": "cloud", "flavour": "cloud", "issues": issues}]}
    with sandbox_factory(dataset) as server:
        client = cloud(server)
        assert client.deploymentType == "Cloud"
        found = client.enhanced_search_issues("project = BIG ORDER BY key", maxResults=False)
        assert [i.key for i in found] == [f"BIG-{n}" for n in range(1, 251)]
        pages = [e for e in server.requests() if e["path"].endswith("/search/jql")]
        assert len(pages) == 3  # 100 + 100 + 50: pages of at most 100 with all fields


def test_cloud_id_only_pages_hold_5000_and_carry_no_total(sandbox_factory: SandboxFactory) -> None:
    issues = [jira_issue(10000 + n, f"BIG-{n}") for n in range(1, 5003)]
    dataset = {"jira": [{"name": "cloud", "flavour": "cloud", "issues": issues}]}
    with sandbox_factory(dataset) as server:
        client = cloud(server)
        first = client.enhanced_search_issues(
            "project = BIG", maxResults=9999, fields=["id", "key"], json_result=True
        )
        assert isinstance(first, dict)
        assert len(first["issues"]) == 5000
        assert "total" not in first
        assert first["isLast"] is False
        rest = client.enhanced_search_issues(
            "project = BIG",
            maxResults=9999,
            fields="key",
            nextPageToken=first["nextPageToken"],
            json_result=True,
        )
        assert isinstance(rest, dict)
        assert [i["key"] for i in rest["issues"]] == ["BIG-5001", "BIG-5002"]
        assert rest["isLast"] is True and "nextPageToken" not in rest


def test_cloud_labels_add_remove_and_updated_bumps(sandbox: SandboxServer) -> None:
    client = cloud(sandbox)
    before = client.issue("PAY-3")
    original_stamp = before.fields.updated
    before.update(update={"labels": [{"add": "linesight-orphan"}, {"remove": "checkout"}]})
    after = client.issue("PAY-3")
    assert after.fields.labels == ["linesight-orphan"]
    assert after.fields.updated > original_stamp
    assert after.fields.updated.endswith("+0000") and len(after.fields.updated) == 28
    # the write is visible to JQL at once
    assert [i.key for i in client.enhanced_search_issues("labels = linesight-orphan")] == ["PAY-3"]
    # a no-op edit changes nothing, not even `updated`
    stamp = after.fields.updated
    response = requests.put(
        sandbox.url + "/jira/cloud/rest/api/3/issue/PAY-3?notifyUsers=false",
        json={"update": {"labels": [{"remove": "not-there"}]}},
        auth=(USER, TOKEN),
    )
    assert response.status_code == 204
    assert client.issue("PAY-3").fields.updated == stamp


def test_cloud_v3_comments_are_adf_and_v2_shows_them_as_text(sandbox: SandboxServer) -> None:
    v3 = cloud(sandbox)
    comment = v3.add_comment("PAY-2", ADF_HELLO)  # type: ignore[arg-type]
    assert comment.raw["body"] == ADF_HELLO
    edited = dict(
        ADF_HELLO, content=[{"type": "paragraph", "content": [{"type": "text", "text": "bye"}]}]
    )
    comment.update(body=edited)  # type: ignore[arg-type]
    assert [c.raw["body"] for c in v3.comments("PAY-2")] == [edited]
    v2 = cloud(sandbox, version="2")
    assert [c.body for c in v2.comments("PAY-2")] == ["bye"]
    added = v2.add_comment("PAY-2", "two\nlines")
    assert added.body == "two\nlines"
    assert v3.comment("PAY-2", added.id).raw["body"]["content"][1]["content"][0]["text"] == "lines"
    with pytest.raises(JIRAError) as caught:
        v3.add_comment("PAY-2", "plain text on v3")
    assert caught.value.status_code == 400
    page = requests.get(
        sandbox.url + "/jira/cloud/rest/api/3/issue/PAY-2/comment?startAt=1&maxResults=1",
        auth=(USER, TOKEN),
    ).json()
    assert (page["startAt"], page["maxResults"], page["total"]) == (1, 1, 2)
    assert [c["id"] for c in page["comments"]] == [added.id]
    requests.delete(added.raw["self"], auth=(USER, TOKEN)).raise_for_status()
    assert len(v3.comments("PAY-2")) == 1


def test_dc_search_pages_with_total_and_plain_comments(sandbox_factory: SandboxFactory) -> None:
    issues = [jira_issue(20000 + n, f"OPS-{n}") for n in range(1, 1203)]
    dataset = {"jira": [{"name": "dc", "flavour": "datacenter", "issues": issues}]}
    with sandbox_factory(dataset) as server:
        client = dc(server)
        assert client.deploymentType == "Server"
        found = client.search_issues(
            "project = OPS ORDER BY key", maxResults=False, fields="summary"
        )
        assert len(found) == 1202 and found.total == 1202
        assert found[0].key == "OPS-1" and found[-1].key == "OPS-1202"
        big = client.search_issues("project = OPS", maxResults=5000, json_result=True)
        assert isinstance(big, dict)
        assert big["maxResults"] == 1000 and len(big["issues"]) == 1000  # the DC page cap
        comment = client.add_comment("OPS-7", "wiki *text*")
        assert comment.body == "wiki *text*"
        client.issue("OPS-7").update(update={"labels": [{"add": "linesight-orphan"}]})
        assert client.issue("OPS-7").fields.labels == ["linesight-orphan"]


def test_dc_refuses_deep_paging_like_opensearch(sandbox: SandboxServer) -> None:
    client = dc(sandbox)
    with pytest.raises(JIRAError) as caught:
        client.search_issues("project = OPS", startAt=9990, maxResults=50)
    assert caught.value.status_code == 400
    assert "Result window is too large" in caught.value.text
    ok = client.search_issues("project = OPS", startAt=9950, maxResults=50)
    assert ok.total == 3 and len(ok) == 0


def test_wrong_token_is_401_for_both_flavours(sandbox: SandboxServer) -> None:
    with pytest.raises(JIRAError) as caught:
        JIRA(server=sandbox.url + "/jira/cloud", basic_auth=(USER, "wrong"), max_retries=0)
    assert caught.value.status_code == 401
    with pytest.raises(JIRAError) as caught:
        JIRA(server=sandbox.url + "/jira/dc", token_auth="wrong", max_retries=0)
    assert caught.value.status_code == 401
    # a Cloud site takes no bearer PAT, and the user must be the configured one
    for headers in ({"Authorization": f"Bearer {TOKEN}"},):
        response = requests.get(sandbox.url + "/jira/cloud/rest/api/3/myself", headers=headers)
        assert response.status_code == 401
        assert response.json()["errorMessages"]
    response = requests.get(sandbox.url + "/jira/cloud/rest/api/3/myself", auth=("eve@x", TOKEN))
    assert response.status_code == 401


def test_old_search_is_gone_on_cloud(sandbox: SandboxServer) -> None:
    for version in ("2", "3"):
        response = requests.get(
            f"{sandbox.url}/jira/cloud/rest/api/{version}/search",
            params={"jql": "project = PAY"},
            auth=(USER, TOKEN),
        )
        assert response.status_code == 410
        assert "CHANGE-2046" in response.json()["errorMessages"][0]
    with pytest.raises(JIRAError) as caught:
        cloud(sandbox)._get_json("search", params={"jql": "project = PAY"})
    assert caught.value.status_code == 410


def test_unbounded_and_invalid_jql_are_400(sandbox: SandboxServer) -> None:
    client = cloud(sandbox)
    with pytest.raises(JIRAError) as caught:
        client.enhanced_search_issues("ORDER BY created DESC")
    assert caught.value.status_code == 400 and "Unbounded JQL" in caught.value.text
    with pytest.raises(JIRAError) as caught:
        client.enhanced_search_issues("project = PAY AND rank > 3")
    assert "Field 'rank' does not exist" in caught.value.text


def test_forbidden_project_refuses_writes_but_reads(sandbox: SandboxServer) -> None:
    client = cloud(sandbox)
    assert client.issue("SEC-1").key == "SEC-1"
    with pytest.raises(JIRAError) as caught:
        client.add_comment("SEC-1", ADF_HELLO)  # type: ignore[arg-type]
    assert caught.value.status_code == 403
    response = requests.put(
        sandbox.url + "/jira/cloud/rest/api/3/issue/SEC-1",
        json={"update": {"labels": [{"add": "x"}]}},
        auth=(USER, TOKEN),
    )
    assert response.status_code == 403
    assert sandbox.state()["jira"]["cloud"]["issues"][5]["fields"]["labels"] == []


def test_issue_links_appear_on_both_issues(sandbox: SandboxServer) -> None:
    client = cloud(sandbox)
    client.create_issue_link("Blocks", "PAY-3", "PAY-5")
    source = client.issue("PAY-5").raw["fields"]["issuelinks"]
    target = client.issue("PAY-3").raw["fields"]["issuelinks"]
    assert [link["outwardIssue"]["key"] for link in source] == ["PAY-3"]
    assert [link["inwardIssue"]["key"] for link in target] == ["PAY-5"]
    client.create_issue_link("Blocks", "PAY-3", "PAY-5")  # a duplicate is not added twice
    assert len(client.issue("PAY-5").raw["fields"]["issuelinks"]) == 1


def test_bulkfetch_and_fields_filter(sandbox: SandboxServer) -> None:
    response = requests.post(
        sandbox.url + "/jira/cloud/rest/api/3/issue/bulkfetch",
        json={"issueIdsOrKeys": ["PAY-4", "10002", "NOPE-1"], "fields": ["summary", "labels"]},
        auth=(USER, TOKEN),
    )
    body = response.json()
    assert [i["key"] for i in body["issues"]] == ["PAY-2", "PAY-4"]  # ascending id, unknown dropped
    assert set(body["issues"][0]["fields"]) == {"summary", "labels"}
    too_many = requests.post(
        sandbox.url + "/jira/cloud/rest/api/3/issue/bulkfetch",
        json={"issueIdsOrKeys": [str(n) for n in range(101)]},
        auth=(USER, TOKEN),
    )
    assert too_many.status_code == 400
    issue = cloud(sandbox).issue("PAY-2", fields="*all,-labels,-parent")
    assert "labels" not in issue.raw["fields"] and "summary" in issue.raw["fields"]
    assert issue.raw["self"] == sandbox.url + "/jira/cloud/rest/api/3/issue/10002"


def _seed_failing_once(config: FaultConfig) -> int:
    """A seed whose first decision is a fault and whose second is not (deterministic RNG)."""
    for seed in range(1000):
        injector = FaultInjector(
            FaultConfig(**{**config.to_dict(), "seed": seed, "kinds": config.kinds})
        )
        if injector.decide() is not None and injector.decide() is None:
            return seed
    raise AssertionError("no such seed")


def test_429_with_retry_after_is_retried_by_resilient_session(
    sandbox: SandboxServer, caplog: pytest.LogCaptureFixture
) -> None:
    client = cloud(sandbox)
    config = FaultConfig(fail_rate=0.5, kinds=("429",))
    sandbox.faults = FaultConfig(fail_rate=0.5, kinds=("429",), seed=_seed_failing_once(config))
    since = len(sandbox.requests())
    with caplog.at_level(logging.WARNING):
        assert client.issue("PAY-1").key == "PAY-1"
    log = sandbox.requests(since)
    assert [e["status"] for e in log] == [429, 200]
    assert log[0]["fault"] == "429"
    assert "429" in caplog.text


def test_page_token_belongs_to_its_query_and_dc_has_no_v3(sandbox: SandboxServer) -> None:
    first = requests.get(
        sandbox.url + "/jira/cloud/rest/api/3/search/jql",
        params={"jql": "project = PAY", "maxResults": 1},
        auth=(USER, TOKEN),
    ).json()
    other = requests.get(
        sandbox.url + "/jira/cloud/rest/api/3/search/jql",
        params={"jql": "project = SEC", "nextPageToken": first["nextPageToken"]},
        auth=(USER, TOKEN),
    )
    assert other.status_code == 400 and "next page token" in other.json()["errorMessages"][0]
    v3 = requests.get(sandbox.url + "/jira/dc/rest/api/3/myself", auth=(USER, TOKEN))
    assert v3.status_code == 404
    assert requests.get(sandbox.url + "/jira/dc/rest/api/2/myself", auth=(USER, TOKEN)).ok
