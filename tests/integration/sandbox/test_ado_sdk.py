"""The real ``azure-devops`` SDK against the sandbox's Azure DevOps, over HTTP on loopback."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from linesight.sandbox import SandboxServer
from linesight.testing.plugin import SandboxFactory

TOKEN = "sandbox-token"
ROOT = "https://dev.azure.com/contoso/_apis/wit/workItems"


def work_item(
    item_id: int, kind: str, state: str, parent: int | None = None, **fields: Any
) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "id": item_id,
        "rev": 2,
        "fields": {
            "System.AreaPath": "Fabrikam\\Checkout",
            "System.TeamProject": "Fabrikam",
            "System.IterationPath": "Fabrikam",
            "System.WorkItemType": kind,
            "System.State": state,
            "System.CreatedDate": "2026-10-01T09:00:00.123Z",
            "System.ChangedDate": "2026-11-20T10:00:00.000Z",
            "System.Title": f"{kind} {item_id}",
            **fields,
        },
        "url": f"{ROOT}/{item_id}",
    }
    if parent is not None:
        payload["fields"]["System.Parent"] = parent
        payload["relations"] = [
            {
                "rel": "System.LinkTypes.Hierarchy-Reverse",
                "url": f"{ROOT}/{parent}",
                "attributes": {},
            }
        ]
    return payload


def dataset() -> dict[str, Any]:
    items = [
        work_item(4700, "Epic", "Active", **{"System.Tags": "KR:KR1.1"}),
        work_item(
            4711,
            "User Story",
            "Active",
            4700,
            **{"System.Tags": "checkout; KR:KR1.1", "Custom.KeyResults": "KR1.1"},
        ),
        work_item(4712, "User Story", "New", 4700),
        work_item(4713, "Task", "Closed", 4711),
    ]
    scrum = [
        work_item(
            9001,
            "Product Backlog Item",
            "Committed",
            **{
                "System.AreaPath": "Tailspin",
                "System.TeamProject": "Tailspin",
                "System.IterationPath": "Tailspin",
            },
        )
    ]
    return {
        "azure_devops": [
            {
                "organization": "contoso",
                "project": "Fabrikam",
                "process": "Agile",
                "work_items": items,
            },
            {
                "organization": "contoso",
                "project": "Tailspin",
                "process": "Scrum",
                "work_items": scrum,
            },
        ]
    }


@pytest.fixture
def sdk(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Any:
    """The SDK modules, with its on-disk and in-process location caches pointed at tmp_path."""
    monkeypatch.setenv("AZURE_DEVOPS_CACHE_DIR", str(tmp_path / "ado-cache"))
    from azure.devops import _file_cache
    from azure.devops.client import Client

    # The cache directory is read when the SDK is first imported; repoint its two caches.
    for cache, name in (
        (_file_cache.OPTIONS_CACHE, "options"),
        (_file_cache.RESOURCE_CACHE, "resources"),
    ):
        monkeypatch.setattr(cache, "file_name", str(tmp_path / f"{name}.json"))
        monkeypatch.setattr(cache, "data", {})
        monkeypatch.setattr(cache, "initial_load_occurred", False)
    monkeypatch.setattr(Client, "_locations_cache", {})
    import azure.devops.connection
    import azure.devops.v7_1.work_item_tracking.models

    return azure.devops


@pytest.fixture
def sandbox(sandbox_factory: SandboxFactory) -> Iterator[SandboxServer]:
    with sandbox_factory(dataset()) as server:
        yield server


def client(sdk: Any, sandbox: SandboxServer, token: str = TOKEN) -> Any:
    from msrest.authentication import BasicAuthentication

    connection = sdk.connection.Connection(
        base_url=sandbox.url + "/ado/contoso", creds=BasicAuthentication("", token)
    )
    return connection.clients_v7_1.get_work_item_tracking_client()


def models(sdk: Any) -> Any:
    return sdk.v7_1.work_item_tracking.models


def query(sdk: Any, wit: Any, text: str, **options: Any) -> Any:
    m = models(sdk)
    team = m.TeamContext(project="Fabrikam")
    return wit.query_by_wiql(m.Wiql(query=text), team_context=team, **options)


def test_wiql_then_batch(sdk: Any, sandbox: SandboxServer) -> None:
    wit = client(sdk, sandbox)
    m = models(sdk)
    result = query(
        sdk,
        wit,
        "SELECT [System.Id] FROM WorkItems WHERE [System.TeamProject] = @project "
        "AND [System.Tags] CONTAINS 'KR:KR1.1' ORDER BY [System.Id]",
    )
    ids = [ref.id for ref in result.work_items]
    assert ids == [4700, 4711]
    assert result.work_items[0].url == f"{sandbox.url}/ado/contoso/_apis/wit/workItems/4700"
    items = wit.get_work_items_batch(
        m.WorkItemBatchGetRequest(ids=ids, expand="Relations"), project="Fabrikam"
    )
    assert [i.fields["System.Title"] for i in items] == ["Epic 4700", "User Story 4711"]
    parent = next(r for r in items[1].relations if r.rel == "System.LinkTypes.Hierarchy-Reverse")
    assert parent.url == f"{sandbox.url}/ado/contoso/_apis/wit/workItems/4700"
    assert parent.attributes == {"isLocked": False, "name": "Parent"}
    slim = wit.get_work_items_batch(
        m.WorkItemBatchGetRequest(ids=[4711], fields=["System.Id", "System.State"]),
        project="Fabrikam",
    )
    assert slim[0].fields == {"System.Id": 4711, "System.State": "Active"}
    assert slim[0].relations is None


def test_incremental_query_with_time_precision(sdk: Any, sandbox: SandboxServer) -> None:
    wit = client(sdk, sandbox)
    text = (
        "SELECT [System.Id] FROM WorkItems WHERE [System.TeamProject] = @project "
        "AND [System.ChangedDate] >= '2026-11-20T10:00:00Z'"
    )
    with pytest.raises(sdk.exceptions.AzureDevOpsServiceError, match="date precision"):
        query(sdk, wit, text)
    result = query(sdk, wit, text, time_precision=True)
    assert len(result.work_items) == 4


def test_get_by_ids_and_single(sdk: Any, sandbox: SandboxServer) -> None:
    wit = client(sdk, sandbox)
    items = wit.get_work_items([4712, 4700], project="Fabrikam", fields=["System.Title"])
    assert [i.fields["System.Title"] for i in items] == ["User Story 4712", "Epic 4700"]
    one = wit.get_work_item(4711, project="Fabrikam", expand="All")
    assert one.fields["Custom.KeyResults"] == "KR1.1"
    assert one.relations is not None and one._links is not None
    with pytest.raises(sdk.exceptions.AzureDevOpsServiceError, match="TF401232") as missing:
        wit.get_work_item(1, project="Fabrikam")
    assert missing.value.type_key == "WorkItemUnauthorizedAccessException"


def test_update_with_rev_test_and_stale_rev(sdk: Any, sandbox: SandboxServer) -> None:
    wit = client(sdk, sandbox)
    patch = sdk.v7_1.work_item_tracking.models.JsonPatchOperation
    updated = wit.update_work_item(
        [
            patch(op="test", path="/rev", value=2),
            patch(op="add", path="/fields/System.Tags", value="linesight-orphan; kr:kr1.1"),
        ],
        4711,
        project="Fabrikam",
    )
    assert updated.rev == 3
    assert updated.fields["System.Tags"] == "checkout; KR:KR1.1; linesight-orphan"
    with pytest.raises(sdk.exceptions.AzureDevOpsServiceError, match="TF26071") as stale:
        wit.update_work_item(
            [
                patch(op="test", path="/rev", value=2),
                patch(op="replace", path="/fields/System.Tags", value="lost"),
            ],
            4711,
            project="Fabrikam",
        )
    assert stale.value.type_key == "WorkItemRevisionMismatchException"
    assert wit.get_work_item(4711).fields["System.Tags"].endswith("linesight-orphan")
    writes = [r for r in sandbox.requests() if r["method"] == "PATCH"]
    assert [r["status"] for r in writes] == [200, 412]


def test_link_added_through_the_sdk_appears_at_both_ends(sdk: Any, sandbox: SandboxServer) -> None:
    wit = client(sdk, sandbox)
    patch = sdk.v7_1.work_item_tracking.models.JsonPatchOperation
    target = f"{sandbox.url}/ado/contoso/_apis/wit/workItems/4712"
    wit.update_work_item(
        [
            patch(
                op="add",
                path="/relations/-",
                value={
                    "rel": "System.LinkTypes.Related",
                    "url": target,
                    "attributes": {"comment": "x"},
                },
            )
        ],
        4711,
        project="Fabrikam",
    )
    other = wit.get_work_item(4712, expand="Relations")
    related = [r for r in other.relations if r.rel == "System.LinkTypes.Related"]
    assert [r.url.rsplit("/", 1)[1] for r in related] == ["4711"]


def test_comments_round_trip(sdk: Any, sandbox: SandboxServer) -> None:
    wit = client(sdk, sandbox)
    m = models(sdk)
    created = wit.add_work_item_comment(
        m.CommentCreate(text="<!-- linesight:managed --> **Orphan**"),
        "Fabrikam",
        4711,
        format="markdown",
    )
    assert created.format == "markdown" and created.rendered_text.startswith("<p>")
    for n in range(3):
        wit.add_comment(m.CommentCreate(text=f"note {n}"), "Fabrikam", 4711)
    page = wit.get_comments("Fabrikam", 4711, top=3)
    assert (page.total_count, page.count) == (4, 3)
    rest = wit.get_comments("Fabrikam", 4711, top=3, continuation_token=page.continuation_token)
    texts = [c.text for c in page.comments + rest.comments]
    assert texts[-1].startswith("<!-- linesight:managed -->")  # newest first by default
    updated = wit.update_comment(
        m.CommentUpdate(text="<!-- linesight:managed --> v2"), "Fabrikam", 4711, created.id
    )
    assert updated.version == 2
    wit.delete_comment("Fabrikam", 4711, created.id)
    assert wit.get_comments("Fabrikam", 4711).total_count == 3
    assert wit.get_work_item(4711).fields["System.CommentCount"] == 3


def test_work_item_type_states_and_relation_types(sdk: Any, sandbox: SandboxServer) -> None:
    wit = client(sdk, sandbox)
    states = wit.get_work_item_type_states("Fabrikam", "User Story")
    assert [(s.name, s.category) for s in states] == [
        ("New", "Proposed"),
        ("Active", "InProgress"),
        ("Resolved", "Resolved"),
        ("Closed", "Completed"),
        ("Removed", "Removed"),
    ]
    scrum = wit.get_work_item_type_states("Tailspin", "Product Backlog Item")
    assert [s.name for s in scrum] == ["New", "Approved", "Committed", "Done", "Removed"]
    kinds = {t.reference_name for t in wit.get_relation_types()}
    assert "System.LinkTypes.Hierarchy-Reverse" in kinds


def test_a_wrong_pat_is_an_authentication_error(sdk: Any, sandbox: SandboxServer) -> None:
    with pytest.raises(sdk.exceptions.AzureDevOpsAuthenticationError) as error:
        client(sdk, sandbox, token="not-the-token")
    assert "not-the-token" not in str(error.value)


def test_wiql_errors_reach_the_caller(sdk: Any, sandbox: SandboxServer) -> None:
    wit = client(sdk, sandbox)
    with pytest.raises(sdk.exceptions.AzureDevOpsServiceError, match="TF51005") as bad:
        query(sdk, wit, "SELECT [System.Id] FROM WorkItems WHERE [Nope.X] = 1")
    assert bad.value.type_key == "VssPropertyValidationException"
    with pytest.raises(sdk.exceptions.AzureDevOpsServiceError, match="TF51006"):
        query(sdk, wit, "SELECT FROM WorkItems")


def test_more_than_20000_results_is_vs402337(sdk: Any, sandbox_factory: SandboxFactory) -> None:
    items = [work_item(i, "Task", "New") for i in range(1, 20_002)]
    data = {
        "azure_devops": [{"organization": "contoso", "project": "Fabrikam", "work_items": items}]
    }
    with sandbox_factory(data) as server:
        wit = client(sdk, server)
        with pytest.raises(sdk.exceptions.AzureDevOpsServiceError, match="VS402337"):
            query(sdk, wit, "SELECT [System.Id] FROM WorkItems")
        half = query(sdk, wit, "SELECT [System.Id] FROM WorkItems WHERE [System.Id] <= 10000")
        assert len(half.work_items) == 10_000


def test_deleted_work_items_are_404(sdk: Any, sandbox: SandboxServer) -> None:
    wit = client(sdk, sandbox)
    deleted = wit.delete_work_item(4712, project="Fabrikam")
    assert deleted.id == 4712
    with pytest.raises(sdk.exceptions.AzureDevOpsServiceError, match="TF401232"):
        wit.get_work_item(4712, project="Fabrikam")


def test_organization_names_are_case_insensitive(sdk: Any, sandbox_factory: SandboxFactory) -> None:
    """The SDK lower-cases the organization URL for its OPTIONS call; the sandbox must route it."""
    data = dataset()
    for entry in data["azure_devops"]:
        entry["organization"] = "Contoso"
    with sandbox_factory(data) as server:
        from msrest.authentication import BasicAuthentication

        connection = sdk.connection.Connection(
            base_url=server.url + "/ado/Contoso", creds=BasicAuthentication("", TOKEN)
        )
        wit = connection.clients_v7_1.get_work_item_tracking_client()
        item = wit.get_work_item(4711, project="Fabrikam")
        assert item.fields["System.Title"]
        methods = [(r["method"], r["path"]) for r in server.requests()]
        assert ("OPTIONS", "/ado/contoso/_apis") in methods
