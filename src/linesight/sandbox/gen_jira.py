"""Render planned items as native Jira issues, as ``GET /rest/api/{3,2}/issue`` returns them.

Cloud (REST v3) and Data Center (REST v2) differ where the real products differ:

- hierarchy: Cloud puts an epic's children under ``fields.parent``; Data Center keeps the legacy
  Epic Link custom field (``customfield_10014`` holding the epic's key) and uses ``parent`` only
  for sub-tasks;
- the KR field (``customfield_10100``) is a labels-type array on Cloud and a text field on Data
  Center (``"KR1.1, KR2.3"``); the team field (``customfield_10001``) is an Atlassian Team object
  on Cloud and a select option on Data Center;
- Data Center issue types carry no ``hierarchyLevel`` (a Cloud-only attribute);
- unset fields are ``null``, as Jira returns them, never missing.

Descriptor objects (status, issue type, project, priority, users, team values, the ``parent`` /
``subtasks`` / ``issuelinks`` stubs) are built once and shared between issues to keep a
million-item dataset small and fast; every per-issue list (``labels``, ``issuelinks``,
``subtasks``) is the issue's own.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

from linesight.sandbox import gen_text as text
from linesight.sandbox.gen_org import CONTAINERS, DONE, IN_PROGRESS, TODO, Item, Org, Timestamps

__all__ = ["EPIC_LINK_FIELD", "KR_FIELD", "KR_LABEL_PREFIX", "TEAM_FIELD", "render_jira"]

KR_FIELD = "customfield_10100"
TEAM_FIELD = "customfield_10001"
EPIC_LINK_FIELD = "customfield_10014"
KR_LABEL_PREFIX = "kr-"
EXPAND = "renderedFields,names,schema,operations,editmeta,changelog,versionedRepresentations"

_CATEGORIES = {  # linesight category -> (id, key, colorName, name)
    TODO: (2, "new", "blue-gray", "To Do"),
    IN_PROGRESS: (4, "indeterminate", "yellow", "In Progress"),
    DONE: (3, "done", "green", "Done"),
}
# (id, name, description) per category; the first is the common one
_STATUSES = {
    TODO: (("10000", "To Do", ""), ("10005", "Backlog", "Work that is not planned yet.")),
    IN_PROGRESS: (
        ("3", "In Progress", "This issue is being actively worked on at the moment."),
        ("10002", "In Review", "Waiting for review."),
    ),
    DONE: (("10001", "Done", ""),),
}
_TYPES = {  # name -> (id, avatarId, hierarchyLevel, subtask, description)
    "Epic": ("10000", 10307, 1, False, "A big user story that needs to be broken down."),
    "Story": ("10001", 10315, 0, False, "Functionality or a feature expressed as a user goal."),
    "Task": ("10002", 10318, 0, False, "A small, distinct piece of work."),
    "Bug": ("10004", 10303, 0, False, "A problem or error."),
    "Subtask": ("10003", 10316, -1, True, "A small piece of work that's part of a larger task."),
    "Sub-task": ("10003", 10316, -1, True, "The sub-task of the issue"),
}
_PRIORITIES = (("1", "Highest"), ("2", "High"), ("3", "Medium"), ("4", "Low"))
_RESOLUTIONS = (
    ("10000", "Done", "Work has been completed on this issue."),
    ("10001", "Won't Do", "This issue won't be actioned."),
)
_LINK_TYPE = ("10000", "Blocks", "is blocked by", "blocks")


class _Jira:
    """Per-instance caches of the shared descriptor objects."""

    def __init__(self, name: str, flavour: str, base_url: str) -> None:
        self.cloud = flavour == "cloud"
        self.root = f"{base_url}/jira/{name}"
        self.api = f"{self.root}/rest/api/{3 if self.cloud else 2}"
        self.status: dict[tuple[str, int], dict[str, Any]] = {}
        self.types = {n: self._issuetype(n) for n in _TYPES}
        self.projects = {c.key: self._project(c.key, c.name, c.index) for c in CONTAINERS}
        self.priorities = [
            {
                "self": f"{self.api}/priority/{pid}",
                "iconUrl": f"{self.root}/images/icons/priorities/{name.lower()}.svg",
                "name": name,
                "id": pid,
            }
            for pid, name in _PRIORITIES
        ]
        self.resolutions = [
            {"self": f"{self.api}/resolution/{rid}", "id": rid, "description": d, "name": n}
            for rid, n, d in _RESOLUTIONS
        ]
        self.users = [self._user(i, person) for i, person in enumerate(text.PEOPLE)]
        self.teams: dict[str, dict[str, Any]] = {}
        rid, name, inward, outward = _LINK_TYPE
        self.blocks = {
            "id": rid,
            "name": name,
            "inward": inward,
            "outward": outward,
            "self": f"{self.api}/issueLinkType/{rid}",
        }
        self.stubs: dict[Item, dict[str, Any]] = {}

    def _issuetype(self, name: str) -> dict[str, Any]:
        tid, avatar, level, subtask, description = _TYPES[name]
        value: dict[str, Any] = {
            "self": f"{self.api}/issuetype/{tid}",
            "id": tid,
            "description": description,
            "iconUrl": f"{self.root}/rest/api/2/universal_avatar/view/type/issuetype/avatar/"
            f"{avatar}?size=medium",
            "name": name,
            "subtask": subtask,
            "avatarId": avatar,
        }
        if self.cloud:
            value["hierarchyLevel"] = level
        return value

    def _project(self, key: str, name: str, index: int) -> dict[str, Any]:
        pid = str(10000 + index)
        value: dict[str, Any] = {
            "self": f"{self.api}/project/{pid}",
            "id": pid,
            "key": key,
            "name": name,
            "projectTypeKey": "software",
        }
        if self.cloud:
            value["simplified"] = False
        return value

    def _user(self, index: int, person: str) -> dict[str, Any]:
        login = person.lower().replace(" ", ".")
        if self.cloud:
            account = hashlib.sha256(person.encode()).hexdigest()[:24]
            return {
                "self": f"{self.api}/user?accountId={account}",
                "accountId": account,
                "displayName": person,
                "active": True,
                "timeZone": "Europe/Berlin",
                "accountType": "atlassian",
            }
        return {
            "self": f"{self.api}/user?username={login}",
            "name": login,
            "key": f"JIRAUSER{10100 + index}",
            "emailAddress": f"{login}@example.com",
            "displayName": person,
            "active": True,
            "timeZone": "Europe/Berlin",
        }

    def status_of(self, category: str, variant: int) -> dict[str, Any]:
        options = _STATUSES[category]
        # the common status most of the time, the other one about a quarter of the time
        choice = 0 if len(options) == 1 or variant % 4 else 1
        found = self.status.get((category, choice))
        if found is None:
            sid, name, description = options[choice]
            cid, ckey, colour, cname = _CATEGORIES[category]
            found = {
                "self": f"{self.api}/status/{sid}",
                "description": description,
                "iconUrl": f"{self.root}/images/icons/statuses/generic.png",
                "name": name,
                "id": sid,
                "statusCategory": {
                    "self": f"{self.api}/statuscategory/{cid}",
                    "id": cid,
                    "key": ckey,
                    "colorName": colour,
                    "name": cname,
                },
            }
            self.status[category, choice] = found
        return found

    def team(self, name: str, index: int) -> dict[str, Any]:
        found = self.teams.get(name)
        if found is None:
            if self.cloud:
                digest = hashlib.sha256(name.encode()).hexdigest()
                tid = f"{digest[:8]}-{digest[8:12]}-{digest[12:16]}-{digest[16:20]}-{digest[20:32]}"
                found = {
                    "id": tid,
                    "name": name,
                    "title": name,
                    "isVisible": True,
                    "isVerified": False,
                    "isShared": True,
                }
            else:
                oid = str(10200 + index)
                found = {
                    "self": f"{self.root}/rest/api/2/customFieldOption/{oid}",
                    "value": name,
                    "id": oid,
                    "disabled": False,
                }
            self.teams[name] = found
        return found

    def stub(self, item: Item) -> dict[str, Any]:
        """The short form Jira nests for ``parent``, ``subtasks`` and ``issuelinks``."""
        found = self.stubs.get(item)
        if found is None:
            found = {
                "id": str(item.num),
                "key": item.key,
                "self": f"{self.api}/issue/{item.num}",
                "fields": {
                    "summary": item.title,
                    "status": self.status_of(item.category, item.variant),
                    "priority": self.priorities[(item.variant >> 4) % 4],
                    "issuetype": self.types[item.type],
                },
            }
            self.stubs[item] = found
        return found


def render_jira(org: Org, name: str, flavour: str, base_url: str) -> dict[str, Any]:
    """The dataset entry for the Jira instance ``name``: its issues and custom fields."""
    jira = _Jira(name, flavour, base_url)
    stamp = Timestamps(jira_format=True)
    items = org.by_source[name]
    blocked_by: dict[Item, list[Item]] = {}
    for item in items:
        if item.blocks is not None:
            blocked_by.setdefault(item.blocks, []).append(item)
    team_index = {team: i for i, team in enumerate(t for c in CONTAINERS for t in c.teams)}
    issues = [_issue(jira, item, stamp, blocked_by, team_index) for item in items]
    return {
        "name": name,
        "flavour": flavour,
        "issues": issues,
        "fields": _field_entries(jira.cloud),
    }


def _issue(
    jira: _Jira,
    item: Item,
    stamp: Timestamps,
    blocked_by: dict[Item, list[Item]],
    team_index: dict[str, int],
) -> dict[str, Any]:
    fmt: Callable[[float], str] = stamp.format
    variant = item.variant
    category = item.category
    labels = sorted([KR_LABEL_PREFIX + kid for kid in item.kr_labels] + list(item.labels))
    links = []
    if item.blocks is not None:
        links.append(_link(jira, item, "outwardIssue", item.blocks))
    for blocker in blocked_by.get(item, ()):
        links.append(_link(jira, blocker, "inwardIssue", blocker))
    if category == DONE:
        assert item.resolved is not None
        resolved: str | None = fmt(item.resolved)
        changed = resolved
        resolution: dict[str, Any] | None = jira.resolutions[1 if variant % 13 == 0 else 0]
    else:
        resolved = resolution = None
        changed = fmt(item.started if item.started is not None else item.created)
    users = jira.users
    assignee = None if category == TODO and variant & 1 else users[(variant >> 6) % len(users)]
    if jira.cloud:
        kr_value: Any = list(item.kr_field) or None
    else:
        kr_value = ", ".join(item.kr_field) or None
    fields: dict[str, Any] = {
        "summary": item.title,
        "issuetype": jira.types[item.type],
        "status": jira.status_of(category, variant),
        "project": jira.projects[item.container.key],
        "priority": jira.priorities[(variant >> 4) % 4],
        "labels": labels,
        "issuelinks": links,
        "subtasks": [jira.stub(child) for child in item.children or ()] if item.level == 2 else [],
        "created": fmt(item.created),
        "updated": fmt(item.updated),
        "resolutiondate": resolved,
        "resolution": resolution,
        "statuscategorychangedate": changed,
        "assignee": assignee,
        "reporter": users[(variant >> 11) % len(users)],
        KR_FIELD: kr_value,
        TEAM_FIELD: jira.team(item.team, team_index[item.team]),
    }
    parent = item.parent
    if jira.cloud:
        if parent is not None:
            fields["parent"] = jira.stub(parent)
    else:
        epic_key = None
        if parent is not None:
            if item.level == 3:
                fields["parent"] = jira.stub(parent)
            else:
                epic_key = parent.key
        fields[EPIC_LINK_FIELD] = epic_key
    return {
        "expand": EXPAND,
        "id": str(item.num),
        "self": f"{jira.api}/issue/{item.num}",
        "key": item.key,
        "fields": fields,
    }


def _link(jira: _Jira, blocker: Item, side: str, other: Item) -> dict[str, Any]:
    # One link per (blocker, blocked) pair, seen from both ends as Jira shows it: the blocker
    # holds an outwardIssue, the blocked issue an inwardIssue; both carry the same link id.
    link_id = str(10000 + blocker.num)
    return {
        "id": link_id,
        "self": f"{jira.api}/issueLink/{link_id}",
        "type": jira.blocks,
        side: jira.stub(other),
    }


def _field_entries(cloud: bool) -> list[dict[str, Any]]:
    """``/rest/api/{3,2}/field`` entries for the custom fields the issues use."""

    def entry(fid: str, name: str, schema: dict[str, Any], clauses: list[str]) -> dict[str, Any]:
        number = int(fid.rsplit("_", 1)[1])
        value: dict[str, Any] = {
            "id": fid,
            "name": name,
            "custom": True,
            "orderable": True,
            "navigable": True,
            "searchable": True,
            "clauseNames": [f"cf[{number}]", name, *clauses],
            "schema": {**schema, "customId": number},
        }
        if cloud:
            value["key"] = fid
        return value

    plugin = "com.atlassian.jira.plugin.system.customfieldtypes"
    if cloud:
        return [
            entry(
                KR_FIELD,
                "Key Results",
                {"type": "array", "items": "string", "custom": f"{plugin}:labels"},
                ["Key Results[Labels]"],
            ),
            entry(
                TEAM_FIELD,
                "Team",
                {
                    "type": "team",
                    "custom": f"{plugin}:atlassian-team",
                    "configuration": {f"{plugin}:atlassian-team": True},
                },
                ["Team[Team]"],
            ),
        ]
    return [
        entry(KR_FIELD, "Key Results", {"type": "string", "custom": f"{plugin}:textfield"}, []),
        entry(TEAM_FIELD, "Team", {"type": "option", "custom": f"{plugin}:select"}, []),
        entry(
            EPIC_LINK_FIELD,
            "Epic Link",
            {"type": "any", "custom": "com.pyxis.greenhopper.jira:gh-epic-link"},
            [],
        ),
    ]
