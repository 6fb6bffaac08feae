"""Native Jira issues (from the official OpenAPI examples) -> WorkItem."""

from __future__ import annotations

import copy
import json
import logging
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from linesight.errors import PayloadError
from linesight.model import Link, StatusCategory
from linesight_jira.mapping import BASE_FIELDS, IssueMapper, MappingError

SPEC = Path(__file__).resolve().parents[3].parent / "shared/specs/jira-cloud-platform"
SITE = "https://your-domain.atlassian.net"
KR, TEAM, EPIC = "customfield_10100", "customfield_10001", "customfield_10014"


@cache
def _spec() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((SPEC / "swagger-v3.v3.json").read_text(encoding="utf-8"))
    return data


def example(path: str, method: str = "get") -> Any:
    operation = _spec()["paths"][path][method]
    return json.loads(operation["responses"]["200"]["content"]["application/json"]["example"])


def native_issue(**fields: Any) -> dict[str, Any]:
    """The GET issue example, completed with the status / issue type examples and ``fields``."""
    issue: dict[str, Any] = copy.deepcopy(example("/rest/api/3/issue/{issueIdOrKey}"))
    status = example("/rest/api/3/status/{idOrName}")
    status["statusCategory"]["key"] = "indeterminate"  # the example's "in-flight" is not a key
    issue["fields"].update(
        {
            "summary": "Main order flow broken",
            "status": status,
            "issuetype": example("/rest/api/3/issuetype/{id}"),
            "labels": ["kr-KR1.1", "checkout"],
            "created": "2026-10-01T09:00:00.000+0000",
            "updated": "2026-11-20T10:15:00.000+0000",
            "resolutiondate": None,
            "statuscategorychangedate": "2026-11-02T08:00:00.000+0000",
        }
    )
    issue["fields"].update(fields)
    return issue


MAPPER = IssueMapper(source="cloud", site=SITE, kr_field=KR, team_field=TEAM, epic_link_field=EPIC)


def test_maps_the_openapi_issue_example() -> None:
    item = MAPPER.to_item(native_issue())
    assert item.source == "cloud"
    assert item.key == "ED-1"
    assert item.type == "Task"
    assert item.title == "Main order flow broken"
    assert item.status == "In Progress"
    assert item.status_category is StatusCategory.IN_PROGRESS
    assert item.project == "EX"
    assert item.team == "EX"  # no team value: the project stands in
    assert item.labels == ("kr-KR1.1", "checkout")
    assert item.created == datetime(2026, 10, 1, 9, tzinfo=UTC)
    assert item.updated == datetime(2026, 11, 20, 10, 15, tzinfo=UTC)
    assert item.started == datetime(2026, 11, 2, 8, tzinfo=UTC)
    assert item.resolved is None
    assert item.url == "https://your-domain.atlassian.net/browse/ED-1"


def test_issue_links_read_from_this_issues_side() -> None:
    # The example holds an outward link to PR-2 and an inward one from PR-3 (type "Dependent":
    # outward "is depended by", inward "depends on").
    item = MAPPER.to_item(native_issue())
    assert item.links == (
        Link(kind="is depended by", target="PR-2"),
        Link(kind="depends on", target="PR-3"),
    )


def test_odd_links_are_dropped_not_the_item() -> None:
    links = [
        {"id": "1", "type": {"name": "Blocks"}, "outwardIssue": {"key": "PAY-9"}},
        {"id": "2", "type": {}, "inwardIssue": {"key": "PAY-8"}},
        {"id": "3", "type": {"inward": "x", "outward": "y"}, "inwardIssue": {"key": "../etc"}},
        "garbage",
    ]
    item = MAPPER.to_item(native_issue(issuelinks=links))
    assert item.links == (Link(kind="Blocks", target="PAY-9"),)


def test_bulkfetch_example_without_status_is_skipped_with_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    issues = example("/rest/api/3/issue/bulkfetch", "post")["issues"]
    good = native_issue()
    with caplog.at_level(logging.WARNING, "linesight.jira"):
        items = MAPPER.map_page([issues[0], good, issues[1]], where="bulkfetch")
    assert [i.key for i in items] == ["ED-1"]
    assert "EX-1" in caplog.text and "EX-2" in caplog.text
    assert "fields.status" in caplog.text


def test_a_page_of_nothing_but_garbage_is_a_payload_error() -> None:
    issues = example("/rest/api/3/issue/bulkfetch", "post")["issues"]
    with pytest.raises(PayloadError, match="none of the 3 issues"):
        MAPPER.map_page(issues, where="bulkfetch")
    assert MAPPER.map_page([], where="bulkfetch") == []


@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        ({"summary": None}, "fields.summary"),
        ({"labels": "kr-KR1.1"}, "fields.labels"),
        ({"updated": 1}, "updated"),
        ({"created": "yesterday"}, "not a timestamp"),
        ({"created": "2026-10-01T09:00:00"}, "without a UTC offset"),
        ({"issuelinks": {"id": "1"}}, "issuelinks"),
        ({"project": []}, "fields.project"),
    ],
)
def test_wrong_types_name_the_field(fields: dict[str, Any], problem: str) -> None:
    with pytest.raises(MappingError, match=problem):
        MAPPER.to_item(native_issue(**fields))


def test_a_hostile_key_is_refused() -> None:
    issue = native_issue()
    issue["key"] = "../../admin"
    with pytest.raises(MappingError, match="not an issue key"):
        MAPPER.to_item(issue)


@pytest.mark.parametrize(
    ("key", "category_id", "expected"),
    [
        ("new", 2, StatusCategory.TODO),
        ("indeterminate", 4, StatusCategory.IN_PROGRESS),
        ("done", 3, StatusCategory.DONE),
        ("undefined", 1, StatusCategory.TODO),
        ("in-flight", 4, StatusCategory.IN_PROGRESS),  # an unknown key falls back to the id
    ],
)
def test_status_categories(key: str, category_id: int, expected: StatusCategory) -> None:
    status = example("/rest/api/3/status/{idOrName}")
    status["statusCategory"].update({"key": key, "id": category_id})
    item = MAPPER.to_item(native_issue(status=status))
    assert item.status_category is expected
    assert (item.started is not None) == (expected is StatusCategory.IN_PROGRESS)


def test_unknown_status_category_is_refused() -> None:
    status = example("/rest/api/3/status/{idOrName}")
    status["statusCategory"].update({"key": "in-flight", "id": 99})
    with pytest.raises(MappingError, match="unknown category"):
        MAPPER.to_item(native_issue(status=status))


def test_done_items_carry_the_resolution_date() -> None:
    status = example("/rest/api/3/status/{idOrName}")
    status["statusCategory"].update({"key": "done", "id": 3})
    item = MAPPER.to_item(
        native_issue(status=status, resolutiondate="2026-11-03T12:00:00.000+0100")
    )
    assert item.resolved == datetime(2026, 11, 3, 11, tzinfo=UTC)
    assert item.started is None


@pytest.mark.parametrize(
    ("value", "team"),
    [
        (
            {"id": "9074f64a", "name": "Developer Experience", "title": "Developer Experience"},
            "Developer Experience",
        ),
        ({"self": "x", "value": "Payments", "id": "10020"}, "Payments"),
        ("Checkout", "Checkout"),
        ([{"value": "Growth"}, {"value": "Other"}], "Growth"),
        ({"id": "9074f64a"}, "EX"),
        ("   ", "EX"),
        (None, "EX"),
    ],
)
def test_team_field_shapes(value: Any, team: str) -> None:
    assert MAPPER.to_item(native_issue(**{TEAM: value})).team == team


@pytest.mark.parametrize(
    ("value", "refs"),
    [
        (["KR1.1", "KR2.3"], ("KR1.1", "KR2.3")),
        ("KR1.1, KR2.3;KR3.1  KR1.1", ("KR1.1", "KR2.3", "KR3.1")),
        ({"value": "KR4.2", "id": "10100"}, ("KR4.2",)),
        ([{"value": "KR4.2"}, {"value": "KR4.3"}], ("KR4.2", "KR4.3")),
        (None, ()),
        ("", ()),
        (17, ("17",)),
    ],
)
def test_kr_field_shapes(value: Any, refs: tuple[str, ...]) -> None:
    assert MAPPER.to_item(native_issue(**{KR: value})).kr_refs == refs


def test_parent_prefers_the_hierarchy_then_the_epic_link() -> None:
    parent = {"id": "10001", "key": "PAY-1", "fields": {"summary": "Epic"}}
    assert MAPPER.to_item(native_issue(parent=parent, **{EPIC: "PAY-7"})).parent == "PAY-1"
    assert MAPPER.to_item(native_issue(**{EPIC: "PAY-7"})).parent == "PAY-7"
    assert MAPPER.to_item(native_issue(**{EPIC: {"key": "PAY-8"}})).parent == "PAY-8"
    assert MAPPER.to_item(native_issue(**{EPIC: "not a key"})).parent is None
    unconfigured = IssueMapper(source="cloud", site=SITE)
    assert unconfigured.to_item(native_issue(**{EPIC: "PAY-7"})).parent is None


def test_unconfigured_custom_fields_are_ignored() -> None:
    bare = IssueMapper(source="cloud", site=SITE + "/")
    item = bare.to_item(native_issue(**{KR: ["KR1.1"], TEAM: "Checkout"}))
    assert item.kr_refs == ()
    assert item.team == "EX"
    assert item.url == "https://your-domain.atlassian.net/browse/ED-1"


def test_requested_fields_are_the_mapped_ones() -> None:
    assert MAPPER.fields == [*BASE_FIELDS, KR, TEAM, EPIC]
    assert IssueMapper(source="x", site=SITE).fields == list(BASE_FIELDS)
