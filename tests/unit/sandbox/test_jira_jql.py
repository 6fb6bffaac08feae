"""The sandbox's JQL subset: what matches, what order, and Jira-like errors for the rest."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from linesight.sandbox.jql import IndexedIssue, JqlError, JqlSchema, compile_jql
from linesight.testing.plugin import jira_issue, small_dataset

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def _issues() -> list[dict[str, Any]]:
    return list(small_dataset()["jira"][0]["issues"])


def _schema(issues: list[dict[str, Any]]) -> JqlSchema:
    indexed = [IndexedIssue.from_issue(i) for i in issues]
    projects = {x.project_key.lower(): x.project_key for x in indexed}
    keys = {x.key.lower(): x.key for x in indexed} | {str(x.id): x.key for x in indexed}
    return JqlSchema(
        projects=projects,
        issuetypes=frozenset({"epic", "story", "bug", "task", "sub-task"}),
        statuses=frozenset({"to do", "in progress", "done"}),
        issue_keys=keys,
        custom_fields={"epic link": "customfield_10014", "cf[10014]": "customfield_10014"},
        epic_link_field="customfield_10014",
        now=lambda: NOW,
    )


def run(jql: str, issues: list[dict[str, Any]] | None = None) -> list[str]:
    issues = issues if issues is not None else _issues()
    query = compile_jql(jql, _schema(issues))
    indexed = [IndexedIssue.from_issue(i) for i in issues]
    return [i.key for i in query.sort([i for i in indexed if query.predicate(i)])]


@pytest.mark.parametrize(
    ("jql", "expected"),
    [
        ("project = PAY", ["PAY-1", "PAY-2", "PAY-3", "PAY-4", "PAY-5"]),
        ("project in (PAY, SEC) AND issuetype = Bug", ["PAY-5"]),
        ("project = pay and type in (Epic, bug)", ["PAY-1", "PAY-5"]),
        ('status = "In Progress" AND project = PAY', ["PAY-1", "PAY-2", "PAY-5"]),
        ("statusCategory = Done", ["PAY-4"]),
        ("statusCategory in (new, done)", ["PAY-3", "PAY-4"]),
        ('statusCategory != "To Do" AND project = SEC', ["SEC-1"]),
        ("labels = checkout", ["PAY-3"]),
        ("labels in (kr-KR1.1, checkout)", ["PAY-1", "PAY-3"]),
        ("labels != checkout", ["PAY-1"]),  # negative operators never match an empty field
        ("labels is EMPTY AND project = PAY", ["PAY-2", "PAY-4", "PAY-5"]),
        ("labels is not empty", ["PAY-1", "PAY-3"]),
        ("id > 10004", ["PAY-5", "SEC-1"]),
        ("key in (PAY-2, pay-4)", ["PAY-2", "PAY-4"]),
        ("key >= PAY-4", ["PAY-4", "PAY-5"]),
        ("id = PAY-3", ["PAY-3"]),
        ('updated >= "2026-11-21 08:30"', ["PAY-3", "PAY-5"]),
        ('updated > "2026/11/21"', ["PAY-3", "PAY-5"]),
        ("updated >= -2d", ["PAY-5"]),  # NOW - 2d = 2026-11-21 12:00
        ("updated >= startOfDay(-1)", ["PAY-5"]),
        ("resolved is not EMPTY", ["PAY-4"]),
        ("parent = PAY-1", ["PAY-2"]),
        ("parent = 10001", ["PAY-2"]),
        ('"Epic Link" = PAY-1', ["PAY-2"]),
        ("cf[10014] = 10001", ["PAY-2"]),
        ("cf[10014] is EMPTY AND project = PAY", ["PAY-1", "PAY-3", "PAY-4", "PAY-5"]),
        ('summary ~ "CARDS"', ["PAY-3"]),
        ("project = PAY AND NOT (labels is EMPTY OR statusCategory = new)", ["PAY-1"]),
        ("project = PAY AND !(issuetype = Story)", ["PAY-1", "PAY-5"]),
        ("(key = PAY-1 OR key = PAY-5) AND project = PAY", ["PAY-1", "PAY-5"]),
        (
            "project = PAY ORDER BY updated DESC, key ASC",
            ["PAY-5", "PAY-3", "PAY-1", "PAY-2", "PAY-4"],
        ),
        ("project = PAY order by key desc", ["PAY-5", "PAY-4", "PAY-3", "PAY-2", "PAY-1"]),
        ('project = "PAY" AND summary ~ "3DS"', ["PAY-5"]),
    ],
)
def test_jql_matches_like_jira(jql: str, expected: list[str]) -> None:
    assert run(jql) == expected


def test_quoted_strings_take_escapes() -> None:
    issues = [jira_issue(1, "Q-1", summary='say "hi"\tthere'), jira_issue(2, "Q-2")]
    assert run(r'summary ~ "say \"hi\"\tthere"', issues) == ["Q-1"]
    assert run(r"summary ~ 'say \u0022hi'", issues) == ["Q-1"]


@pytest.mark.parametrize(
    ("jql", "message"),
    [
        ("project = NOPE", "The value 'NOPE' does not exist for the field 'project'."),
        ("priority = High", "Field 'priority' does not exist"),
        ("project PAY", "Expecting operator but got 'PAY'"),
        ("project = PAY AND", "Expecting a field name but got end of query"),
        ("project = PAY ORDER BY summary", "Not able to sort using field 'summary'."),
        ('summary ~ "open', "has not been completed"),
        ("key = PAY-999", "An issue with key 'PAY-999' does not exist for field 'key'."),
        (
            "statusCategory = Maybe",
            "The value 'Maybe' does not exist for the field 'statusCategory'.",
        ),
        ('updated > "yesterday"', "Date value 'yesterday' for field 'updated' is invalid."),
        ("updated > someday()", "Unable to find JQL function 'someday()'."),
        ("labels in checkout", "Expecting '(' but got 'checkout'"),
        (r'summary ~ "a\qb"', "illegal JQL escape sequence"),
        ("project = PAY extra", "Expecting either 'OR' or 'AND' but got 'extra'"),
    ],
)
def test_bad_jql_fails_with_jira_like_message(jql: str, message: str) -> None:
    with pytest.raises(JqlError, match=None) as caught:
        run(jql)
    assert message in str(caught.value)


def test_only_order_by_is_unbounded_and_project_restriction_is_known() -> None:
    schema = _schema(_issues())
    assert not compile_jql("ORDER BY key", schema).bounded
    assert not compile_jql("", schema).bounded
    query = compile_jql("project in (PAY, SEC) AND labels = x", schema)
    assert query.bounded
    assert query.projects == frozenset({"PAY", "SEC"})
    assert compile_jql("project = PAY OR labels = x", schema).projects is None
    assert compile_jql("project = PAY OR project = SEC", schema).projects == {"PAY", "SEC"}


@given(st.text(max_size=40))
def test_any_text_either_compiles_or_raises_jql_error(text: str) -> None:
    try:
        run(text)
    except JqlError as exc:
        assert str(exc)


@pytest.mark.parametrize(
    "clause",
    [
        "labels in (checkout, x)",
        "statusCategory = done",
        "updated >= -2d",
        "cf[10014] = PAY-1",
        "key > PAY-2",
        "labels is EMPTY",
    ],
)
def test_not_is_the_complement_of_its_clause(clause: str) -> None:
    everything = {"PAY-1", "PAY-2", "PAY-3", "PAY-4", "PAY-5"}
    positive = set(run(f"project = PAY AND {clause}"))
    negative = set(run(f"project = PAY AND NOT {clause}"))
    assert positive.isdisjoint(negative)
    assert positive | negative == everything
    assert set(run(f"project = PAY AND NOT NOT ({clause})")) == positive
