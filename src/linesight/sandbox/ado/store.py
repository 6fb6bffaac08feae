"""The organization's state: projects, work items and comments, and the rendered JSON cache.

Work item JSON is rendered once per variant (with or without relations and ``_links``) and
cached on the item until it changes, so a 200-item batch costs a join of cached bytes.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

from linesight.sandbox.ado.errors import AdoError, bad_request, not_found_item
from linesight.sandbox.ado.indexes import QueryIndexes
from linesight.sandbox.ado.processes import RELATION_TYPES, WorkItemType
from linesight.sandbox.wiql import FieldRegistry, parse_datetime
from linesight.sandbox.wire import Request, bearer_or_basic_token

__all__ = [
    "LINK_TYPES",
    "PARENT",
    "WORK_ITEM_LINK",
    "Comment",
    "Item",
    "Project",
    "Relation",
    "Store",
    "check_writable",
    "iso",
]


WORK_ITEM_LINK = re.compile(r"/workitems/(\d+)/?$", re.IGNORECASE)
LINK_TYPES = {t["referenceName"].casefold(): t for t in RELATION_TYPES}
PARENT = "System.LinkTypes.Hierarchy-Reverse"


@dataclass(slots=True)
class Project:
    """A project: its process's work item types, its area and iteration paths."""

    name: str
    id: str
    process: str
    types: dict[str, WorkItemType]
    area_paths: set[str] = field(default_factory=set)  # casefolded, every level
    iteration_paths: set[str] = field(default_factory=set)
    forbidden: tuple[str, ...] = ()  # casefolded area paths

    def type(self, name: str) -> WorkItemType | None:
        exact = self.types.get(name)
        if exact is not None:
            return exact
        folded = name.casefold()
        return next((t for n, t in self.types.items() if n.casefold() == folded), None)

    def is_forbidden(self, area_path: Any) -> bool:
        if not isinstance(area_path, str):
            return False
        folded = area_path.casefold()
        return any(folded == f or folded.startswith(f + "\\") for f in self.forbidden)


@dataclass(slots=True)
class Relation:
    """A relation: a link to work item ``target``, or a hyperlink / artifact ``url``."""

    rel: str
    target: int | None  # a work item link's other end; None for hyperlinks, artifacts, files
    url: str | None  # kept as given when target is None
    attributes: dict[str, Any]


@dataclass(slots=True)
class Comment:
    """A work item comment; a deleted one is kept, flagged ``deleted``."""

    id: int
    text: str
    format: str  # "html" | "markdown"
    created_by: dict[str, Any]
    created_date: str
    modified_by: dict[str, Any]
    modified_date: str
    version: int = 1
    deleted: bool = False


@dataclass(slots=True)
class Item:
    """A work item, with its JSON rendered per ``(relations, links)`` variant."""

    id: int
    rev: int
    fields: dict[str, Any]
    relations: list[Relation]
    project: Project
    comments: list[Comment] = field(default_factory=list)
    rendered: dict[tuple[bool, bool], bytes] = field(default_factory=dict)

    def changed(self) -> None:
        """Drop the rendered JSON: the item changed."""
        self.rendered.clear()


def iso(moment: datetime) -> str:
    """``moment`` as Azure DevOps writes a date: UTC, milliseconds, ``Z``."""
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def check_writable(item: Item) -> None:
    """Refuse (403) a write under one of the project's forbidden area paths."""
    if item.project.is_forbidden(item.fields.get("System.AreaPath")):
        raise AdoError(
            403,
            "TF237111: The current user does not have permissions to save work items under "
            "the specified area path. The error is caused by "
            f"«{item.fields['System.AreaPath']}».",
            "WorkItemUnauthorizedAccessException",
        )


class Store:
    """One organization's projects and work items, and each item's JSON rendered once.

    The handlers share one store; every read or change of ``projects``, ``items`` and ``ids``
    holds ``lock`` (re-entrant: a handler holding it may call helpers that take it again).
    :func:`~linesight.sandbox.ado.loading.load` fills it from the dataset.
    """

    def __init__(
        self, organization: str, mount: str, *, user: str, clock: Callable[[], datetime]
    ) -> None:
        self.organization = organization
        self.mount = mount
        self.user = user
        self.clock = clock
        self.lock = threading.RLock()
        self.app_url = f"http://127.0.0.1{mount}"
        self.projects: dict[str, Project] = {}
        self.items: dict[int, Item] = {}
        self.ids: list[int] = []
        self.next_comment_id = 1
        self.registry = FieldRegistry()
        # ids of the items changed or deleted since the dataset was loaded, in order: what the
        # query indexes catch up from
        self.log: list[int] = []
        self.indexes = QueryIndexes()

    def changed(self, item: Item) -> None:
        """``item`` changed: its rendered JSON goes, and the change log names it."""
        item.changed()
        self.log.append(item.id)

    def forget_indexes(self) -> None:
        """Start the change log and the query indexes afresh (a new dataset was loaded)."""
        self.log = []
        self.indexes = QueryIndexes()

    def adopt_url(self, app_url: str) -> None:
        """Serve URLs under ``app_url`` (the address clients use); re-render if new."""
        if app_url != self.app_url:
            with self.lock:
                self.app_url = app_url
                for item in self.items.values():
                    item.rendered.clear()

    def now(self, after: str | None = None) -> datetime:
        """The current time, later than ``after`` (a revision's ChangedDate) if given."""
        now = self.clock().astimezone(UTC)
        previous = parse_datetime(after)
        if previous is not None and now <= previous:
            # Azure DevOps never gives a later revision an earlier ChangedDate.
            now = previous + timedelta(milliseconds=1)
        return now

    def identity(self, who: str | None) -> dict[str, Any]:
        """The identity reference of ``who`` (an email), as the service renders one."""
        unique = who or self.user
        display = unique.split("@", 1)[0].replace(".", " ").title()
        ident = str(uuid.uuid5(uuid.NAMESPACE_URL, f"linesight-sandbox/identity/{unique}"))
        descriptor = "aad." + hashlib.sha256(unique.encode()).hexdigest()[:43]
        return {
            "displayName": display,
            "url": f"{self.app_url}/_apis/Identities/{ident}",
            "_links": {
                "avatar": {"href": f"{self.app_url}/_apis/GraphProfile/MemberAvatars/{descriptor}"}
            },
            "id": ident,
            "uniqueName": unique,
            "imageUrl": f"{self.app_url}/_api/_common/identityImage?id={ident}",
            "descriptor": descriptor,
        }

    def caller(self, request: Request) -> dict[str, Any]:
        """The identity of the request's user."""
        user, _token = bearer_or_basic_token(request.headers)
        return self.identity(user or self.user)

    def project(self, name_or_id: str) -> Project:
        """The project ``name_or_id`` (a name in any case, or an id); 404 if none."""
        project = self.projects.get(name_or_id.casefold())
        if project is None:
            project = next((p for p in self.projects.values() if p.id == name_or_id), None)
        if project is None:
            raise AdoError(
                404,
                f"TF200016: The following project does not exist: {name_or_id}. Verify that the "
                "name of the project is correct and that the project exists on the specified "
                "Azure DevOps Server.",
                "ProjectDoesNotExistWithNameException",
                namespace="Microsoft.TeamFoundation.Core.WebApi",
            )
        return project

    def item(self, item_id: int) -> Item:
        """Work item ``item_id``; 404 (TF401232) if there is none."""
        item = self.items.get(item_id)
        if item is None:
            raise not_found_item(item_id)
        return item

    def item_url(self, item_id: int) -> str:
        """The REST URL of work item ``item_id``."""
        return f"{self.app_url}/_apis/wit/workItems/{item_id}"

    def field_ref(self, name: str) -> str:
        """The reference name of field ``name``; 400 (TF51535) if unknown."""
        found = self.registry.resolve(name)
        if found is None:
            raise bad_request(
                f"TF51535: Cannot find field {name.strip()}.", "FieldNotFoundException"
            )
        return found.ref

    def payload(self, item: Item, *, relations: bool, links: bool) -> dict[str, Any]:
        """Work item JSON as a dict, with relations and ``_links`` if asked for."""
        payload: dict[str, Any] = {"id": item.id, "rev": item.rev, "fields": item.fields}
        if relations and item.relations:
            payload["relations"] = [
                {
                    "rel": r.rel,
                    "url": self.item_url(r.target) if r.target is not None else r.url,
                    "attributes": r.attributes,
                }
                for r in item.relations
            ]
        url = self.item_url(item.id)
        if links:
            project = item.project
            payload["_links"] = {
                "self": {"href": url},
                "workItemUpdates": {"href": url + "/updates"},
                "workItemRevisions": {"href": url + "/revisions"},
                "workItemComments": {"href": url + "/comments"},
                "html": {"href": f"{self.app_url}/{quote(project.name)}/_workitems/edit/{item.id}"},
                "workItemType": {
                    "href": f"{self.app_url}/{project.id}/_apis/wit/workItemTypes/"
                    f"{quote(item.fields['System.WorkItemType'])}"
                },
                "fields": {"href": f"{self.app_url}/{project.id}/_apis/wit/fields"},
            }
        payload["url"] = url
        return payload

    def render(self, item: Item, *, relations: bool, links: bool) -> bytes:
        """Work item JSON bytes, from the item's cache."""
        key = (relations, links)
        cached = item.rendered.get(key)
        if cached is None:
            payload = self.payload(item, relations=relations, links=links)
            cached = json.dumps(payload, separators=(",", ":")).encode()
            item.rendered[key] = cached
        return cached

    def render_fields(self, item: Item, refs: list[str]) -> bytes:
        """Work item JSON bytes with only the ``refs`` fields (not cached)."""
        fields = {ref: item.fields[ref] for ref in refs if ref in item.fields}
        payload = {"id": item.id, "rev": item.rev, "fields": fields, "url": self.item_url(item.id)}
        return json.dumps(payload, separators=(",", ":")).encode()

    def path_exists(self, field_ref: str, path: str) -> bool:
        """Whether an area (``System.AreaPath``) or iteration path exists."""
        paths = "area_paths" if field_ref == "System.AreaPath" else "iteration_paths"
        folded = path.casefold()
        return any(folded in getattr(p, paths) for p in self.projects.values())

    def ensure_opposite(self, item: Item, relation: Relation, *, check: bool = True) -> Item | None:
        """Add the other end of ``relation`` to its target; the target if it changed."""
        if relation.target is None or relation.target not in self.items:
            return None
        opposite = LINK_TYPES[relation.rel.casefold()]["attributes"].get("oppositeEndReferenceName")
        if opposite is None:
            return None
        target = self.items[relation.target]
        if check and any(r.rel == opposite and r.target == item.id for r in target.relations):
            return None
        name = LINK_TYPES[opposite.casefold()]["name"]
        target.relations.append(
            Relation(opposite, item.id, None, {"isLocked": False, "name": name})
        )
        if opposite == PARENT:
            target.fields = {**target.fields, "System.Parent": item.id}
        self.changed(target)
        return target

    def bump(
        self, item: Item, caller: dict[str, Any], extra: Mapping[str, Any] | None = None
    ) -> None:
        """A new revision of ``item`` made by a change elsewhere (a link, a comment)."""
        stamp = iso(self.now(item.fields.get("System.ChangedDate")))
        fields = {**item.fields, **(extra or {})}
        item.rev += 1
        fields.update(
            {
                "System.Rev": item.rev,
                "System.ChangedDate": stamp,
                "System.AuthorizedDate": stamp,
                "System.ChangedBy": caller,
            }
        )
        fields.pop("System.History", None)
        item.fields = fields
        self.changed(item)

    def new_comment(
        self, text: str, comment_format: str, caller: dict[str, Any], stamp: str
    ) -> Comment:
        """A comment with the next id (the caller attaches it to an item)."""
        comment = Comment(self.next_comment_id, text, comment_format, caller, stamp, caller, stamp)
        self.next_comment_id += 1
        return comment
