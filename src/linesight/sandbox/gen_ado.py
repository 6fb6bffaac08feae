"""Render planned items as native Azure DevOps work items (REST 7.1, Agile process).

Each work item is what ``GET _apis/wit/workitems/{id}?$expand=all`` returns: ``id``, ``rev``,
``fields`` keyed by reference name, ``relations`` (parent / child / related, omitted when there
are none), ``_links`` and ``url``. As in the real API, a field with no value is absent, never
``null``. States follow the Agile process: ``New`` (Proposed), ``Active`` / ``Resolved``
(InProgress), ``Closed`` (Completed) and ``Removed``; tasks have no ``Resolved`` state.

``Microsoft.VSTS.Common.ActivatedDate`` is when the item entered its in-progress category and
``StateChangeDate`` when its state last changed; identity references are shared objects, every
``relations`` list is the item's own.
"""

from __future__ import annotations

import uuid
from typing import Any

from linesight.sandbox import gen_text as text
from linesight.sandbox.gen_org import DAY, DONE, IN_PROGRESS, TASK, Item, Org, Timestamps

__all__ = ["KR_FIELD", "KR_TAG_PREFIX", "ORGANIZATION", "PROJECT", "render_ado"]

ORGANIZATION = "contoso"
PROJECT = "Fabrikam"
KR_FIELD = "Custom.KeyResults"
KR_TAG_PREFIX = "KR:"
SPRINT_DAYS = 14

_NAMESPACE = uuid.UUID("6f1c3f4e-2b7a-4c55-9a43-1d2f0e7b9c10")  # fixed: ids stay stable
_REASONS = {  # (state, is_task) -> System.Reason in the Agile process
    ("New", False): "New",
    ("New", True): "New",
    ("Active", False): "Implementation started",
    ("Active", True): "Work started",
    ("Resolved", False): "Code complete and unit tests pass",
    ("Closed", False): "Acceptance tests pass",
    ("Closed", True): "Completed",
    ("Removed", False): "Removed from the backlog",
    ("Removed", True): "Removed from the backlog",
}
_PARENT = {"isLocked": False, "name": "Parent"}
_CHILD = {"isLocked": False, "name": "Child"}
_RELATED = {"isLocked": False, "name": "Related"}


def _guid(name: str) -> str:
    return str(uuid.uuid5(_NAMESPACE, name))


def render_ado(org: Org, base_url: str) -> dict[str, Any]:
    """The dataset entry for the ``contoso`` organization's ``Fabrikam`` project."""
    root = f"{base_url}/ado/{ORGANIZATION}"
    project_id = _guid(PROJECT)
    collection = _guid(ORGANIZATION)
    identities = [_identity(root, person) for person in text.PEOPLE]
    stamp = Timestamps(jira_format=False).format
    now = org.now
    sprint_zero = now - 400 * DAY  # sprint numbers stay in a readable range
    type_links = {
        name: f"{root}/{project_id}/_apis/wit/workItemTypes/{name.replace(' ', '%20')}"
        for name in ("Epic", "Feature", "User Story", "Task")
    }
    related: dict[Item, list[Item]] = {}
    for item in org.by_source[ORGANIZATION]:
        if item.blocks is not None:
            related.setdefault(item.blocks, []).append(item)
            related.setdefault(item, []).append(item.blocks)

    def url(number: int) -> str:
        return f"{root}/_apis/wit/workItems/{number}"

    def sprint(moment: float) -> str:
        return f"{PROJECT}\\Sprint {int((moment - sprint_zero) // (SPRINT_DAYS * DAY)) + 1}"

    work_items = []
    for item in org.by_source[ORGANIZATION]:
        variant = item.variant
        is_task = item.level == TASK
        people = len(identities)
        creator = identities[(variant >> 11) % people]
        fields: dict[str, Any] = {
            "System.AreaPath": item.container.key,
            "System.TeamProject": PROJECT,
            "System.IterationPath": PROJECT,
            "System.WorkItemType": item.type,
            "System.CreatedDate": stamp(item.created),
            "System.CreatedBy": creator,
            "System.ChangedDate": stamp(item.updated),
            "System.ChangedBy": identities[(variant >> 16) % people],
            "System.CommentCount": 0,
            "System.Title": item.title,
            "Microsoft.VSTS.Common.Priority": 1 + (variant >> 4) % 4,
        }
        category = item.category
        if item.removed:
            state = "Removed"
            fields["Microsoft.VSTS.Common.StateChangeDate"] = stamp(item.updated)
        elif category == DONE:
            assert item.started is not None and item.resolved is not None
            state = "Closed"
            fields["System.IterationPath"] = sprint(item.resolved)
            fields["Microsoft.VSTS.Common.ActivatedDate"] = stamp(item.started)
            if not is_task:
                resolved = item.started + 0.8 * (item.resolved - item.started)
                fields["Microsoft.VSTS.Common.ResolvedDate"] = stamp(resolved)
            fields["Microsoft.VSTS.Common.ClosedDate"] = stamp(item.resolved)
            fields["Microsoft.VSTS.Common.StateChangeDate"] = stamp(item.resolved)
        elif category == IN_PROGRESS:
            assert item.started is not None
            fields["System.IterationPath"] = sprint(now)
            fields["Microsoft.VSTS.Common.ActivatedDate"] = stamp(item.started)
            changed = item.started
            if not is_task and variant % 5 == 0:
                # code complete, awaiting acceptance: still in progress for linesight
                state = "Resolved"
                changed = item.started + ((variant >> 8) % 97 + 1) / 100 * (now - item.started)
                fields["Microsoft.VSTS.Common.ResolvedDate"] = stamp(changed)
            else:
                state = "Active"
            fields["Microsoft.VSTS.Common.StateChangeDate"] = stamp(changed)
            fields["System.ChangedDate"] = stamp(max(item.updated, changed))
        else:
            state = "New"
            if variant % 3 == 0:
                fields["System.IterationPath"] = sprint(now + SPRINT_DAYS * DAY)
            fields["Microsoft.VSTS.Common.StateChangeDate"] = stamp(item.created)
        fields["System.State"] = state
        fields["System.Reason"] = _REASONS[state, is_task and state != "Resolved"]
        if category != "todo" or variant & 1 == 0:
            fields["System.AssignedTo"] = identities[(variant >> 6) % people]
        if not is_task:
            fields["Microsoft.VSTS.Common.ValueArea"] = "Business"
        if item.level == 2:
            fields["Microsoft.VSTS.Scheduling.StoryPoints"] = float((1, 2, 3, 5, 8)[variant % 5])
        tags = [KR_TAG_PREFIX + kid for kid in item.kr_labels] + list(item.labels)
        if tags:
            # the API returns tags sorted, "; "-separated
            fields["System.Tags"] = "; ".join(sorted(tags, key=str.lower))
        if item.kr_field:
            fields[KR_FIELD] = ", ".join(item.kr_field)
        relations = []
        if item.parent is not None:
            fields["System.Parent"] = item.parent.num
            relations.append(
                {
                    "rel": "System.LinkTypes.Hierarchy-Reverse",
                    "url": url(item.parent.num),
                    "attributes": _PARENT,
                }
            )
        for child in item.children or ():
            relations.append(
                {
                    "rel": "System.LinkTypes.Hierarchy-Forward",
                    "url": url(child.num),
                    "attributes": _CHILD,
                }
            )
        for other in related.get(item, ()):
            relations.append(
                {"rel": "System.LinkTypes.Related", "url": url(other.num), "attributes": _RELATED}
            )
        self_url = url(item.num)
        payload: dict[str, Any] = {
            "id": item.num,
            "rev": _revision(item, len(relations)),
            "fields": fields,
        }
        if relations:
            payload["relations"] = relations
        payload["_links"] = {
            "self": {"href": self_url},
            "workItemUpdates": {"href": f"{self_url}/updates"},
            "workItemRevisions": {"href": f"{self_url}/revisions"},
            "workItemComments": {
                "href": f"{root}/{project_id}/_apis/wit/workItems/{item.num}/comments"
            },
            "html": {"href": f"{root}/web/wi.aspx?pcguid={collection}&id={item.num}"},
            "workItemType": {"href": type_links[item.type]},
            "fields": {"href": f"{root}/{project_id}/_apis/wit/fields"},
        }
        payload["url"] = self_url
        work_items.append(payload)
    return {
        "organization": ORGANIZATION,
        "project": PROJECT,
        "process": "Agile",
        "work_items": work_items,
    }


def _revision(item: Item, relations: int) -> int:
    # one revision for creation, one per state change, one per link, a few edits
    changes = {"todo": 0, "in_progress": 1, "done": 2}[item.category] + int(item.removed)
    return 1 + changes + relations + item.variant % 4


def _identity(root: str, person: str) -> dict[str, Any]:
    guid = _guid(person)
    login = person.lower().replace(" ", ".")
    descriptor = f"aad.{uuid.uuid5(_NAMESPACE, login).hex}"
    return {
        "displayName": person,
        "url": f"{root}/_apis/Identities/{guid}",
        "_links": {"avatar": {"href": f"{root}/_apis/GraphProfile/MemberAvatars/{descriptor}"}},
        "id": guid,
        "uniqueName": f"{login}@example.com",
        "imageUrl": f"{root}/_api/_common/identityImage?id={guid}",
        "descriptor": descriptor,
    }
