"""Mapping Azure DevOps work item JSON (the recorded httpExamples) to WorkItem."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from linesight.model import Link, StatusCategory
from linesight_azure_devops.mapping import MappingContext, map_work_item, split_tags
from linesight_azure_devops.states import StateCatalog

EXAMPLES = Path(__file__).resolve().parents[4] / "shared/specs/azure-devops/wit-7.1/httpExamples"

# The Agile and Scrum types the examples use, as their states endpoints answer.
STATES = {
    "user story": [
        {"name": "New", "category": "Proposed"},
        {"name": "Active", "category": "InProgress"},
        {"name": "Resolved", "category": "Resolved"},
        {"name": "Closed", "category": "Completed"},
        {"name": "Removed", "category": "Removed"},
    ],
    "product backlog item": [
        {"name": "New", "category": "Proposed"},
        {"name": "Committed", "category": "InProgress"},
        {"name": "Done", "category": "Completed"},
        {"name": "Removed", "category": "Removed"},
    ],
    "task": [
        {"name": "To Do", "category": "Proposed"},
        {"name": "In Progress", "category": "InProgress"},
        {"name": "Done", "category": "Completed"},
        {"name": "Removed", "category": "Removed"},
    ],
}


def example(path: str) -> Any:
    return json.loads((EXAMPLES / path).read_text(encoding="utf-8-sig"))["responses"]["200"]["body"]


def context(**overrides: Any) -> MappingContext:
    catalog = StateCatalog(lambda name: STATES.get(name.casefold()))
    values: dict[str, Any] = {
        "source": "boards",
        "org_url": "https://dev.azure.com/fabrikam",
        "category": catalog.category,
    }
    values.update(overrides)
    return MappingContext(**values)


def test_single_work_item_example_maps_every_field() -> None:
    item = map_work_item(example("workItems/GET__wit_WorkItems_id.json"), context())
    assert item is not None
    assert item.key == "12"
    assert item.source == "boards"
    assert item.type == "User Story"
    assert item.title == "Epic 2"
    assert item.status == "Active"
    assert item.status_category is StatusCategory.IN_PROGRESS
    assert item.project == "MyAgilePrj2"
    assert item.team == "MyAgilePrj2"  # the area path when no team_field is set
    assert item.labels == ("client", "sample", "teamservices")
    assert item.rev == 3
    assert item.created == datetime(2017, 9, 4, 6, 11, 59, 50000, tzinfo=UTC)
    assert item.updated == datetime(2017, 10, 4, 23, 32, 2, 180000, tzinfo=UTC)
    assert item.started == datetime(2017, 10, 4, 23, 32, 1, 600000, tzinfo=UTC)
    assert item.resolved is None
    assert item.url == "https://dev.azure.com/fabrikam/MyAgilePrj2/_workitems/edit/12"


def test_relations_give_parent_and_links_but_not_children_or_attachments() -> None:
    body = example("workItems/GET__wit_WorkItems_ids-_ids___expand-all.json")
    items = {p["id"]: map_work_item(p, context()) for p in body["value"]}
    epic, child, other = items[297], items[299], items[300]
    assert epic is not None and child is not None and other is not None
    assert epic.parent is None
    assert epic.links == ()  # two children and an attachment: none is a link
    assert child.parent == "297"
    assert child.labels == ("Tag1", "Tag2")
    assert child.links == (Link(kind="System.LinkTypes.Related", target="300"),)
    assert child.status_category is StatusCategory.TODO
    assert child.team == "Fabrikam-Fiber-Git\\Website"
    assert other.parent == "297"


def test_project_names_are_url_quoted_in_the_web_link() -> None:
    payload = example("workItems/GET__wit_WorkItems_id.json")
    payload["fields"]["System.TeamProject"] = "Fabrikam Fiber/Git"
    item = map_work_item(payload, context())
    assert item is not None
    assert item.url == "https://dev.azure.com/fabrikam/Fabrikam%20Fiber%2FGit/_workitems/edit/12"


def test_team_field_and_kr_field_are_read_when_configured() -> None:
    payload = example("workItems/GET__wit_WorkItems_id.json")
    payload["fields"]["Custom.Team"] = "Payments"
    payload["fields"]["Custom.KeyResults"] = "KR1.1; KR1.2,KR2.1 ;; KR1.1"
    item = map_work_item(payload, context(team_field="Custom.Team", kr_field="Custom.KeyResults"))
    assert item is not None
    assert item.team == "Payments"
    assert item.kr_refs == ("KR1.1", "KR1.2", "KR2.1")


def test_system_parent_is_the_fallback_for_the_parent() -> None:
    payload = example("workItems/GET__wit_WorkItems_id.json")
    payload["fields"]["System.Parent"] = 7
    item = map_work_item(payload, context())
    assert item is not None and item.parent == "7"


def test_done_items_carry_their_resolution_date() -> None:
    payload = example("workItems/GET__wit_WorkItems_id.json")
    payload["fields"]["System.State"] = "Closed"
    payload["fields"]["Microsoft.VSTS.Common.ClosedDate"] = "2017-11-01T10:00:00Z"
    item = map_work_item(payload, context())
    assert item is not None
    assert item.status_category is StatusCategory.DONE
    assert item.resolved == datetime(2017, 11, 1, 10, tzinfo=UTC)


def test_removed_items_are_out_of_scope() -> None:
    payload = example("workItems/GET__wit_WorkItems_id.json")
    payload["fields"]["System.State"] = "Removed"
    assert map_work_item(payload, context()) is None


@pytest.mark.parametrize(
    "payload",
    [
        None,
        "12",
        {"id": "12", "fields": {}},
        {"id": 12},
        {"id": 12, "fields": {"System.WorkItemType": "Task", "System.State": "To Do"}},
        {"id": 12, "fields": {"System.Title": "t", "System.State": "To Do"}},
        {"id": 12, "fields": {"System.Title": ["t"], "System.WorkItemType": "Task"}},
        {"id": True, "fields": {}},
    ],
)
def test_garbage_payloads_are_skipped_with_a_warning(
    payload: Any, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="linesight.azure_devops"):
        assert map_work_item(payload, context()) is None
    assert "skipping work item" in caplog.text
    if isinstance(payload, dict) and payload.get("id") == 12:
        assert "work item 12" in caplog.text


def test_odd_but_usable_values_do_not_break_the_item() -> None:
    payload = example("workItems/GET__wit_WorkItems_id.json")
    payload["fields"]["System.CreatedDate"] = "not a date"
    payload["fields"]["System.Tags"] = 42
    payload["relations"] = [None, {"rel": 5}, {"rel": "System.LinkTypes.Related", "url": None}]
    item = map_work_item(payload, context())
    assert item is not None
    assert item.created is None
    assert item.labels == ()
    assert item.links == ()


def test_split_tags_keeps_order_and_drops_empties() -> None:
    assert split_tags(" b ;a;; KR:KR1.1 ;") == ("b", "a", "KR:KR1.1")
    assert split_tags(None) == ()
