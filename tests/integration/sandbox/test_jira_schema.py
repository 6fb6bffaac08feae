"""Every response the connectors rely on validates against Atlassian's own OpenAPI document."""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from jsonschema import Draft4Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

from linesight.sandbox import SandboxServer
from linesight.testing.plugin import SandboxFactory, small_dataset

SPEC = (
    Path(__file__).resolve().parents[3].parent
    / "shared/specs/jira-cloud-platform/swagger-v3.v3.json"
)
AUTH = ("sandbox@example.com", "sandbox-token")
ADF = {
    "type": "doc",
    "version": 1,
    "content": [{"type": "paragraph", "content": [{"type": "text", "text": "x"}]}],
}


@functools.cache
def _registry() -> Registry:
    document = json.loads(SPEC.read_text(encoding="utf-8"))
    # OpenAPI 3.0 schema objects are a draft-4 dialect; refs are "#/components/schemas/...".
    return Registry().with_resource("urn:jira", Resource.from_contents(document, DRAFT4))


def assert_conforms(instance: Any, schema_name: str, *, array: bool = False) -> None:
    ref: dict[str, Any] = {"$ref": f"urn:jira#/components/schemas/{schema_name}"}
    schema = {"type": "array", "items": ref} if array else ref
    errors = list(Draft4Validator(schema, registry=_registry()).iter_errors(instance))
    assert not errors, [f"{list(e.absolute_path)}: {e.message}" for e in errors[:5]]


@pytest.fixture
def sandbox(sandbox_factory: SandboxFactory) -> Iterator[SandboxServer]:
    with sandbox_factory(small_dataset()) as server:
        yield server


def call(sandbox: SandboxServer, method: str, path: str, **kwargs: Any) -> requests.Response:
    return requests.request(
        method, f"{sandbox.url}/jira/cloud/rest/api/3/{path}", auth=AUTH, **kwargs
    )


def test_the_checker_really_checks() -> None:
    with pytest.raises(AssertionError):
        assert_conforms({"isLast": "yes", "issues": [{"id": 1}]}, "SearchAndReconcileResults")
    with pytest.raises(AssertionError):
        assert_conforms({"issues": [], "total": 3}, "BulkIssueResults")


@pytest.mark.parametrize("fields", [None, "key", "*all", "summary,status,labels,parent"])
def test_search_jql_pages_conform(sandbox: SandboxServer, fields: str | None) -> None:
    params = {"jql": "project = PAY ORDER BY key", "maxResults": 2}
    if fields:
        params["fields"] = fields
    page = call(sandbox, "GET", "search/jql", params=params).json()
    assert len(page["issues"]) == 2 and page["nextPageToken"]
    assert_conforms(page, "SearchAndReconcileResults")
    for issue in page["issues"]:
        assert_conforms(issue, "IssueBean")
    body = {"jql": params["jql"], "nextPageToken": page["nextPageToken"], "maxResults": 10}
    last = call(sandbox, "POST", "search/jql", json=body).json()
    assert last["isLast"] is True and len(last["issues"]) == 3
    assert_conforms(last, "SearchAndReconcileResults")


def test_bulkfetch_issue_and_count_conform(sandbox: SandboxServer) -> None:
    bulk = call(
        sandbox, "POST", "issue/bulkfetch", json={"issueIdsOrKeys": ["PAY-1", "PAY-2"]}
    ).json()
    assert len(bulk["issues"]) == 2
    assert_conforms(bulk, "BulkIssueResults")
    assert_conforms(call(sandbox, "GET", "issue/PAY-2").json(), "IssueBean")
    count = call(sandbox, "POST", "search/approximate-count", json={"jql": "project = PAY"}).json()
    assert count == {"count": 5}
    assert_conforms(count, "JQLCountResultsBean")


def test_comments_conform(sandbox: SandboxServer) -> None:
    created = call(sandbox, "POST", "issue/PAY-1/comment", json={"body": ADF})
    assert created.status_code == 201
    assert_conforms(created.json(), "Comment")
    edited = call(sandbox, "PUT", f"issue/PAY-1/comment/{created.json()['id']}", json={"body": ADF})
    assert_conforms(edited.json(), "Comment")
    page = call(sandbox, "GET", "issue/PAY-1/comment").json()
    assert page["total"] == 1
    assert_conforms(page, "PageOfComments")


def test_site_endpoints_conform(sandbox: SandboxServer) -> None:
    assert_conforms(call(sandbox, "GET", "serverInfo").json(), "ServerInformation")
    assert_conforms(call(sandbox, "GET", "myself").json(), "User")
    fields = call(sandbox, "GET", "field").json()
    assert "customfield_10014" in {f["id"] for f in fields}
    assert_conforms(fields, "FieldDetails", array=True)
    link_types = call(sandbox, "GET", "issueLinkType").json()
    assert_conforms(link_types, "IssueLinkTypes")


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "status"),
    [
        ("GET", "search/jql", {"params": {"jql": "project = NOPE"}}, 400),
        ("GET", "issue/PAY-999", {}, 404),
        ("PUT", "issue/PAY-1", {"json": {"fields": {"status": {"name": "Done"}}}}, 400),
        ("PUT", "issue/PAY-1", {"json": {"update": {"labels": [{"add": "has space"}]}}}, 400),
        ("GET", "search", {"params": {"jql": "project = PAY"}}, 410),
        ("POST", "issue/SEC-1/comment", {"json": {"body": ADF}}, 403),
    ],
)
def test_errors_have_jiras_shape(
    sandbox: SandboxServer, method: str, path: str, kwargs: dict[str, Any], status: int
) -> None:
    response = call(sandbox, method, path, **kwargs)
    assert response.status_code == status
    body = response.json()
    assert body["errorMessages"] or body["errors"]
    assert_conforms(body, "ErrorCollection")


def test_401_has_jiras_shape(sandbox: SandboxServer) -> None:
    response = requests.get(
        f"{sandbox.url}/jira/cloud/rest/api/3/myself", auth=("sandbox@example.com", "nope")
    )
    assert response.status_code == 401
    assert_conforms(response.json(), "ErrorCollection")
