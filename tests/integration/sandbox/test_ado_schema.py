"""Every Azure DevOps response the connector relies on validates against Microsoft's 7.1 swagger."""

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
from linesight.testing.plugin import SandboxFactory

SPEC = (
    Path(__file__).resolve().parents[3].parent
    / "shared/specs/azure-devops/wit-7.1/workItemTracking.json"
)
AUTH = ("", "sandbox-token")
ROOT = "https://dev.azure.com/contoso/_apis/wit/workItems"


def _any_object_is_any_value(node: Any) -> Any:
    # The swagger is generated from C#: a dictionary of `object` becomes
    # additionalProperties {"type": "object"}, although its values are strings, numbers and
    # identities (work item fields, relation attributes, _links). "object" there means "any".
    if isinstance(node, dict):
        return {
            key: {}
            if key == "additionalProperties" and value == {"type": "object"}
            else _any_object_is_any_value(value)
            for key, value in node.items()
        }
    if isinstance(node, list):
        return [_any_object_is_any_value(value) for value in node]
    return node


@functools.cache
def _registry() -> Registry:
    document = json.loads(SPEC.read_text(encoding="utf-8-sig"))
    document = _any_object_is_any_value(document)
    return Registry().with_resource("urn:ado", Resource.from_contents(document, DRAFT4))


def assert_conforms(instance: Any, definition: str, *, collection: bool = False) -> None:
    ref: dict[str, Any] = {"$ref": f"urn:ado#/definitions/{definition}"}
    if collection:
        # Arrays travel in the VssJsonCollectionWrapper {"count": n, "value": [...]}.
        assert instance["count"] == len(instance["value"])
        instance = instance["value"]
        ref = {"type": "array", "items": ref}
    errors = list(Draft4Validator(ref, registry=_registry()).iter_errors(instance))
    assert not errors, [f"{list(e.absolute_path)}: {e.message}" for e in errors[:5]]


def item(item_id: int, kind: str, state: str, parent: int | None = None) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "id": item_id,
        "rev": 1,
        "fields": {
            "System.AreaPath": "Fabrikam\\Checkout",
            "System.TeamProject": "Fabrikam",
            "System.IterationPath": "Fabrikam",
            "System.WorkItemType": kind,
            "System.State": state,
            "System.CreatedDate": "2026-10-01T09:00:00.123Z",
            "System.ChangedDate": "2026-11-20T10:00:00.000Z",
            "System.Title": f"{kind} {item_id}",
            "System.Tags": "KR:KR1.1",
            "System.AssignedTo": {
                "displayName": "Ada L",
                "uniqueName": "ada@example.com",
                "id": "d291b0c4-a05c-4ea6-8df1-4b41d5f39eff",
            },
            "Microsoft.VSTS.Common.Priority": 2,
        },
    }
    if parent is not None:
        payload["relations"] = [
            {
                "rel": "System.LinkTypes.Hierarchy-Reverse",
                "url": f"{ROOT}/{parent}",
                "attributes": {},
            }
        ]
    return payload


@pytest.fixture
def sandbox(sandbox_factory: SandboxFactory) -> Iterator[SandboxServer]:
    items = [item(1, "Epic", "Active"), item(2, "User Story", "New", parent=1)]
    data = {
        "azure_devops": [{"organization": "contoso", "project": "Fabrikam", "work_items": items}]
    }
    with sandbox_factory(data) as server:
        yield server


def call(
    sandbox: SandboxServer,
    method: str,
    path: str,
    *,
    version: str = "7.1-preview.3",
    **kwargs: Any,
) -> Any:
    headers = {"Accept": f"application/json;api-version={version}"}
    if method == "PATCH":
        headers["Content-Type"] = "application/json-patch+json"
    response = requests.request(
        method, f"{sandbox.url}/ado/contoso/{path}", auth=AUTH, headers=headers, **kwargs
    )
    assert response.status_code == 200, response.text
    return response.json()


def test_the_checker_really_checks() -> None:
    with pytest.raises(AssertionError):
        assert_conforms({"id": "one", "rev": 1, "fields": {}}, "WorkItem")
    with pytest.raises(AssertionError):
        assert_conforms({"count": 1, "value": [{"name": 1}]}, "WorkItemStateColor", collection=True)


def test_wiql_result(sandbox: SandboxServer) -> None:
    body = call(
        sandbox,
        "POST",
        "Fabrikam/_apis/wit/wiql",
        version="7.1-preview.2",
        json={
            "query": "SELECT [System.Id], [System.Title] FROM WorkItems "
            "ORDER BY [System.ChangedDate] DESC"
        },
    )
    assert_conforms(body, "WorkItemQueryResult")
    assert [w["id"] for w in body["workItems"]] == [1, 2]


@pytest.mark.parametrize("expand", ["None", "Relations", "Links", "All"])
def test_work_items_batch(sandbox: SandboxServer, expand: str) -> None:
    body = call(
        sandbox,
        "POST",
        "Fabrikam/_apis/wit/workitemsbatch",
        version="7.1-preview.1",
        json={"ids": [1, 2], "$expand": expand},
    )
    assert_conforms(body, "WorkItem", collection=True)
    fields_only = call(
        sandbox,
        "POST",
        "Fabrikam/_apis/wit/workitemsbatch",
        version="7.1-preview.1",
        json={"ids": [2], "fields": ["System.Title"]},
    )
    assert_conforms(fields_only, "WorkItem", collection=True)


def test_work_item_get_patch_and_delete(sandbox: SandboxServer) -> None:
    assert_conforms(
        call(sandbox, "GET", "Fabrikam/_apis/wit/workitems/2", params={"$expand": "All"}),
        "WorkItem",
    )
    assert_conforms(
        call(sandbox, "GET", "Fabrikam/_apis/wit/workitems", params={"ids": "1,2"}),
        "WorkItem",
        collection=True,
    )
    patched = call(
        sandbox,
        "PATCH",
        "Fabrikam/_apis/wit/workitems/2",
        json=[
            {"op": "test", "path": "/rev", "value": 1},
            {"op": "add", "path": "/fields/System.Tags", "value": "linesight-orphan"},
            {
                "op": "add",
                "path": "/relations/-",
                "value": {"rel": "Hyperlink", "url": "https://example.test/x"},
            },
        ],
    )
    assert_conforms(patched, "WorkItem")
    deleted = call(sandbox, "DELETE", "Fabrikam/_apis/wit/workitems/2")
    assert_conforms(deleted, "WorkItemDelete")


def test_comments(sandbox: SandboxServer) -> None:
    path = "Fabrikam/_apis/wit/workItems/1/comments"
    created = call(
        sandbox,
        "POST",
        path,
        version="7.1-preview.4",
        json={"text": "**hi**"},
        params={"format": "markdown"},
    )
    assert_conforms(created, "Comment")
    call(sandbox, "POST", path, version="7.1-preview.4", json={"text": "second"})
    page = call(
        sandbox,
        "GET",
        path,
        version="7.1-preview.4",
        params={"$top": "1", "$expand": "renderedText"},
    )
    assert_conforms(page, "CommentList")
    assert page["continuationToken"] and page["count"] == 1
    updated = call(
        sandbox,
        "PATCH",
        f"{path}/{created['id']}",
        version="7.1-preview.4",
        json={"text": "v2"},
    )
    assert_conforms(updated, "Comment")


def test_types_states_relation_types_and_fields(sandbox: SandboxServer) -> None:
    states = call(
        sandbox,
        "GET",
        "Fabrikam/_apis/wit/workitemtypes/User%20Story/states",
        version="7.1-preview.1",
    )
    assert_conforms(states, "WorkItemStateColor", collection=True)
    types = call(sandbox, "GET", "Fabrikam/_apis/wit/workitemtypes", version="7.1-preview.2")
    assert_conforms(types, "WorkItemType", collection=True)
    relation_types = call(
        sandbox, "GET", "_apis/wit/workitemrelationtypes", version="7.1-preview.2"
    )
    assert_conforms(relation_types, "WorkItemRelationType", collection=True)
    fields = call(sandbox, "GET", "Fabrikam/_apis/wit/fields", version="7.1-preview.3")
    assert_conforms(fields, "WorkItemField2", collection=True)
