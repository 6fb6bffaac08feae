"""The sandbox's Azure DevOps organization: Work Item Tracking REST 7.1 on loopback.

One :class:`AdoApp` serves one organization (mounted at ``/ado/{organization}``) with any number
of projects, each loaded from a dataset entry of native work item payloads::

    {"organization": "contoso", "project": "Fabrikam", "process": "Agile",
     "work_items": [{"id": 4711, "rev": 3, "fields": {...}, "relations": [...]}, ...],
     # optional:
     "area_paths": ["Fabrikam\\\\Checkout\\\\Mobile"],      # paths that exist but hold no item yet
     "iteration_paths": ["Fabrikam\\\\Sprint 9"],
     "custom_work_item_types": {"Key Result": "Feature"},  # an inherited process's extra types
     "comments": {"4711": [{"text": "...", "createdDate": "..."}]},
     "forbidden_area_paths": ["Fabrikam\\\\Security"]}      # writes under these answer 403

The real ``azure-devops`` SDK talks to it unchanged: ``OPTIONS _apis`` location data, resource
areas, WIQL (flat queries, 20,000-result cap, date vs time precision), work items by id and in
batches of 200, JSON Patch updates with ``test /rev`` (412 on a stale revision), tags, links
kept at both ends, deletions, comments 7.1-preview.4 (paged, markdown), work item types and their
states per process, relation types, fields and projects. Errors have the service's shape
(``$id``, ``message``, ``typeKey``, ...) and, where known, its message and TF/VS code.

Relation URLs in the dataset may point anywhere (dev.azure.com exports); they are rewritten to
the sandbox from the target id. Work item JSON is rendered once per variant and cached until the
item changes, so a 200-item batch costs a join of cached bytes.
"""

from __future__ import annotations

import bisect
import hashlib
import html
import json
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

from linesight.sandbox import ado_processes
from linesight.sandbox.ado_processes import RELATION_TYPES, ProcessError, WorkItemType
from linesight.sandbox.wiql import (
    Context,
    FieldRegistry,
    WiqlError,
    compile_query,
    parse,
    parse_datetime,
)
from linesight.sandbox.wire import BadJsonError, Request, Response, bearer_or_basic_token

try:
    from linesight.sandbox.dataset import DatasetError
except ImportError:  # pragma: no cover - dataset.py ships with the sandbox

    class DatasetError(ValueError):  # type: ignore[no-redef]
        """The dataset is not one the sandbox can serve."""


__all__ = ["MAX_BATCH_SIZE", "MAX_WIQL_RESULTS", "AdoApp"]

MAX_WIQL_RESULTS = 20000
MAX_BATCH_SIZE = 200
MAX_COMMENT_PAGE = 200

_JSON = "application/json; charset=utf-8"
_WORK_ITEM_LINK = re.compile(r"/workitems/(\d+)/?$", re.IGNORECASE)
_VERSION = re.compile(r"^(\d+)\.(\d+)(-preview(\.\d+)?)?$")
_LATEST = (7, 2)
_WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_LINK_TYPES = {t["referenceName"].casefold(): t for t in RELATION_TYPES}
_PARENT = "System.LinkTypes.Hierarchy-Reverse"
_READ_ONLY = frozenset(
    f.casefold()
    for f in (
        "System.Id",
        "System.Rev",
        "System.TeamProject",
        "System.AreaId",
        "System.IterationId",
        "System.AuthorizedDate",
        "System.AuthorizedAs",
        "System.RevisedDate",
        "System.CommentCount",
        "System.Parent",
        "System.Watermark",
    )
)
# Writable only with ?bypassRules=true, as in Azure DevOps (used to import history).
_BYPASS_ONLY = frozenset(
    f.casefold()
    for f in ("System.CreatedDate", "System.ChangedDate", "System.CreatedBy", "System.ChangedBy")
)

# Every resource area the v7.1 SDK knows, all served from the organization URL. Real Azure
# DevOps hosts some elsewhere (vssps, vsrm); here nothing may make the SDK look beyond loopback
# (an unknown area sends it to app.vssps.visualstudio.com).
_RESOURCE_AREAS: tuple[tuple[str, str], ...] = (
    ("wit", "5264459e-e5e0-4bd8-b118-0985e68a4ec5"),
    ("core", "79134c72-4a58-4b42-976c-04e7115f32bf"),
    ("work", "1d4f49f9-02b9-4e26-b826-2cdb6195f2a9"),
    ("account", "0d55247a-1c47-4462-9b1f-5e2125590ee6"),
    ("serviceendpoint", "1814ab31-2f4f-4a9f-8761-f4d77dc5a5d7"),
    ("sbom", "2e504d18-2c0c-46f8-af8f-322d2af0068a"),
    ("dashboard", "31c84e0a-3ece-48fd-a29d-100849af99ba"),
    ("pipelineschecks", "4a933897-0488-45af-bd82-6fd3ad33f46a"),
    ("npm", "4c83cfc1-f33a-477e-a789-29d38ffca52e"),
    ("MemberEntitlementManagement", "68ddce18-2501-45f1-a17b-7931a9922690"),
    ("gallery", "69d21c00-f135-441b-b5ce-3626378e0819"),
    ("ExtensionManagement", "6c2b0933-3600-42ae-bf8b-93d4f7e83594"),
    ("maven", "6f7f8c07-ff36-473c-bcf3-bd6cc9b6c066"),
    ("projectanalysis", "7658fa33-b1bf-4580-990f-fac5896773d3"),
    ("Packaging", "7ab4e64e-c4d8-4f50-ae73-5ef2e21642a5"),
    ("Contribution", "8477aec9-a4c7-4bd4-a456-ba4c53c989cb"),
    ("IMS", "8a3d49b8-91f0-46ef-b33d-dda338c25db3"),
    ("tfvc", "8aa40520-446d-40e6-89f6-9c9f9ce44c48"),
    ("Profile", "8ccfef3d-2b87-4e99-8ccb-66e343d2daa8"),
    ("pypi", "92f0314b-06c5-46e0-abe7-15fd9d13276a"),
    ("audit", "94ff054d-5ee1-413d-9341-3f4a7827de2e"),
    ("build", "965220d5-5bb9-42cf-8d67-9b146df2a5a4"),
    ("pipelinePermissions", "a81a0441-de52-4000-aa15-ff0e07bfbbaa"),
    ("distributedtask", "a85b8835-c1a1-4aac-ae97-1c3d0ba72dbd"),
    ("symbol", "af607f94-69ba-4821-8159-f04e37b66350"),
    ("tokenadmin", "af68438b-ed04-4407-9eb6-f1dbae3f922e"),
    ("nuget", "b3be7473-68ea-4a81-bfc7-9530baaa19ad"),
    ("provenance", "b40c1171-807a-493a-8f3f-5c26d5e2f5aa"),
    ("Graph", "bb1e7ec9-e901-4b68-999a-de7012b920f8"),
    ("wiki", "bf7d82a0-8aa5-4613-94ef-6172a5ea01f3"),
    ("Test", "c2aa639c-3ccc-4740-b3b6-ce2a1e1d984e"),
    ("testresults", "c83eaf52-edf3-4034-ae11-17d38f25404c"),
    ("upack", "d397749b-f115-4027-b6dd-77a65dd10d21"),
    ("search", "ea48a0a1-269c-42d8-b8ad-ddc8fcdcf578"),
    ("Release", "efc2f575-36ef-48e9-b672-0c6fb4a48ac5"),
    ("policy", "fb13a388-40dd-4a04-b530-013a739c72ef"),
)


def _location(
    location_id: str, area: str, resource: str, template: str, version: int, *, released: bool
) -> dict[str, Any]:
    return {
        "id": location_id,
        "area": area,
        "resourceName": resource,
        "routeTemplate": template,
        "resourceVersion": version,
        "minVersion": 1.0,
        "maxVersion": 7.2,
        "releasedVersion": "7.1" if released else "0.0",
    }


# What OPTIONS {org}/_apis answers: one entry per resource served here. The SDK reads it to
# build URLs (routeTemplate; optional {segments} it has no value for are dropped) and to
# negotiate the api-version (min/max/released/resourceVersion).
_LOCATIONS: tuple[dict[str, Any], ...] = (
    _location(
        "1a9c53f7-f243-4447-b110-35ef023636e4",
        "wit",
        "wiql",
        "{project}/{team}/_apis/{area}/{resource}/{id}",
        2,
        released=True,
    ),
    _location(
        "72c7ddf8-2cdc-4f60-90cd-ab71c14a399b",
        "wit",
        "workItems",
        "{project}/_apis/{area}/{resource}/{id}",
        3,
        released=True,
    ),
    _location(
        "908509b6-4248-4475-a1cd-829139ba419f",
        "wit",
        "workItemsBatch",
        "{project}/_apis/{area}/{resource}",
        1,
        released=True,
    ),
    _location(
        "608aac0a-32e1-4493-a863-b9cf4566d257",
        "wit",
        "comments",
        "{project}/_apis/{area}/workItems/{workItemId}/{resource}/{commentId}",
        4,
        released=False,
    ),
    _location(
        "7c9d7a76-4a09-43e8-b5df-bd792f4ac6aa",
        "wit",
        "workItemTypeStates",
        "{project}/_apis/{area}/workitemtypes/{type}/states",
        1,
        released=True,
    ),
    _location(
        "7c8d7a76-4a09-43e8-b5df-bd792f4ac6aa",
        "wit",
        "workItemTypes",
        "{project}/_apis/{area}/{resource}/{type}",
        2,
        released=True,
    ),
    _location(
        "f5d33bc9-5b49-4a3c-a9bd-f3cd46dd2165",
        "wit",
        "workItemRelationTypes",
        "_apis/{area}/{resource}/{relation}",
        2,
        released=True,
    ),
    _location(
        "b51fd764-e5c2-4b9b-aaf7-3395cf4bdd94",
        "wit",
        "fields",
        "{project}/_apis/{area}/{resource}/{fieldNameOrRefName}",
        3,
        released=True,
    ),
    _location(
        "603fe2ac-9723-48b9-88ad-09305aa6c6e1",
        "core",
        "projects",
        "_apis/{resource}/{*projectId}",
        4,
        released=True,
    ),
    _location(
        "e81700f7-3be2-46de-8624-2eb35882fcaa",
        "Location",
        "ResourceAreas",
        "_apis/{resource}/{areaId}",
        1,
        released=False,
    ),
    _location(
        "00d9565f-ed9c-4a06-9a50-00e7896ccab4",
        "Location",
        "ConnectionData",
        "_apis/{resource}",
        1,
        released=False,
    ),
)
_LOCATIONS_BODY = json.dumps(
    {"count": len(_LOCATIONS), "value": list(_LOCATIONS)}, separators=(",", ":")
).encode()


# -- errors ----------------------------------------------------------------------------------


class _AdoError(Exception):
    """Raised inside a handler to answer with an Azure DevOps error body."""

    def __init__(
        self,
        status: int,
        message: str,
        type_key: str,
        *,
        namespace: str = "Microsoft.TeamFoundation.WorkItemTracking.Server",
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.type_key = type_key
        self.namespace = namespace
        self.headers = dict(headers or {})

    def response(self) -> Response:
        assembly = "mscorlib" if self.namespace == "System" else self.namespace
        body = {
            "$id": "1",
            "innerException": None,
            "message": self.message,
            "typeName": f"{self.namespace}.{self.type_key}, {assembly}",
            "typeKey": self.type_key,
            "errorCode": 0,
            "eventId": 3000,
        }
        return Response(
            self.status,
            json.dumps(body, separators=(",", ":")).encode(),
            {"Content-Type": _JSON, **self.headers},
        )


_VSS = "Microsoft.VisualStudio.Services.WebApi"


def _not_found_item(item_id: int) -> _AdoError:
    return _AdoError(
        404,
        f"TF401232: Work item {item_id} does not exist, or you do not have permissions to read it.",
        "WorkItemUnauthorizedAccessException",
    )


def _bad_request(message: str, type_key: str = "VssPropertyValidationException") -> _AdoError:
    return _AdoError(400, message, type_key)


# -- state -----------------------------------------------------------------------------------


@dataclass(slots=True)
class _Project:
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
class _Relation:
    rel: str
    target: int | None  # a work item link's other end; None for hyperlinks, artifacts, files
    url: str | None  # kept as given when target is None
    attributes: dict[str, Any]


@dataclass(slots=True)
class _Comment:
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
class _Item:
    id: int
    rev: int
    fields: dict[str, Any]
    relations: list[_Relation]
    project: _Project
    comments: list[_Comment] = field(default_factory=list)
    rendered: dict[tuple[bool, bool], bytes] = field(default_factory=dict)

    def changed(self) -> None:
        self.rendered.clear()


def _iso(moment: datetime) -> str:
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _split_tags(value: Any) -> list[str]:
    if not isinstance(value, str):
        return []
    seen: set[str] = set()
    tags: list[str] = []
    for raw in value.split(";"):
        tag = raw.strip()
        if tag and tag.casefold() not in seen:
            seen.add(tag.casefold())
            tags.append(tag)
    return tags


def _path_levels(path: str) -> Iterable[str]:
    parts = path.strip("\\").split("\\")
    for depth in range(1, len(parts) + 1):
        yield "\\".join(parts[:depth]).casefold()


class AdoApp:
    """One Azure DevOps organization. Implements :class:`~linesight.sandbox.wire.TrackerApp`.

    ``entries`` are the dataset's ``azure_devops`` entries of this organization (one per
    project); they are read, never modified. Raises :class:`DatasetError` naming the place
    (``azure_devops[contoso/Fabrikam].work_items[5]: missing 'fields'``) on a bad shape.
    ``clock`` (for tests) returns the current time as an aware datetime.
    """

    def __init__(
        self,
        organization: str,
        entries: Sequence[Mapping[str, Any]],
        *,
        token: str,
        user: str,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.mount = f"/ado/{organization}"
        self._organization = organization
        self._entries = list(entries)
        self._token = token
        self._user = user
        self._clock = clock or (lambda: datetime.now(UTC))
        self._lock = threading.RLock()
        self._app_url = f"http://127.0.0.1{self.mount}"
        self._projects: dict[str, _Project] = {}
        self._items: dict[int, _Item] = {}
        self._ids: list[int] = []
        self._next_comment_id = 1
        self._registry = FieldRegistry()
        self._load()
        limits = [e["soft_rate_limit"] for e in self._entries if e.get("soft_rate_limit")]
        self.soft_rate_limit: int | None = int(limits[0]) if limits else None
        self._window = (0.0, 0)  # (window start, requests in it)

    # -- TrackerApp ------------------------------------------------------------------------

    def handle(self, request: Request) -> Response:
        """Answer one request (thread-safe)."""
        try:
            self._authenticate(request)
            if request.method == "OPTIONS":
                return Response(200, _LOCATIONS_BODY, {"Content-Type": _JSON})
            self._adopt_url(request.app_url)
            response = self._route(request)
            self._throttle_headers(response)
            return response
        except _AdoError as refusal:
            return refusal.response()
        except BadJsonError as exc:
            return _bad_request(
                f"The request body is not valid JSON: {exc}", "VssRequestContentException"
            ).response()

    def state(self) -> dict[str, Any]:
        """``{project: [work item payloads]}``; items with comments carry a ``comments`` list."""
        with self._lock:
            result: dict[str, Any] = {p.name: [] for p in self._projects.values()}
            for item_id in self._ids:
                item = self._items[item_id]
                payload = self._payload(item, relations=True, links=False)
                payload["fields"] = dict(item.fields)
                live = [c for c in item.comments if not c.deleted]
                if live:
                    payload["comments"] = [self._comment_json(item, c, False) for c in live]
                result[item.project.name].append(payload)
            return result

    def reset(self) -> None:
        """Back to the dataset as loaded."""
        with self._lock:
            self._load()

    # -- loading ---------------------------------------------------------------------------

    def _load(self) -> None:
        self._projects = {}
        self._items = {}
        self._next_comment_id = 1
        self._registry = FieldRegistry()
        now = _iso(self._clock())
        seen_fields: set[str] = set()
        for entry in self._entries:
            project = self._load_project(entry)
            where = f"azure_devops[{self._organization}/{project.name}]"
            work_items = entry.get("work_items", [])
            if not isinstance(work_items, list):
                raise DatasetError(f"{where}.work_items: expected a list of work items")
            for index, raw in enumerate(work_items):
                item = self._load_item(raw, project, f"{where}.work_items[{index}]", now)
                if item.id in self._items:
                    raise DatasetError(
                        f"{where}.work_items[{index}]: duplicate id {item.id} "
                        "(work item ids are unique in an organization)"
                    )
                self._items[item.id] = item
                new = item.fields.keys() - seen_fields
                if new:
                    seen_fields |= new
                    self._registry.observe({k: item.fields[k] for k in new})
            self._load_comments(entry, project, where)
        self._ids = sorted(self._items)
        self._link_both_ends()

    def _load_project(self, entry: Mapping[str, Any]) -> _Project:
        name = entry.get("project")
        if not isinstance(name, str) or not name.strip():
            raise DatasetError(f"azure_devops[{self._organization}]: missing 'project'")
        where = f"azure_devops[{self._organization}/{name}]"
        if name.casefold() in self._projects:
            raise DatasetError(f"{where}: project {name!r} appears twice in the dataset")
        process = entry.get("process", "Agile")
        custom = entry.get("custom_work_item_types")
        if custom is not None and not isinstance(custom, dict):
            raise DatasetError(f"{where}.custom_work_item_types: expected an object")
        try:
            types = ado_processes.process_types(str(process), custom)
        except ProcessError as exc:
            raise DatasetError(f"{where}: {exc}") from None
        forbidden = entry.get("forbidden_area_paths", [])
        if not isinstance(forbidden, list) or not all(isinstance(p, str) for p in forbidden):
            raise DatasetError(f"{where}.forbidden_area_paths: expected a list of area paths")
        project_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"linesight-sandbox/{self.mount}/{name}"))
        project = _Project(
            name,
            project_id,
            next(p for p in ado_processes.PROCESSES if p.casefold() == str(process).casefold()),
            types,
            forbidden=tuple(p.strip("\\").casefold() for p in forbidden),
        )
        project.area_paths.add(name.casefold())
        project.iteration_paths.add(name.casefold())
        for key, paths in (
            ("area_paths", project.area_paths),
            ("iteration_paths", project.iteration_paths),
        ):
            extra = entry.get(key, [])
            if not isinstance(extra, list) or not all(isinstance(p, str) for p in extra):
                raise DatasetError(f"{where}.{key}: expected a list of paths")
            for path in extra:
                paths.update(_path_levels(path))
        self._projects[name.casefold()] = project
        return project

    def _load_item(self, raw: Any, project: _Project, where: str, now: str) -> _Item:
        if not isinstance(raw, dict):
            raise DatasetError(f"{where}: expected a work item object")
        item_id = raw.get("id")
        if isinstance(item_id, bool) or not isinstance(item_id, int) or item_id < 1:
            raise DatasetError(f"{where}: missing 'id' (a positive integer such as 4711)")
        source = raw.get("fields")
        if not isinstance(source, dict):
            raise DatasetError(f"{where}: missing 'fields'")
        fields = dict(source)
        rev = raw.get("rev", fields.get("System.Rev", 1))
        if isinstance(rev, bool) or not isinstance(rev, int) or rev < 1:
            raise DatasetError(f"{where}: 'rev' must be a positive integer")
        for name in ("System.WorkItemType", "System.State", "System.Title"):
            if not isinstance(fields.get(name), str):
                raise DatasetError(f"{where}.fields: missing {name!r} (a string)")
        kind = project.type(fields["System.WorkItemType"])
        if kind is None:
            raise DatasetError(
                f"{where}.fields: 'System.WorkItemType' {fields['System.WorkItemType']!r} is not "
                f"a type of the {project.process} process (types: {', '.join(project.types)}); "
                "declare it under 'custom_work_item_types'"
            )
        if kind.state(fields["System.State"]) is None:
            raise DatasetError(
                f"{where}.fields: 'System.State' {fields['System.State']!r} is not a state of "
                f"{kind.name!r} in the {project.process} process "
                f"(states: {', '.join(s.name for s in kind.states)})"
            )
        team_project = fields.setdefault("System.TeamProject", project.name)
        if not isinstance(team_project, str) or team_project.casefold() != project.name.casefold():
            raise DatasetError(
                f"{where}.fields: 'System.TeamProject' {team_project!r} does not match the "
                f"entry's project {project.name!r}"
            )
        for name, paths in (
            ("System.AreaPath", project.area_paths),
            ("System.IterationPath", project.iteration_paths),
        ):
            path = fields.setdefault(name, project.name)
            if not isinstance(path, str) or not (
                path.casefold() == project.name.casefold()
                or path.casefold().startswith(project.name.casefold() + "\\")
            ):
                raise DatasetError(
                    f"{where}.fields: {name!r} {path!r} must start with the project name "
                    f'{project.name!r} (e.g. "{project.name}\\\\Checkout")'
                )
            if path.casefold() not in paths:
                paths.update(_path_levels(path))
        created = fields.setdefault("System.CreatedDate", now)
        fields.setdefault("System.ChangedDate", created)
        for name, value in fields.items():
            if name.endswith("Date") and isinstance(value, str) and parse_datetime(value) is None:
                raise DatasetError(
                    f"{where}.fields: {name!r} {value!r} is not an ISO 8601 date-time "
                    '(such as "2026-10-01T09:00:00.123Z")'
                )
        if "System.Tags" in fields and not isinstance(fields["System.Tags"], str):
            raise DatasetError(f"{where}.fields: 'System.Tags' must be a '; '-separated string")
        fields["System.Id"] = item_id
        fields["System.Rev"] = rev
        relations = self._load_relations(raw.get("relations", []), f"{where}.relations")
        parents = [r.target for r in relations if r.rel == _PARENT]
        if parents and parents[0] is not None:
            fields["System.Parent"] = parents[0]
        elif isinstance(fields.get("System.Parent"), int):
            # A payload fetched without $expand=relations still names its parent.
            relations.append(
                _Relation(
                    _PARENT, fields["System.Parent"], None, {"isLocked": False, "name": "Parent"}
                )
            )
        return _Item(item_id, rev, fields, relations, project)

    def _load_relations(self, raw: Any, where: str) -> list[_Relation]:
        if raw is None:
            return []
        if not isinstance(raw, list):
            raise DatasetError(f"{where}: expected a list of relations")
        relations: list[_Relation] = []
        for index, relation in enumerate(raw):
            spot = f"{where}[{index}]"
            if not isinstance(relation, dict) or not isinstance(relation.get("rel"), str):
                raise DatasetError(f"{spot}: expected an object with a string 'rel'")
            url = relation.get("url")
            if not isinstance(url, str):
                raise DatasetError(f"{spot}: missing 'url'")
            attributes = relation.get("attributes") or {}
            if not isinstance(attributes, dict):
                raise DatasetError(f"{spot}.attributes: expected an object")
            link_type = _LINK_TYPES.get(relation["rel"].casefold())
            if link_type is not None and link_type["attributes"]["usage"] == "workItemLink":
                match = _WORK_ITEM_LINK.search(url)
                if match is None:
                    raise DatasetError(
                        f"{spot}.url: a {relation['rel']} link must end in /workItems/<id>, "
                        f"got {url!r}"
                    )
                rel = link_type["referenceName"]
                attributes = {"isLocked": False, "name": link_type["name"], **attributes}
                relations.append(_Relation(rel, int(match.group(1)), None, attributes))
            else:
                relations.append(_Relation(relation["rel"], None, url, dict(attributes)))
        return relations

    def _link_both_ends(self) -> None:
        # Azure DevOps stores a link at both ends; a dataset may list one end only. (A set of
        # the links present keeps this linear: an epic may have thousands of children.)
        present = {
            (item.id, r.rel, r.target)
            for item in self._items.values()
            for r in item.relations
            if r.target is not None
        }
        for item in self._items.values():
            for relation in list(item.relations):
                if relation.target is None or relation.target not in self._items:
                    continue
                opposite = _LINK_TYPES[relation.rel.casefold()]["attributes"].get(
                    "oppositeEndReferenceName"
                )
                if opposite is not None and (relation.target, opposite, item.id) not in present:
                    self._ensure_opposite(item, relation, check=False)
                    present.add((relation.target, opposite, item.id))

    def _ensure_opposite(
        self, item: _Item, relation: _Relation, *, check: bool = True
    ) -> _Item | None:
        """Add the other end of ``relation`` to its target; the target if it changed."""
        if relation.target is None or relation.target not in self._items:
            return None
        opposite = _LINK_TYPES[relation.rel.casefold()]["attributes"].get(
            "oppositeEndReferenceName"
        )
        if opposite is None:
            return None
        target = self._items[relation.target]
        if check and any(r.rel == opposite and r.target == item.id for r in target.relations):
            return None
        name = _LINK_TYPES[opposite.casefold()]["name"]
        target.relations.append(
            _Relation(opposite, item.id, None, {"isLocked": False, "name": name})
        )
        if opposite == _PARENT:
            target.fields = {**target.fields, "System.Parent": item.id}
        target.changed()
        return target

    def _load_comments(self, entry: Mapping[str, Any], project: _Project, where: str) -> None:
        comments = entry.get("comments", {})
        if not isinstance(comments, dict):
            raise DatasetError(f"{where}.comments: expected an object of work item id -> list")
        for key, listed in comments.items():
            spot = f"{where}.comments[{key!r}]"
            item = self._items.get(int(key)) if str(key).isdigit() else None
            if item is None or item.project is not project:
                raise DatasetError(f"{spot}: no work item {key} in project {project.name!r}")
            if not isinstance(listed, list):
                raise DatasetError(f"{spot}: expected a list of comments")
            for index, raw in enumerate(listed):
                if not isinstance(raw, dict) or not isinstance(raw.get("text"), str):
                    raise DatasetError(f"{spot}[{index}]: expected an object with a string 'text'")
                author = raw.get("createdBy")
                author = author if isinstance(author, dict) else self._identity(self._user)
                created = raw.get("createdDate", item.fields["System.CreatedDate"])
                comment_format = "markdown" if raw.get("format") == "markdown" else "html"
                item.comments.append(
                    _Comment(
                        self._next_comment_id,
                        raw["text"],
                        comment_format,
                        author,
                        created,
                        raw.get("modifiedBy", author),
                        raw.get("modifiedDate", created),
                    )
                )
                self._next_comment_id += 1
            item.fields["System.CommentCount"] = len(item.comments)

    # -- plumbing --------------------------------------------------------------------------

    def _authenticate(self, request: Request) -> None:
        _user, token = bearer_or_basic_token(request.headers)
        if token == self._token:
            return
        # A text/plain body makes the SDK raise AzureDevOpsAuthenticationError (it would turn a
        # JSON body into a generic service error); the headers are the ones the service sends.
        message = (
            "Access Denied: The Personal Access Token used has expired or is not valid."
            if token
            else "TF400813: The user is not authorized to access this resource."
        )
        raise _PlainAdoError(
            401,
            message,
            {
                "WWW-Authenticate": f'Basic realm="{request.app_url}/"',
                "X-TFS-FedAuthRealm": request.app_url,
                "X-TFS-ServiceError": quote(message),
            },
        )

    def _throttle_headers(self, response: Response) -> None:
        """Azure DevOps' soft limit: past it, answers stay 200 but say to slow down.

        ``soft_rate_limit`` (requests per 60-second window; from the dataset entry or set at
        run time) models the service's delay headers, which well-behaved clients honour before
        the hard 429 (https://learn.microsoft.com/azure/devops/integrate/concepts/rate-limits).
        """
        limit = self.soft_rate_limit
        if limit is None:
            return
        now = time.monotonic()
        with self._lock:
            start, count = self._window
            if now - start >= 60.0:
                start, count = now, 0
            count += 1
            self._window = (start, count)
        if count <= limit:
            return
        reset = int(time.time() + 60.0 - (now - start))
        response.headers.update(
            {
                "Retry-After": "1",
                "X-RateLimit-Resource": "Core",
                "X-RateLimit-Delay": "0.500",
                "X-RateLimit-Limit": str(limit),
                "X-RateLimit-Remaining": "0",
                "X-RateLimit-Reset": str(reset),
            }
        )

    def _adopt_url(self, app_url: str) -> None:
        if app_url != self._app_url:
            with self._lock:
                self._app_url = app_url
                for item in self._items.values():
                    item.rendered.clear()

    def _now(self, after: str | None = None) -> datetime:
        now = self._clock().astimezone(UTC)
        previous = parse_datetime(after)
        if previous is not None and now <= previous:
            # Azure DevOps never gives a later revision an earlier ChangedDate.
            now = previous + timedelta(milliseconds=1)
        return now

    def _identity(self, who: str | None) -> dict[str, Any]:
        unique = who or self._user
        display = unique.split("@", 1)[0].replace(".", " ").title()
        ident = str(uuid.uuid5(uuid.NAMESPACE_URL, f"linesight-sandbox/identity/{unique}"))
        descriptor = "aad." + hashlib.sha256(unique.encode()).hexdigest()[:43]
        return {
            "displayName": display,
            "url": f"{self._app_url}/_apis/Identities/{ident}",
            "_links": {
                "avatar": {"href": f"{self._app_url}/_apis/GraphProfile/MemberAvatars/{descriptor}"}
            },
            "id": ident,
            "uniqueName": unique,
            "imageUrl": f"{self._app_url}/_api/_common/identityImage?id={ident}",
            "descriptor": descriptor,
        }

    def _caller(self, request: Request) -> dict[str, Any]:
        user, _token = bearer_or_basic_token(request.headers)
        return self._identity(user or self._user)

    def _project(self, name_or_id: str) -> _Project:
        project = self._projects.get(name_or_id.casefold())
        if project is None:
            project = next((p for p in self._projects.values() if p.id == name_or_id), None)
        if project is None:
            raise _AdoError(
                404,
                f"TF200016: The following project does not exist: {name_or_id}. Verify that the "
                "name of the project is correct and that the project exists on the specified "
                "Azure DevOps Server.",
                "ProjectDoesNotExistWithNameException",
                namespace="Microsoft.TeamFoundation.Core.WebApi",
            )
        return project

    def _item(self, item_id: int) -> _Item:
        item = self._items.get(item_id)
        if item is None:
            raise _not_found_item(item_id)
        return item

    def _item_url(self, item_id: int) -> str:
        return f"{self._app_url}/_apis/wit/workItems/{item_id}"

    # -- routing ---------------------------------------------------------------------------

    def _route(self, request: Request) -> Response:
        segments = [s for s in request.path.split("/") if s]
        try:
            api = next(i for i, s in enumerate(segments) if s.casefold() == "_apis")
        except StopIteration:
            raise _no_route(request) from None
        scope, rest = segments[:api], segments[api + 1 :]
        lower = [s.casefold() for s in rest]
        project = self._project(scope[0]) if scope else None
        if len(scope) > 2 or (len(scope) == 2 and lower != ["wit", "wiql"]):
            raise _no_route(request)
        _check_version(request, preview_only=lower[:1] == ["wit"] and "comments" in lower[2:4])
        method = request.method
        if lower[:1] == ["wit"]:
            return self._route_wit(request, method, project, rest[1:], lower[1:])
        if lower == ["resourceareas"] or (lower[:1] == ["resourceareas"] and len(lower) == 2):
            _allow(request, "GET")
            return self._resource_areas(rest[1] if len(rest) == 2 else None)
        if lower == ["connectiondata"]:
            _allow(request, "GET")
            return self._connection_data(request)
        if lower[:1] == ["projects"] and len(lower) <= 2:
            _allow(request, "GET")
            return self._projects_json(rest[1] if len(rest) == 2 else None)
        raise _no_route(request)

    def _route_wit(
        self,
        request: Request,
        method: str,
        project: _Project | None,
        rest: list[str],
        lower: list[str],
    ) -> Response:
        head = lower[0] if lower else ""
        if lower == ["wiql"]:
            _allow(request, "POST")
            return self._wiql(request, project)
        if lower == ["workitemsbatch"]:
            _allow(request, "POST")
            return self._batch(request)
        if lower == ["workitems"]:
            _allow(request, "GET")
            return self._list(request)
        if head == "workitems" and len(lower) >= 2 and lower[1].isdigit():
            item_id = int(lower[1])
            if len(lower) == 2:
                _allow(request, "GET", "PATCH", "DELETE")
                if method == "GET":
                    return self._get_one(request, item_id)
                if method == "PATCH":
                    return self._patch(request, item_id)
                return self._delete(request, item_id)
            if lower[2] == "comments" and len(lower) <= 4:
                if len(lower) == 3:
                    _allow(request, "GET", "POST")
                    if method == "GET":
                        return self._list_comments(request, item_id)
                    return self._add_comment(request, item_id)
                if not lower[3].isdigit():
                    raise _no_route(request)
                _allow(request, "GET", "PATCH", "DELETE")
                return self._one_comment(request, item_id, int(lower[3]))
        if head == "workitemtypes" and project is not None and len(lower) <= 3:
            _allow(request, "GET")
            if len(lower) == 1:
                return _ok(
                    {
                        "count": len(project.types),
                        "value": [self._type_json(project, t) for t in project.types.values()],
                    }
                )
            kind = project.type(rest[1])
            if kind is None:
                raise _AdoError(
                    404,
                    f"VS402323: Work item type {rest[1]} does not exist in project {project.name}.",
                    "WorkItemTypeNotFoundException",
                )
            if len(lower) == 2:
                return _ok(self._type_json(project, kind))
            if lower[2] == "states":
                states = [s.to_json() for s in kind.states]
                return _ok({"count": len(states), "value": states})
        if head == "workitemrelationtypes" and len(lower) <= 2:
            _allow(request, "GET")
            return self._relation_types(rest[1] if len(rest) == 2 else None)
        if head == "fields" and len(lower) <= 2:
            _allow(request, "GET")
            return self._fields(rest[1] if len(rest) == 2 else None)
        raise _no_route(request)

    # -- metadata --------------------------------------------------------------------------

    def _resource_areas(self, area_id: str | None) -> Response:
        areas = [
            {"id": ident, "name": name, "locationUrl": f"{self._app_url}/"}
            for name, ident in _RESOURCE_AREAS
        ]
        if area_id is None:
            return _ok({"count": len(areas), "value": areas})
        found = next((a for a in areas if a["id"] == area_id.casefold()), None)
        if found is None:
            raise _AdoError(
                404,
                f"Resource area {area_id} was not found.",
                "ResourceAreaNotFoundException",
                namespace=_VSS,
            )
        return _ok(found)

    def _connection_data(self, request: Request) -> Response:
        who = self._caller(request)
        instance = str(uuid.uuid5(uuid.NAMESPACE_URL, f"linesight-sandbox/{self.mount}"))
        return _ok(
            {
                "authenticatedUser": who,
                "authorizedUser": who,
                "instanceId": instance,
                "deploymentId": instance,
                "deploymentType": "hosted",
                "locationServiceData": {
                    "serviceOwner": "00025394-6065-48ca-87d9-7f5672854ef7",
                    "defaultAccessMappingMoniker": "PublicAccessMapping",
                    "lastChangeId": 1,
                    "lastChangeId64": 1,
                },
            }
        )

    def _projects_json(self, name_or_id: str | None) -> Response:
        def reference(project: _Project) -> dict[str, Any]:
            return {
                "id": project.id,
                "name": project.name,
                "url": f"{self._app_url}/_apis/projects/{project.id}",
                "state": "wellFormed",
                "revision": 1,
                "visibility": "private",
                "lastUpdateTime": "2026-01-01T00:00:00.000Z",
            }

        if name_or_id is None:
            values = [reference(p) for p in self._projects.values()]
            return _ok({"count": len(values), "value": values})
        project = self._project(name_or_id)
        return _ok(
            {
                **reference(project),
                "capabilities": {
                    "processTemplate": {"templateName": project.process},
                    "versioncontrol": {"sourceControlType": "Git"},
                },
                "_links": {"self": {"href": f"{self._app_url}/_apis/projects/{project.id}"}},
            }
        )

    def _type_json(self, project: _Project, kind: WorkItemType) -> dict[str, Any]:
        base = f"{self._app_url}/{project.id}/_apis/wit/workItemTypes/{quote(kind.name)}"
        return {
            "name": kind.name,
            "referenceName": kind.reference_name,
            "description": "",
            "color": kind.color,
            "icon": {
                "id": kind.icon,
                "url": f"{self._app_url}/_apis/wit/workItemIcons/{kind.icon}"
                f"?color={kind.color}&v=2",
            },
            "isDisabled": False,
            "states": [s.to_json() for s in kind.states],
            "url": base,
            "_links": {"self": {"href": base}},
        }

    def _relation_types(self, name: str | None) -> Response:
        def with_url(entry: Mapping[str, Any]) -> dict[str, Any]:
            ref = entry["referenceName"]
            return {**entry, "url": f"{self._app_url}/_apis/wit/workItemRelationTypes/{ref}"}

        if name is None:
            return _ok(
                {"count": len(RELATION_TYPES), "value": [with_url(t) for t in RELATION_TYPES]}
            )
        found = _LINK_TYPES.get(name.casefold())
        if found is None:
            raise _AdoError(
                404,
                f"TF201040: The link type {name} does not exist.",
                "WorkItemLinkTypeNotFoundException",
            )
        return _ok(with_url(found))

    def _fields(self, name: str | None) -> Response:
        def describe(entry: Any) -> dict[str, Any]:
            return {
                "name": entry.name,
                "referenceName": entry.ref,
                "type": entry.kind,
                "usage": "workItem",
                "readOnly": entry.ref.casefold() in _READ_ONLY,
                "canSortBy": entry.kind not in ("html", "plainText"),
                "isQueryable": True,
                "isIdentity": entry.kind == "identity",
                "isPicklist": False,
                "url": f"{self._app_url}/_apis/wit/fields/{entry.ref}",
            }

        if name is None:
            values = [describe(f) for f in self._registry.all()]
            return _ok({"count": len(values), "value": values})
        found = self._registry.resolve(name)
        if found is None:
            raise _AdoError(404, f"TF51535: Cannot find field {name}.", "FieldNotFoundException")
        return _ok(describe(found))

    # -- WIQL ------------------------------------------------------------------------------

    def _wiql(self, request: Request, project: _Project | None) -> Response:
        body = request.json()
        text = body.get("query") if isinstance(body, dict) else None
        if not isinstance(text, str):
            raise _AdoError(
                400,
                "Value cannot be null.\r\nParameter name: wiql",
                "ArgumentNullException",
                namespace="System",
            )
        top = _int_arg(request, "$top")
        time_precision = (request.arg("timePrecision") or "").casefold() == "true"
        caller = self._caller(request)
        now = self._clock().astimezone(UTC)
        try:
            query = parse(text)
            context = Context(
                project=project.name if project is not None else None,
                now=now,
                time_precision=time_precision,
                me=(caller["uniqueName"], caller["displayName"]),
                path_exists=self._path_exists,
            )
            plan = compile_query(query, self._registry, context)
        except WiqlError as exc:
            raise _bad_request(exc.message, exc.type_key) from None
        with self._lock:
            low = bisect.bisect_left(self._ids, plan.id_low) if plan.id_low is not None else 0
            high = (
                bisect.bisect_right(self._ids, plan.id_high)
                if plan.id_high is not None
                else len(self._ids)
            )
            items, wanted, predicate = self._items, plan.projects, plan.predicate
            rows: list[Mapping[str, Any]] = [
                item.fields
                for item_id in self._ids[low:high]
                if (item := items[item_id])
                and (wanted is None or item.project.name.casefold() in wanted)
                and predicate(item.fields)
            ]
        limit = MAX_WIQL_RESULTS if top is None else min(top, MAX_WIQL_RESULTS)
        if len(rows) > limit and (top is None or top > MAX_WIQL_RESULTS):
            raise _bad_request(
                f"VS402337: The number of work items returned exceeds the size limit of "
                f"{MAX_WIQL_RESULTS}. Change the query to return fewer items.",
                "WorkItemTrackingQueryResultSizeLimitExceededException",
            )
        if plan.order_by:
            rows = plan.sort(rows)
        rows = rows[:limit]
        fields_url = f"{self._app_url}/_apis/wit/fields/"
        columns = [
            {"referenceName": f.ref, "name": f.name, "url": fields_url + f.ref} for f in plan.select
        ]
        head: dict[str, Any] = {
            "queryType": "flat",
            "queryResultType": "workItem",
            "asOf": _iso(now),
            "columns": columns,
        }
        if plan.order_by:
            head["sortColumns"] = [
                {
                    "field": {"referenceName": f.ref, "name": f.name, "url": fields_url + f.ref},
                    "descending": d,
                }
                for f, d in plan.order_by
            ]
        prefix = json.dumps(head, separators=(",", ":"))[:-1].encode()
        item_base = f"{self._app_url}/_apis/wit/workItems/"
        refs = ",".join(
            f'{{"id":{f["System.Id"]},"url":"{item_base}{f["System.Id"]}"}}' for f in rows
        )
        return Response(
            200, prefix + b',"workItems":[' + refs.encode() + b"]}", {"Content-Type": _JSON}
        )

    def _path_exists(self, field_ref: str, path: str) -> bool:
        paths = "area_paths" if field_ref == "System.AreaPath" else "iteration_paths"
        folded = path.casefold()
        return any(folded in getattr(p, paths) for p in self._projects.values())

    # -- reading work items ----------------------------------------------------------------

    def _batch(self, request: Request) -> Response:
        body = request.json()
        if not isinstance(body, dict):
            raise _AdoError(
                400,
                "Value cannot be null.\r\nParameter name: workItemGetRequest",
                "ArgumentNullException",
                namespace="System",
            )
        ids = body.get("ids")
        if (
            not isinstance(ids, list)
            or not ids
            or not all(isinstance(i, int) and not isinstance(i, bool) for i in ids)
        ):
            raise _bad_request(
                "VS403490: The ids parameter is required: a list of work item ids.",
                "ArgumentException",
            )
        fields = body.get("fields")
        if fields is not None and (
            not isinstance(fields, list) or not all(isinstance(f, str) for f in fields)
        ):
            raise _bad_request("The fields parameter must be a list of field reference names.")
        expand = body.get("$expand")
        _check_as_of(body.get("asOf"))
        policy = str(body.get("errorPolicy") or "fail")
        return self._items_response(ids, fields, expand, policy)

    def _list(self, request: Request) -> Response:
        raw_ids = request.arg("ids")
        if not raw_ids:
            raise _AdoError(
                400,
                "Value cannot be null.\r\nParameter name: ids",
                "ArgumentNullException",
                namespace="System",
            )
        try:
            ids = [int(part) for part in raw_ids.split(",") if part.strip()]
        except ValueError:
            raise _bad_request(
                f"The ids parameter {raw_ids!r} is not a list of work item ids.",
                "ArgumentException",
            ) from None
        raw_fields = request.arg("fields")
        fields = [f for f in raw_fields.split(",") if f.strip()] if raw_fields else None
        _check_as_of(request.arg("asOf"))
        return self._items_response(
            ids, fields, request.arg("$expand"), request.arg("errorPolicy") or "fail"
        )

    def _items_response(
        self, ids: list[int], fields: list[str] | None, expand: Any, policy: str
    ) -> Response:
        if len(ids) > MAX_BATCH_SIZE:
            raise _bad_request(
                f"VS403474: You requested {len(ids)} work items which exceeds the limit of "
                f"{MAX_BATCH_SIZE}",
                "WorkItemTrackingBatchLimitExceededException",
            )
        relations, links = _expand(expand)
        if fields and (relations or links or str(expand).casefold() == "fields"):
            raise _bad_request(
                "The expand parameter can not be used with the fields parameter.",
                "ConflictingParametersException",
            )
        if policy.casefold() not in ("fail", "omit"):
            raise _bad_request(
                f"The errorPolicy {policy!r} is not valid (Fail or Omit).", "ArgumentException"
            )
        omit = policy.casefold() == "omit"
        refs = [self._field_ref(f) for f in fields] if fields else None
        parts: list[bytes] = []
        with self._lock:
            for item_id in ids:
                item = self._items.get(item_id)
                if item is None:
                    if not omit:
                        raise _not_found_item(item_id)
                    parts.append(b"null")
                elif refs is not None:
                    parts.append(self._render_fields(item, refs))
                else:
                    parts.append(self._render(item, relations=relations, links=links))
        body = b'{"count":%d,"value":[' % len(parts) + b",".join(parts) + b"]}"
        return Response(200, body, {"Content-Type": _JSON})

    def _get_one(self, request: Request, item_id: int) -> Response:
        relations, _links = _expand(request.arg("$expand"))
        raw_fields = request.arg("fields")
        _check_as_of(request.arg("asOf"))
        with self._lock:
            item = self._item(item_id)
            if raw_fields:
                if request.arg("$expand"):
                    raise _bad_request(
                        "The expand parameter can not be used with the fields parameter.",
                        "ConflictingParametersException",
                    )
                refs = [self._field_ref(f) for f in raw_fields.split(",") if f.strip()]
                body = self._render_fields(item, refs)
            else:
                # A single work item always carries its _links, as the service sends them.
                body = self._render(item, relations=relations, links=True)
        return Response(200, body, {"Content-Type": _JSON})

    def _field_ref(self, name: str) -> str:
        found = self._registry.resolve(name)
        if found is None:
            raise _bad_request(
                f"TF51535: Cannot find field {name.strip()}.", "FieldNotFoundException"
            )
        return found.ref

    def _payload(self, item: _Item, *, relations: bool, links: bool) -> dict[str, Any]:
        payload: dict[str, Any] = {"id": item.id, "rev": item.rev, "fields": item.fields}
        if relations and item.relations:
            payload["relations"] = [
                {
                    "rel": r.rel,
                    "url": self._item_url(r.target) if r.target is not None else r.url,
                    "attributes": r.attributes,
                }
                for r in item.relations
            ]
        url = self._item_url(item.id)
        if links:
            project = item.project
            payload["_links"] = {
                "self": {"href": url},
                "workItemUpdates": {"href": url + "/updates"},
                "workItemRevisions": {"href": url + "/revisions"},
                "workItemComments": {"href": url + "/comments"},
                "html": {
                    "href": f"{self._app_url}/{quote(project.name)}/_workitems/edit/{item.id}"
                },
                "workItemType": {
                    "href": f"{self._app_url}/{project.id}/_apis/wit/workItemTypes/"
                    f"{quote(item.fields['System.WorkItemType'])}"
                },
                "fields": {"href": f"{self._app_url}/{project.id}/_apis/wit/fields"},
            }
        payload["url"] = url
        return payload

    def _render(self, item: _Item, *, relations: bool, links: bool) -> bytes:
        key = (relations, links)
        cached = item.rendered.get(key)
        if cached is None:
            payload = self._payload(item, relations=relations, links=links)
            cached = json.dumps(payload, separators=(",", ":")).encode()
            item.rendered[key] = cached
        return cached

    def _render_fields(self, item: _Item, refs: list[str]) -> bytes:
        fields = {ref: item.fields[ref] for ref in refs if ref in item.fields}
        payload = {"id": item.id, "rev": item.rev, "fields": fields, "url": self._item_url(item.id)}
        return json.dumps(payload, separators=(",", ":")).encode()

    # -- writing work items ----------------------------------------------------------------

    def _patch(self, request: Request, item_id: int) -> Response:
        content_type = request.headers.get("content-type", "")
        if not content_type.casefold().startswith("application/json-patch+json"):
            raise _AdoError(
                415,
                f'The request indicated a Content-Type of "{content_type.split(";")[0]}" for '
                'method type "PATCH" which is not supported. Valid content types for this '
                "method are: application/json-patch+json.",
                "VssRequestContentTypeNotSupportedException",
                namespace=_VSS,
            )
        operations = request.json()
        if not isinstance(operations, list) or not operations:
            raise _bad_request(
                "You must pass a valid patch document in the body of the request.",
                "VssPropertyValidationException",
            )
        bypass = (request.arg("bypassRules") or "").casefold() == "true"
        validate_only = (request.arg("validateOnly") or "").casefold() == "true"
        caller = self._caller(request)
        with self._lock:
            item = self._item(item_id)
            self._check_writable(item)
            fields = dict(item.fields)
            relations = list(item.relations)
            history: str | None = None
            for index, operation in enumerate(operations):
                history = (
                    self._apply(item, fields, relations, operation, index, bypass=bypass) or history
                )
            self._check_fields(item, fields)
            if validate_only:
                preview = _Item(item.id, item.rev, fields, relations, item.project)
                return Response(
                    200, self._render(preview, relations=True, links=True), {"Content-Type": _JSON}
                )
            if fields == item.fields and relations == item.relations and history is None:
                return Response(
                    200, self._render(item, relations=True, links=True), {"Content-Type": _JSON}
                )
            self._commit(item, fields, relations, caller, bypass=bypass, history=history)
            return Response(
                200, self._render(item, relations=True, links=True), {"Content-Type": _JSON}
            )

    def _check_writable(self, item: _Item) -> None:
        if item.project.is_forbidden(item.fields.get("System.AreaPath")):
            raise _AdoError(
                403,
                "TF237111: The current user does not have permissions to save work items under "
                "the specified area path. The error is caused by "
                f"«{item.fields['System.AreaPath']}».",
                "WorkItemUnauthorizedAccessException",
            )

    def _apply(
        self,
        item: _Item,
        fields: dict[str, Any],
        relations: list[_Relation],
        operation: Any,
        index: int,
        *,
        bypass: bool,
    ) -> str | None:
        """Apply one JSON Patch operation to the copies; return a History text if it adds one."""
        if not isinstance(operation, dict):
            raise _bad_request(f"Operation [{index}] of the patch document is not an object.")
        op = str(operation.get("op", "")).casefold()
        path = operation.get("path")
        value = operation.get("value")
        if op not in ("add", "replace", "remove", "test") or not isinstance(path, str):
            raise _bad_request(
                f"Operation [{index}]: the linesight sandbox supports the JSON Patch operations "
                f"add, replace, remove and test with a string 'path'; got op {op!r}.",
                "VssPropertyValidationException",
            )
        if op == "test":
            self._test(item, fields, path, value)
            return None
        if path.casefold().startswith("/fields/"):
            return self._apply_field(fields, op, path[len("/fields/") :], value, bypass=bypass)
        if path.casefold().startswith("/relations/"):
            self._apply_relation(item, relations, op, path[len("/relations/") :], value)
            return None
        raise _bad_request(
            f"Operation [{index}]: invalid path {path!r} (expected /fields/<reference name>, "
            "/relations/- or /relations/<index>).",
            "InvalidPatchPathException",
        )

    def _test(self, item: _Item, fields: dict[str, Any], path: str, value: Any) -> None:
        if path.casefold() == "/rev":
            if value != item.rev:
                raise _AdoError(
                    412,
                    "TF26071: This work item has been changed by someone else since you opened "
                    "it. You will need to refresh it and discard your changes.",
                    "WorkItemRevisionMismatchException",
                )
            return
        if path.casefold() == "/id":
            if value != item.id:
                raise _bad_request(
                    f"The test operation on /id failed: the id is {item.id}.",
                    "TestOperationFailedException",
                )
            return
        if path.casefold().startswith("/fields/"):
            ref = self._field_ref(path[len("/fields/") :])
            if fields.get(ref) != value:
                raise _bad_request(
                    f"The test operation on {path} failed: the current value differs.",
                    "TestOperationFailedException",
                )
            return
        raise _bad_request(
            f"The sandbox cannot test the path {path!r}.", "InvalidPatchPathException"
        )

    def _apply_field(
        self, fields: dict[str, Any], op: str, name: str, value: Any, *, bypass: bool
    ) -> str | None:
        ref = self._field_ref(name)
        folded = ref.casefold()
        if folded in _READ_ONLY or (folded in _BYPASS_ONLY and not bypass):
            raise _bad_request(
                f"TF401326: Invalid field status 'ReadOnly' for field '{ref}'.",
                "WorkItemFieldInvalidException",
            )
        if ref == "System.History":
            if op == "remove" or not isinstance(value, str) or not value:
                raise _bad_request("System.History can only be added to, with a text value.")
            return value
        if op == "remove" or value is None or value == "":
            fields.pop(ref, None)
            return None
        if ref == "System.Tags":
            if not isinstance(value, str):
                raise _bad_request("System.Tags takes a '; '-separated string of tags.")
            # "add" appends to the list (ignoring case, like the service); "replace" sets it.
            tags = (_split_tags(fields.get(ref)) if op == "add" else []) + _split_tags(value)
            merged = "; ".join(_split_tags("; ".join(tags)))
            if merged:
                fields[ref] = merged
            else:
                fields.pop(ref, None)
            return None
        kind = self._registry.resolve(ref)
        if kind is not None and kind.kind in ("integer", "double"):
            if isinstance(value, str):
                try:
                    value = float(value) if kind.kind == "double" else int(value)
                except ValueError:
                    raise _bad_request(
                        f"TF401320: Rule Error for field {kind.name}. Error code: InvalidType. "
                        f"The value {value!r} is not a number."
                    ) from None
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise _bad_request(f"The value of {ref} must be a number.")
        elif kind is not None and kind.kind == "identity" and isinstance(value, str):
            match = re.match(r"^(.*?)\s*<([^>]+)>$", value)
            value = self._identity(match.group(2) if match else value)
            if match:
                value["displayName"] = match.group(1)
        fields[ref] = value
        return None

    def _apply_relation(
        self, item: _Item, relations: list[_Relation], op: str, where: str, value: Any
    ) -> None:
        if where == "-":
            if op != "add":
                raise _bad_request(
                    "/relations/- can only be used with 'add'.", "InvalidPatchPathException"
                )
            relations.append(self._relation(item, relations, value))
            return
        if not where.isdigit() or int(where) >= len(relations):
            raise _bad_request(
                f"The relation index {where!r} does not exist on work item {item.id} "
                f"(it has {len(relations)} relations).",
                "InvalidPatchPathException",
            )
        index = int(where)
        if op == "remove":
            relations.pop(index)
            return
        others = relations[:index] + relations[index + 1 :]
        replacement = self._relation(item, others, value)
        if op == "add":
            relations.insert(index, replacement)
        else:
            relations[index] = replacement

    def _relation(self, item: _Item, relations: list[_Relation], value: Any) -> _Relation:
        """A validated new relation of ``item`` (whose other relations are ``relations``)."""
        if not isinstance(value, dict) or not isinstance(value.get("rel"), str):
            raise _bad_request("A relation value needs a string 'rel' and 'url'.")
        url = value.get("url")
        if not isinstance(url, str):
            raise _bad_request("A relation value needs a string 'rel' and 'url'.")
        attributes = value.get("attributes") or {}
        if not isinstance(attributes, dict):
            raise _bad_request("A relation's 'attributes' must be an object.")
        link_type = _LINK_TYPES.get(value["rel"].casefold())
        if link_type is None or link_type["attributes"]["usage"] != "workItemLink":
            return _Relation(value["rel"], None, url, dict(attributes))
        match = _WORK_ITEM_LINK.search(url)
        target = int(match.group(1)) if match else None
        if target is None or target not in self._items:
            raise _bad_request(
                f"TF201063: The link target {url!r} is not a work item of this organization.",
                "WorkItemLinkInvalidException",
            )
        rel = link_type["referenceName"]
        if target == item.id:
            raise _bad_request(
                f"TF201036: Work item {item.id} cannot be linked to itself.",
                "WorkItemLinkInvalidException",
            )
        if any(r.rel == rel and r.target == target for r in relations):
            raise _bad_request(
                f"TF201035: The link {rel} from work item {item.id} to {target} already exists.",
                "WorkItemLinkAlreadyExistsException",
            )
        if rel == _PARENT and any(r.rel == _PARENT for r in relations):
            raise _bad_request(
                f"TF201036: You cannot add a Parent link to work item {item.id} because a work "
                "item can have only one Parent link.",
                "WorkItemLinkInvalidException",
            )
        name = link_type["name"]
        return _Relation(rel, target, None, {"isLocked": False, "name": name, **attributes})

    def _check_fields(self, item: _Item, fields: dict[str, Any]) -> None:
        project = item.project
        kind = project.type(str(fields.get("System.WorkItemType", "")))
        if kind is None:
            raise _bad_request(
                f"TF401320: Rule Error for field Work Item Type. Error code: LimitedToValues. "
                f"{fields.get('System.WorkItemType')!r} is not a type of the {project.process} "
                "process."
            )
        state = fields.get("System.State")
        if not isinstance(state, str) or kind.state(state) is None:
            raise _bad_request(
                "TF401320: Rule Error for field State. Error code: Required, HasValues, "
                f"LimitedToValues, AllowsOldValue, InvalidEmpty. {state!r} is not a state of "
                f"{kind.name} (states: {', '.join(s.name for s in kind.states)})."
            )
        fields["System.State"] = kind.state(state).name  # type: ignore[union-attr]
        if not isinstance(fields.get("System.Title"), str) or not fields["System.Title"].strip():
            raise _bad_request("TF401320: Rule Error for field Title. Error code: Required.")
        for ref, paths, noun in (
            ("System.AreaPath", project.area_paths, "area"),
            ("System.IterationPath", project.iteration_paths, "iteration"),
        ):
            path = fields.get(ref)
            if not isinstance(path, str) or path.strip("\\").casefold() not in paths:
                raise _bad_request(
                    f"TF401347: Invalid tree name given for work item {item.id}, field "
                    f"'{ref}'. The {noun} path {path!r} does not exist in project {project.name}.",
                    "WorkItemFieldInvalidTreeNameException",
                )
        if project.is_forbidden(fields.get("System.AreaPath")):
            self._check_writable(_Item(item.id, item.rev, fields, [], project))

    def _commit(
        self,
        item: _Item,
        fields: dict[str, Any],
        relations: list[_Relation],
        caller: dict[str, Any],
        *,
        bypass: bool,
        history: str | None,
    ) -> None:
        before = item.fields
        moment = self._now(before.get("System.ChangedDate"))
        stamp = _iso(moment)
        if not (bypass and fields.get("System.ChangedDate") != before.get("System.ChangedDate")):
            fields["System.ChangedDate"] = stamp
        if not (
            bypass
            and "System.ChangedBy" in fields
            and fields["System.ChangedBy"] != before.get("System.ChangedBy")
        ):
            fields["System.ChangedBy"] = caller
        fields["System.AuthorizedDate"] = stamp
        if fields.get("System.State") != before.get("System.State"):
            self._state_changed(item, fields, stamp)
        if history is not None:
            fields["System.History"] = history
            item.comments.append(self._new_comment(history, "html", caller, stamp))
            fields["System.CommentCount"] = sum(not c.deleted for c in item.comments)
        else:
            fields.pop("System.History", None)
        old_links = {(r.rel, r.target) for r in item.relations if r.target is not None}
        new_links = {(r.rel, r.target) for r in relations if r.target is not None}
        parent = next((r.target for r in relations if r.rel == _PARENT), None)
        if parent is None:
            fields.pop("System.Parent", None)
        else:
            fields["System.Parent"] = parent
        item.rev += 1
        fields["System.Rev"] = item.rev
        item.fields = fields
        item.relations = relations
        item.changed()
        # The other end of every added or removed link changes too (a new revision there).
        touched: dict[int, _Item] = {}
        for relation in relations:
            if (relation.rel, relation.target) not in old_links:
                target = self._ensure_opposite(item, relation)
                if target is not None:
                    touched[target.id] = target
        for rel, target_id in old_links - new_links:
            target = self._items.get(target_id) if target_id is not None else None
            opposite = _LINK_TYPES[rel.casefold()]["attributes"].get("oppositeEndReferenceName")
            if target is None or opposite is None:
                continue
            target.relations = [
                r for r in target.relations if not (r.rel == opposite and r.target == item.id)
            ]
            if opposite == _PARENT:
                target.fields = {k: v for k, v in target.fields.items() if k != "System.Parent"}
            touched[target.id] = target
        for target in touched.values():
            self._bump(target, caller)

    def _bump(
        self, item: _Item, caller: dict[str, Any], extra: Mapping[str, Any] | None = None
    ) -> None:
        """A new revision of ``item`` made by a change elsewhere (a link, a comment)."""
        stamp = _iso(self._now(item.fields.get("System.ChangedDate")))
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
        item.changed()

    def _state_changed(self, item: _Item, fields: dict[str, Any], stamp: str) -> None:
        kind = item.project.type(fields["System.WorkItemType"])
        state = kind.state(fields["System.State"]) if kind is not None else None
        if state is None:
            return
        fields["Microsoft.VSTS.Common.StateChangeDate"] = stamp
        if fields.get("System.Reason") == item.fields.get("System.Reason"):
            fields["System.Reason"] = f"Moved to state {state.name}"
        # The process rules that stamp (and clear) the activation / resolution / closing dates.
        dates = {
            "InProgress": "Microsoft.VSTS.Common.ActivatedDate",
            "Resolved": "Microsoft.VSTS.Common.ResolvedDate",
            "Completed": "Microsoft.VSTS.Common.ClosedDate",
        }
        order = ["Proposed", "InProgress", "Resolved", "Completed"]
        if state.category in order:
            reached = order.index(state.category)
            for category, ref in dates.items():
                if order.index(category) > reached:
                    fields.pop(ref, None)
            if state.category in dates and state.category != "Proposed":
                fields.setdefault(dates[state.category], stamp)
                if state.category != "InProgress":
                    fields.setdefault(dates["InProgress"], stamp)

    def _delete(self, request: Request, item_id: int) -> Response:
        caller = self._caller(request)
        destroy = (request.arg("destroy") or "").casefold() == "true"
        with self._lock:
            item = self._item(item_id)
            self._check_writable(item)
            del self._items[item_id]
            self._ids.pop(bisect.bisect_left(self._ids, item_id))
            # Links to a deleted work item disappear from the other ends.
            for relation in item.relations:
                target = self._items.get(relation.target) if relation.target is not None else None
                if target is None:
                    continue
                target.relations = [r for r in target.relations if r.target != item_id]
                if target.fields.get("System.Parent") == item_id:
                    target.fields = {k: v for k, v in target.fields.items() if k != "System.Parent"}
                self._bump(target, caller)
        if destroy:
            return Response(204)
        return _ok(
            {
                "id": item_id,
                "code": 200,
                "deletedBy": f"{caller['displayName']} <{caller['uniqueName']}>",
                "deletedDate": _iso(self._now()),
                "name": item.fields.get("System.Title"),
                "project": item.project.name,
                "type": item.fields.get("System.WorkItemType"),
                "url": f"{self._app_url}/{item.project.id}/_apis/wit/recyclebin/{item_id}",
            }
        )

    # -- comments --------------------------------------------------------------------------

    def _new_comment(
        self, text: str, comment_format: str, caller: dict[str, Any], stamp: str
    ) -> _Comment:
        comment = _Comment(
            self._next_comment_id, text, comment_format, caller, stamp, caller, stamp
        )
        self._next_comment_id += 1
        return comment

    def _comment_json(self, item: _Item, comment: _Comment, rendered: bool) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "workItemId": item.id,
            "id": comment.id,
            "version": comment.version,
            "text": comment.text,
            "createdBy": comment.created_by,
            "createdDate": comment.created_date,
            "modifiedBy": comment.modified_by,
            "modifiedDate": comment.modified_date,
            "format": comment.format,
            "mentions": [],
        }
        if rendered:
            payload["renderedText"] = (
                _markdown_html(comment.text) if comment.format == "markdown" else comment.text
            )
        if comment.deleted:
            payload["isDeleted"] = True
        payload["url"] = f"{self._item_url(item.id)}/comments/{comment.id}"
        return payload

    def _list_comments(self, request: Request, item_id: int) -> Response:
        top = _int_arg(request, "$top")
        top = MAX_COMMENT_PAGE if top is None else max(1, min(top, MAX_COMMENT_PAGE))
        token = request.arg("continuationToken")
        include_deleted = (request.arg("includeDeleted") or "").casefold() == "true"
        expand = (request.arg("$expand") or "none").casefold()
        order = (request.arg("order") or "desc").casefold()
        rendered = expand in ("renderedtext", "renderedtextonly", "all")
        offset = 0
        if token:
            try:
                offset = int(token, 16)
            except ValueError:
                raise _bad_request(
                    f"The continuation token {token!r} is not valid.", "ArgumentException"
                ) from None
        with self._lock:
            item = self._item(item_id)
            comments = [c for c in item.comments if include_deleted or not c.deleted]
            if order == "desc":
                comments.reverse()
            page = comments[offset : offset + top]
            payload: dict[str, Any] = {
                "totalCount": len(comments),
                "count": len(page),
                "comments": [self._comment_json(item, c, rendered) for c in page],
            }
        base = f"{self._item_url(item_id)}/comments"
        if offset + top < len(comments):
            next_token = format(offset + top, "x")
            payload["continuationToken"] = next_token
            payload["nextPage"] = f"{base}?$top={top}&continuationToken={next_token}"
        payload["url"] = base
        return _ok(payload)

    def _add_comment(self, request: Request, item_id: int) -> Response:
        text = _comment_text(request)
        comment_format = _comment_format(request) or "html"
        caller = self._caller(request)
        with self._lock:
            item = self._item(item_id)
            self._check_writable(item)
            stamp = _iso(self._now(item.fields.get("System.ChangedDate")))
            comment = self._new_comment(text, comment_format, caller, stamp)
            item.comments.append(comment)
            # A comment is a new revision of the work item (History + CommentCount change).
            fields = dict(item.fields)
            item.rev += 1
            fields.update(
                {
                    "System.Rev": item.rev,
                    "System.ChangedDate": stamp,
                    "System.AuthorizedDate": stamp,
                    "System.ChangedBy": caller,
                    "System.History": text,
                    "System.CommentCount": sum(not c.deleted for c in item.comments),
                }
            )
            item.fields = fields
            item.changed()
            return _ok(self._comment_json(item, comment, True))

    def _one_comment(self, request: Request, item_id: int, comment_id: int) -> Response:
        include_deleted = (request.arg("includeDeleted") or "").casefold() == "true"
        caller = self._caller(request)
        with self._lock:
            item = self._item(item_id)
            comment = next((c for c in item.comments if c.id == comment_id), None)
            if comment is None or (comment.deleted and not include_deleted):
                raise _AdoError(
                    404,
                    f"VS402618: Comment {comment_id} does not exist on work item {item_id}.",
                    "CommentNotFoundException",
                )
            if request.method == "GET":
                expand = (request.arg("$expand") or "none").casefold()
                rendered = expand in ("renderedtext", "renderedtextonly", "all")
                return _ok(self._comment_json(item, comment, rendered))
            self._check_writable(item)
            stamp = _iso(self._now(comment.modified_date))
            if request.method == "PATCH":
                comment.text = _comment_text(request)
                comment.format = _comment_format(request) or comment.format
                comment.version += 1
                comment.modified_by, comment.modified_date = caller, stamp
                return _ok(self._comment_json(item, comment, True))
            comment.deleted = True
            comment.modified_by, comment.modified_date = caller, stamp
            self._bump(
                item, caller, {"System.CommentCount": sum(not c.deleted for c in item.comments)}
            )
            return Response(200, b"", {"Content-Type": _JSON})


class _PlainAdoError(_AdoError):
    """An error answered as text/plain (what Azure DevOps does for a refused credential)."""

    def __init__(self, status: int, message: str, headers: Mapping[str, str]) -> None:
        super().__init__(status, message, "UnauthorizedRequestException", headers=headers)

    def response(self) -> Response:
        return Response(
            self.status,
            self.message.encode(),
            {"Content-Type": "text/plain; charset=utf-8", **self.headers},
        )


# -- helpers ---------------------------------------------------------------------------------


def _ok(payload: Any) -> Response:
    return Response(
        200, json.dumps(payload, separators=(",", ":")).encode(), {"Content-Type": _JSON}
    )


def _no_route(request: Request) -> _AdoError:
    return _AdoError(
        404,
        f"The controller for path '{request.mount}{request.path}' was not found or does not "
        "implement IController.",
        "HttpException",
        namespace="System.Web",
    )


def _allow(request: Request, *methods: str) -> None:
    if request.method not in methods:
        raise _AdoError(
            405,
            f"The requested resource does not support http method '{request.method}'.",
            "HttpResponseException",
            namespace="System.Web.Http",
            headers={"Allow": ", ".join(methods)},
        )


def _check_version(request: Request, *, preview_only: bool) -> None:
    version = request.arg("api-version")
    if version is None:
        match = re.search(r"api-version\s*=\s*([^;,\s]+)", request.headers.get("accept", ""))
        version = match.group(1) if match else None
    if version is None:
        if request.method in _WRITE_METHODS:
            raise _AdoError(
                400,
                f'No api-version was supplied for the "{request.method}" request. The version '
                'must be supplied either as part of the Accept header (e.g. "application/json; '
                'api-version=1.0") or as a query parameter (e.g. "?api-version=1.0").',
                "VssVersionNotSpecifiedException",
                namespace=_VSS,
            )
        return
    parsed = _VERSION.match(version)
    if parsed is None:
        raise _AdoError(
            400,
            f"The api-version '{version}' is not valid.",
            "VssInvalidApiVersionException",
            namespace=_VSS,
        )
    requested = (int(parsed.group(1)), int(parsed.group(2)))
    if requested > _LATEST:
        raise _AdoError(
            400,
            f"The requested REST API version of {requested[0]}.{requested[1]} is out of range "
            f"for this server. The latest REST API version this server supports is "
            f"{_LATEST[0]}.{_LATEST[1]}.",
            "VssVersionOutOfRangeException",
            namespace=_VSS,
        )
    if preview_only and parsed.group(3) is None:
        raise _AdoError(
            400,
            f'The requested version "{version}" of the resource is under preview. The -preview '
            "flag must be supplied in the api-version for such requests. For example: "
            f'"{version}-preview"',
            "VssInvalidPreviewVersionException",
            namespace=_VSS,
        )


def _int_arg(request: Request, name: str) -> int | None:
    raw = request.arg(name)
    if raw is None or raw == "":
        return None
    try:
        value = int(raw)
    except ValueError:
        raise _bad_request(
            f"The {name} parameter must be a whole number, got {raw!r}.", "ArgumentException"
        ) from None
    if value < 0:
        raise _bad_request(f"The {name} parameter must not be negative.", "ArgumentException")
    return value


def _expand(value: Any) -> tuple[bool, bool]:
    """``(relations, links)`` for a ``$expand`` value (case-insensitive)."""
    folded = str(value).casefold() if value is not None else "none"
    if folded not in ("none", "relations", "fields", "links", "all"):
        raise _bad_request(
            f"The $expand value {value!r} is not valid (None, Relations, Fields, Links or All).",
            "ArgumentException",
        )
    return folded in ("relations", "all"), folded in ("links", "all")


def _check_as_of(value: Any) -> None:
    # The sandbox keeps no history: asOf is accepted (clients send the WIQL's asOf back) and
    # answered with the current revision.
    if value is not None and parse_datetime(value) is None:
        raise _bad_request(
            f"The asOf value {value!r} is not a valid date-time.", "ArgumentException"
        )


def _comment_text(request: Request) -> str:
    body = request.json()
    text = body.get("text") if isinstance(body, dict) else None
    if not isinstance(text, str) or not text.strip():
        raise _bad_request("VS402625: The comment text cannot be empty.", "ArgumentException")
    return text


def _comment_format(request: Request) -> str | None:
    raw = request.arg("format")
    if raw is None:
        return None
    folded = raw.casefold()
    if folded not in ("markdown", "html"):
        raise _bad_request(
            f"The comment format {raw!r} is not valid (markdown or html).", "ArgumentException"
        )
    return folded


def _markdown_html(text: str) -> str:
    """A small, safe rendering of Markdown text as the HTML ``renderedText`` holds."""
    paragraphs = [p for p in re.split(r"\n\s*\n", text.strip()) if p.strip()]
    rendered = []
    for paragraph in paragraphs:
        escaped = html.escape(paragraph)
        escaped = re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", escaped)
        escaped = re.sub(r"`(.+?)`", r"<code>\1</code>", escaped)
        rendered.append("<p>" + escaped.replace("\n", "<br>") + "</p>")
    return "".join(rendered)
