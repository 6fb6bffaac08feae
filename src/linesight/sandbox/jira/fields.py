"""The site's field catalogue, served at ``/field``: system fields, the dataset's custom fields.

``fields`` given to :class:`~linesight.sandbox.jira.app.JiraApp` are extra entries (custom
fields, e.g. ``Epic Link``); custom fields that issues carry but those entries do not describe
get a generic entry.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from linesight.sandbox.jira.site import Site
from linesight.sandbox.wire import Request, Response, json_response

__all__ = ["build_field_list", "list_fields"]

# (id, name, clauseNames, schema type, navigable, orderable, searchable)
_SYSTEM_FIELDS: tuple[tuple[str, str, tuple[str, ...], str, bool, bool, bool], ...] = (
    ("issuekey", "Key", ("id", "issue", "issuekey", "key"), "", True, False, False),
    ("summary", "Summary", ("summary",), "string", True, True, True),
    ("issuetype", "Issue Type", ("issuetype", "type"), "issuetype", True, True, True),
    ("status", "Status", ("status",), "status", True, False, True),
    ("statusCategory", "Status Category", ("statusCategory",), "statusCategory", True, False, True),
    ("project", "Project", ("project",), "project", True, False, True),
    ("parent", "Parent", ("parent",), "issuelink", True, True, True),
    ("labels", "Labels", ("labels",), "array:string", True, True, True),
    ("issuelinks", "Linked Issues", ("issueLink",), "array:issuelinks", True, True, True),
    ("created", "Created", ("created", "createdDate"), "datetime", True, False, True),
    ("updated", "Updated", ("updated", "updatedDate"), "datetime", True, False, True),
    ("resolutiondate", "Resolved", ("resolutiondate", "resolved"), "datetime", True, False, True),
    (
        "statuscategorychangedate",
        "Status Category Changed",
        ("statusCategoryChangedDate",),
        "datetime",
        True,
        False,
        True,
    ),
    ("description", "Description", ("description",), "string", True, True, True),
    ("comment", "Comment", ("comment",), "comments-page", False, True, True),
    ("assignee", "Assignee", ("assignee",), "user", True, True, True),
    ("reporter", "Reporter", ("reporter",), "user", True, True, True),
    ("priority", "Priority", ("priority",), "priority", True, True, True),
    ("resolution", "Resolution", ("resolution",), "resolution", True, True, True),
)


def build_field_list(
    original: Iterable[Mapping[str, Any]], extra_fields: Iterable[Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """The ``/field`` entries: system fields, ``extra_fields``, then undescribed custom fields.

    ``original`` are the dataset's issues: a ``customfield_*`` one carries that no entry
    describes gets a generic text field entry.
    """
    entries: list[dict[str, Any]] = []
    for field_id, name, clauses, kind, navigable, orderable, searchable in _SYSTEM_FIELDS:
        entry: dict[str, Any] = {
            "id": field_id,
            "key": field_id,
            "name": name,
            "custom": False,
            "orderable": orderable,
            "navigable": navigable,
            "searchable": searchable,
            "clauseNames": list(clauses),
        }
        if kind:
            kind, _, items = kind.partition(":")
            schema: dict[str, Any] = {"type": kind, "system": field_id}
            if items:
                schema["items"] = items
            entry["schema"] = schema
        entries.append(entry)
    known = {e["id"] for e in entries}
    for extra in extra_fields:
        entry = dict(extra)
        entry.setdefault("key", entry["id"])
        match = re.fullmatch(r"customfield_(\d+)", entry["id"])
        entry.setdefault("custom", match is not None)
        entry.setdefault("orderable", True)
        entry.setdefault("navigable", True)
        entry.setdefault("searchable", True)
        if match:
            entry.setdefault("clauseNames", [f"cf[{match.group(1)}]", entry["name"]])
        entries = [e for e in entries if e["id"] != entry["id"]]
        entries.append(entry)
        known.add(entry["id"])
    seen = sorted(
        {
            name
            for issue in original
            for name in issue["fields"]
            if name.startswith("customfield_") and name not in known
        }
    )
    for field_id in seen:
        number = field_id.removeprefix("customfield_")
        entries.append(
            {
                "id": field_id,
                "key": field_id,
                "name": field_id,
                "custom": True,
                "orderable": True,
                "navigable": True,
                "searchable": True,
                "clauseNames": [f"cf[{number}]"],
                "schema": {
                    "type": "any",
                    "custom": "com.atlassian.jira.plugin.system.customfieldtypes:textfield",
                    "customId": int(number) if number.isdigit() else 0,
                },
            }
        )
    return entries


def list_fields(site: Site, request: Request, version: str) -> Response:
    """``GET field``: the whole catalogue."""
    return json_response(200, site.field_list)
