"""linesight's pytest plugin: sandbox fixtures and the connector contract suite.

Registered through the ``pytest11`` entry point, so any project that installs linesight gets:

``sandbox_factory``
    A function-scoped factory: ``with sandbox_factory(dataset, FaultConfig(...)) as sandbox:``
    yields a started :class:`~linesight.sandbox.SandboxServer` on a free loopback port and
    stops it afterwards (every server it started is stopped at teardown, too).

``small_dataset()`` / ``jira_issue(...)``
    A tiny, hand-readable dataset (a Cloud and a Data Center Jira) and the builder of one native
    Jira issue, for tests that need a few known items rather than a generated organisation.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import pytest

from linesight.sandbox import FaultConfig, SandboxServer

__all__ = ["SandboxFactory", "jira_issue", "sandbox_factory", "small_dataset"]

SandboxFactory = Callable[..., contextlib.AbstractContextManager[SandboxServer]]

_CATEGORIES = {
    "new": {"id": 2, "key": "new", "colorName": "blue-gray", "name": "To Do"},
    "indeterminate": {
        "id": 4,
        "key": "indeterminate",
        "colorName": "yellow",
        "name": "In Progress",
    },
    "done": {"id": 3, "key": "done", "colorName": "green", "name": "Done"},
}
_STATUS_FOR = {
    "new": ("To Do", "10000"),
    "indeterminate": ("In Progress", "3"),
    "done": ("Done", "10001"),
}
_TYPES = {
    "Epic": ("10000", 1, False),
    "Story": ("10001", 0, False),
    "Task": ("10002", 0, False),
    "Bug": ("10004", 0, False),
    "Sub-task": ("10003", -1, True),
}


def jira_issue(
    issue_id: int,
    key: str,
    *,
    summary: str | None = None,
    issuetype: str = "Story",
    category: str = "indeterminate",
    labels: Sequence[str] = (),
    parent: Mapping[str, Any] | None = None,
    created: str = "2026-10-01T09:00:00.000+0000",
    updated: str = "2026-11-20T10:00:00.000+0000",
    extra_fields: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """One Jira issue as the REST API returns it (``parent`` is another such issue, or None)."""
    project_key = key.rsplit("-", 1)[0]
    status_name, status_id = _STATUS_FOR[category]
    type_id, level, subtask = _TYPES.get(issuetype, ("10005", 0, False))
    fields: dict[str, Any] = {
        "summary": summary or f"{issuetype} {key}",
        "issuetype": {
            "id": type_id,
            "name": issuetype,
            "subtask": subtask,
            "hierarchyLevel": level,
        },
        "status": {
            "name": status_name,
            "id": status_id,
            "statusCategory": dict(_CATEGORIES[category]),
        },
        "project": {
            "id": str(10000 + sum(map(ord, project_key))),
            "key": project_key,
            "name": project_key.title(),
        },
        "labels": list(labels),
        "issuelinks": [],
        "created": created,
        "updated": updated,
        "resolutiondate": updated if category == "done" else None,
        "statuscategorychangedate": updated,
    }
    if parent is not None:
        parent_fields = parent["fields"]
        fields["parent"] = {
            "id": parent["id"],
            "key": parent["key"],
            "fields": {k: parent_fields[k] for k in ("summary", "status", "issuetype")},
        }
    fields.update(extra_fields or {})
    return {
        "expand": "renderedFields,names,schema,operations,editmeta,changelog",
        "id": str(issue_id),
        "self": f"https://example.atlassian.net/rest/api/3/issue/{issue_id}",
        "key": key,
        "fields": fields,
    }


def small_dataset() -> dict[str, Any]:
    """Two Jira sites with a handful of known issues.

    Cloud ``cloud`` (project PAY): epic PAY-1 (label ``kr-KR1.1``), stories PAY-2 (in progress,
    child of PAY-1), PAY-3 (to do, label ``checkout``), PAY-4 (done), bug PAY-5 (in progress,
    no links; an orphan). Project SEC (forbidden to write): SEC-1. Data Center ``dc`` (project
    OPS): epic OPS-1 and stories OPS-2, OPS-3. Epic Link is ``customfield_10014``.
    """
    epic = jira_issue(
        10001, "PAY-1", issuetype="Epic", labels=["kr-KR1.1"], summary="Checkout revamp"
    )
    cloud = [
        epic,
        jira_issue(
            10002,
            "PAY-2",
            parent=epic,
            summary="One-click pay",
            extra_fields={"customfield_10014": "PAY-1"},
        ),
        jira_issue(
            10003,
            "PAY-3",
            category="new",
            labels=["checkout"],
            summary="Saved cards",
            updated="2026-11-21T08:30:00.000+0000",
        ),
        jira_issue(10004, "PAY-4", category="done", summary="Receipt emails"),
        jira_issue(
            10005,
            "PAY-5",
            issuetype="Bug",
            summary="Flaky 3DS redirect",
            updated="2026-11-22T12:00:00.000+0000",
        ),
        jira_issue(10006, "SEC-1", summary="Rotate signing keys"),
    ]
    dc_epic = jira_issue(20001, "OPS-1", issuetype="Epic", labels=["kr-KR2.1"])
    dc = [
        dc_epic,
        jira_issue(20002, "OPS-2", parent=dc_epic),
        jira_issue(20003, "OPS-3", category="new"),
    ]
    epic_link = {
        "id": "customfield_10014",
        "key": "customfield_10014",
        "name": "Epic Link",
        "custom": True,
        "orderable": True,
        "navigable": True,
        "searchable": True,
        "clauseNames": ["cf[10014]", "Epic Link"],
        "schema": {
            "type": "any",
            "custom": "com.pyxis.greenhopper.jira:gh-epic-link",
            "customId": 10014,
        },
    }
    return {
        "jira": [
            {
                "name": "cloud",
                "flavour": "cloud",
                "issues": cloud,
                "fields": [epic_link],
                "forbidden_projects": ["SEC"],
            },
            {"name": "dc", "flavour": "datacenter", "issues": dc},
        ]
    }


@pytest.fixture
def sandbox_factory() -> Iterator[SandboxFactory]:
    """Start sandboxes on free loopback ports; all are stopped when the test ends."""
    started: list[SandboxServer] = []

    @contextlib.contextmanager
    def factory(
        dataset: Mapping[str, Any] | None = None, faults: FaultConfig | None = None, **options: Any
    ) -> Iterator[SandboxServer]:
        server = SandboxServer(
            dataset if dataset is not None else small_dataset(), port=0, faults=faults, **options
        )
        started.append(server)
        with server:
            yield server

    yield factory
    for server in started:
        server.stop()
