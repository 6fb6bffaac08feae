"""Fixtures for the Azure DevOps connector tests: a small hand-made org on the sandbox."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from pydantic import SecretStr

from linesight.sandbox import SandboxServer
from linesight.sandbox.wire import DEFAULT_TOKEN
from linesight.settings import AzureDevOpsSource
from linesight_azure_devops.connector import AzureDevOpsConnector

ORG = "contoso"
PROJECT = "Fabrikam"
KR_FIELD = "Custom.KeyResults"


def ado_item(
    number: int,
    title: str,
    *,
    type: str = "User Story",
    state: str = "New",
    area: str = "Fabrikam\\Checkout",
    project: str = PROJECT,
    tags: str | None = None,
    parent: int | None = None,
    related: tuple[int, ...] = (),
    kr_field: str | None = None,
    changed: str = "2024-05-01T10:00:00Z",
) -> dict[str, Any]:
    """One work item as the REST API returns it (fields absent when empty, like the service)."""
    root = f"https://dev.azure.com/{ORG}/_apis/wit/workItems"
    fields: dict[str, Any] = {
        "System.Id": number,
        "System.AreaPath": area,
        "System.TeamProject": project,
        "System.IterationPath": project,
        "System.WorkItemType": type,
        "System.State": state,
        "System.Reason": "New",
        "System.CreatedDate": "2024-04-01T09:00:00Z",
        "System.ChangedDate": changed,
        "System.Title": title,
        "System.Rev": 1,
    }
    if state in ("Active", "Resolved", "Closed"):
        fields["Microsoft.VSTS.Common.ActivatedDate"] = "2024-04-02T09:00:00Z"
    if state == "Closed":
        fields["Microsoft.VSTS.Common.ClosedDate"] = "2024-04-20T09:00:00Z"
    if tags:
        fields["System.Tags"] = tags
    if kr_field:
        fields[KR_FIELD] = kr_field
    relations = []
    if parent is not None:
        fields["System.Parent"] = parent
        relations.append(
            {
                "rel": "System.LinkTypes.Hierarchy-Reverse",
                "url": f"{root}/{parent}",
                "attributes": {},
            }
        )
    relations.extend(
        {"rel": "System.LinkTypes.Related", "url": f"{root}/{other}", "attributes": {}}
        for other in related
    )
    payload: dict[str, Any] = {"id": number, "rev": 1, "fields": fields, "url": f"{root}/{number}"}
    if relations:
        payload["relations"] = relations
    return payload


def small_org() -> list[dict[str, Any]]:
    return [
        ado_item(1, "Make checkout effortless", type="Epic", state="Active", tags="KR:KR1.1"),
        ado_item(2, "One-click pay", type="Feature", state="Active", parent=1),
        ado_item(3, "Remember the card", state="Active", parent=2, tags="customer-x; KR:KR1.2"),
        ado_item(4, "Guest checkout <b>now</b> & 'fast'", state="New", parent=2, related=(3,)),
        ado_item(5, "Old idea", state="Removed", parent=2),
        ado_item(6, "Receipts by mail", state="Closed", area="Fabrikam\\Billing", kr_field="KR2.1"),
        ado_item(
            7, "Nightly reconciliation", type="Task", state="Active", area="Fabrikam\\Billing"
        ),
        ado_item(8, "Resolved story", state="Resolved", tags="linesight-orphan"),
        ado_item(9, "Another project's item", project="Other", area="Other"),
    ]


def dataset(work_items: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "azure_devops": [
            {
                "organization": ORG,
                "project": PROJECT,
                "process": "Agile",
                "work_items": [
                    w for w in work_items if w["fields"]["System.TeamProject"] == PROJECT
                ],
            },
            {
                "organization": ORG,
                "project": "Other",
                "process": "Agile",
                "work_items": [
                    w for w in work_items if w["fields"]["System.TeamProject"] == "Other"
                ],
            },
        ]
    }


def make_source(sandbox: SandboxServer, **overrides: Any) -> AzureDevOpsSource:
    values: dict[str, Any] = {
        "name": "boards",
        "kind": "azure-devops",
        "url": f"{sandbox.url}/ado/{ORG}",
        "project": PROJECT,
        "token_env": "ADO_TOKEN",
        "token": SecretStr(DEFAULT_TOKEN),
        "kr_field": KR_FIELD,
        "concurrency": 4,
    }
    values.update(overrides)
    return AzureDevOpsSource(**values)


@pytest.fixture
def ado_sandbox() -> Iterator[SandboxServer]:
    with SandboxServer(dataset(small_org()), port=0) as server:
        yield server


@pytest.fixture
def connector(ado_sandbox: SandboxServer) -> Iterator[AzureDevOpsConnector]:
    connector = AzureDevOpsConnector(make_source(ado_sandbox))
    yield connector
    connector.close()
