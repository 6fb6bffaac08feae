"""A Jira site for the sandbox: Cloud (REST v2 + v3) or Data Center (REST v2), from native issues.

What it serves, relative to its mount (``/jira/{name}``), under ``/rest/api/{2|3}/``::

    serverInfo, myself, field, issueLinkType                       GET
    search/jql (Cloud; GET/POST, nextPageToken, bounded JQL)        search/approximate-count (Cloud)
    search (Data Center: startAt/maxResults/total; Cloud: 410 Gone, as the real one since 2025)
    issue/bulkfetch (Cloud, POST, <= 100)                           issue/{idOrKey} GET/PUT/DELETE
    issue/{idOrKey}/comment GET/POST     issue/{idOrKey}/comment/{id} GET/PUT/DELETE
    issueLink POST

Issues are kept exactly as the dataset holds them (copy-on-write per issue, so ``reset`` is cheap
and the dataset is never changed) and served filtered by ``fields``. On Cloud, rich text
(descriptions, comment bodies) is stored as Atlassian Document Format and shown as plain text
on REST v2; on Data Center it is stored as wiki text.

Auth: HTTP Basic ``user:token`` (the configured user) everywhere; Bearer PAT on Data Center.
Projects named in ``forbidden_projects`` answer 403 to every write.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from linesight.sandbox.jql import CompiledQuery, IndexedIssue, JqlError, JqlSchema, compile_jql
from linesight.sandbox.wire import Request, Response, bearer_or_basic_token, json_response

__all__ = ["JiraApp", "adf_to_text", "text_to_adf"]

_CLOUD_PAGE_CAP = 100
_CLOUD_ID_PAGE_CAP = 5000
_DC_PAGE_CAP = 1000
_DC_RESULT_WINDOW = 10_000
_BULK_CAP = 100
_COMMENT_LIMIT = 32_767
_ID_ONLY_FIELDS = frozenset({"id", "key", "issuekey"})
_NON_NAVIGABLE = frozenset({"comment", "worklog"})
_RICH_TEXT_FIELDS = ("description", "environment")
_READ_ONLY_FIELDS = frozenset(
    {
        "created",
        "updated",
        "status",
        "project",
        "statuscategorychangedate",
        "resolutiondate",
        "issuelinks",
        "comment",
        "creator",
        "statusCategory",
        "issuekey",
        "key",
        "id",
        "issuetype",
        "parent",
    }
)
_ISSUE_EXPAND = "renderedFields,names,schema,operations,editmeta,changelog,versionedRepresentations"
_DEFAULT_ISSUETYPES = ("Epic", "Story", "Task", "Sub-task", "Subtask", "Bug")
_DEFAULT_STATUSES = ("To Do", "In Progress", "Done", "Open", "Closed")
_DEFAULT_LINK_TYPES = (
    {"id": "10000", "name": "Blocks", "inward": "is blocked by", "outward": "blocks"},
    {"id": "10001", "name": "Cloners", "inward": "is cloned by", "outward": "clones"},
    {"id": "10002", "name": "Duplicate", "inward": "is duplicated by", "outward": "duplicates"},
    {"id": "10003", "name": "Relates", "inward": "relates to", "outward": "relates to"},
)
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


def jira_now() -> str:
    """Now, as Jira writes timestamps: ``2026-11-23T09:15:02.123+0000``."""
    now = datetime.now(UTC)
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}+0000"


def text_to_adf(text: str) -> dict[str, Any]:
    """Plain text as an ADF document: one paragraph per line (what Cloud does for a v2 write)."""
    paragraphs: list[dict[str, Any]] = []
    for line in text.split("\n"):
        paragraph: dict[str, Any] = {"type": "paragraph", "content": []}
        if line:
            paragraph["content"].append({"type": "text", "text": line})
        paragraphs.append(paragraph)
    return {"type": "doc", "version": 1, "content": paragraphs}


def adf_to_text(document: Any) -> str:
    """An ADF document as plain text (what Cloud shows on REST v2); strings pass through."""
    if not isinstance(document, dict):
        return "" if document is None else str(document)
    blocks = document.get("content") or []
    if document.get("type") != "doc":
        blocks = [document]
    return "\n".join(_adf_inline(block) for block in blocks)


def _adf_inline(node: Any) -> str:
    if not isinstance(node, dict):
        return ""
    if node.get("type") == "text":
        return str(node.get("text", ""))
    if node.get("type") == "hardBreak":
        return "\n"
    children = node.get("content") or []
    separator = "\n" if node.get("type") in ("bulletList", "orderedList", "listItem") else ""
    return separator.join(_adf_inline(child) for child in children)


def _is_adf(value: Any) -> bool:
    return (
        isinstance(value, dict)
        and value.get("type") == "doc"
        and value.get("version") == 1
        and isinstance(value.get("content"), list)
    )


class _HttpError(Exception):
    """An error answer, raised from deep inside a handler."""

    def __init__(
        self, status: int, messages: Sequence[str] = (), errors: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(status, messages)
        self.status = status
        self.messages = list(messages)
        self.errors = dict(errors or {})


_NOT_FOUND_ISSUE = "Issue does not exist or you do not have permission to see it."
_UNBOUNDED = (
    "Unbounded JQL queries are not allowed here. Please add a search restriction to your query."
)
# Cloud removed the old search on 2025-05-01 (CHANGE-2046); this is the real 410 message.
_GONE = (
    "The requested API has been removed. Please migrate to the /rest/api/3/search/jql API. "
    "A full migration guideline is available at "
    "https://developer.atlassian.com/changelog/#CHANGE-2046"
)
_ADF_REQUIRED = "Operation value must be an Atlassian Document (see the Atlassian Document Format)."
_TOO_LONG = "The entered text is too long. It exceeds the allowed limit of 32,767 characters."


@dataclass(frozen=True, slots=True)
class _FieldSpec:
    """The ``fields`` parameter, parsed: which issue fields a response carries."""

    all_fields: bool
    navigable: bool
    include: frozenset[str]
    exclude: frozenset[str]

    @classmethod
    def parse(cls, raw: Iterable[str] | None, default: str) -> _FieldSpec:
        names = [n.strip() for part in (raw or [default]) for n in str(part).split(",")]
        names = [n for n in names if n] or [default]
        include = {n for n in names if not n.startswith("-")}
        exclude = frozenset(n[1:] for n in names if n.startswith("-"))
        all_fields = bool(include & {"*all", "all"})
        navigable = bool(include & {"*navigable", "navigable"})
        if not include and exclude:
            navigable = True  # "-description" alone means "navigable fields except description"
        include -= {"*all", "all", "*navigable", "navigable"}
        return cls(all_fields, navigable, frozenset(include), exclude)

    @property
    def id_only(self) -> bool:
        return not self.all_fields and not self.navigable and self.include <= _ID_ONLY_FIELDS

    def select(self, fields: Mapping[str, Any]) -> dict[str, Any]:
        if self.all_fields:
            chosen = dict(fields)
        elif self.navigable:
            chosen = {k: v for k, v in fields.items() if k not in _NON_NAVIGABLE}
        else:
            chosen = {}
        for name in self.include:
            if name in fields:
                chosen[name] = fields[name]
        for name in self.exclude:
            chosen.pop(name, None)
        return chosen


class JiraApp:
    """One Jira site (Cloud or Data Center) serving ``issues``; a :class:`TrackerApp`.

    ``fields`` are extra ``/field`` entries (custom fields, e.g. ``Epic Link``); custom fields
    that issues carry but ``fields`` does not describe get a generic entry. Thread-safe: one
    lock serialises requests (the work is CPU-bound under the GIL anyway; latency is slept in
    the server before the app is called).
    """

    def __init__(
        self,
        name: str,
        flavour: str,
        issues: Sequence[dict[str, Any]],
        *,
        fields: Sequence[dict[str, Any]] | None = None,
        forbidden_projects: Iterable[str] = (),
        token: str,
        user: str,
    ) -> None:
        if flavour not in ("cloud", "datacenter"):
            raise ValueError(f"flavour must be 'cloud' or 'datacenter', not {flavour!r}")
        self.name = name
        self.flavour = flavour
        self.mount = f"/jira/{name}"
        self._cloud = flavour == "cloud"
        self._token = token
        self._user = user
        self._account_id = hashlib.sha256(user.encode()).hexdigest()[:24]
        self._forbidden = frozenset(p.upper() for p in forbidden_projects)
        self._lock = threading.RLock()
        self._original: dict[str, dict[str, Any]] = {str(i["id"]): i for i in issues}
        self._extra_fields = [dict(f) for f in fields or ()]
        self._issues: dict[str, dict[str, Any]] = {}
        self._indexed: dict[str, IndexedIssue] = {}
        self._by_key: dict[str, str] = {}
        self._by_project: dict[str, list[str]] = {}
        self._dirty: set[str] = set()
        self._version = 0
        self._schema: JqlSchema | None = None
        self._results: OrderedDict[tuple[str, int], list[str]] = OrderedDict()
        self._rendered: OrderedDict[tuple[Any, ...], dict[str, bytes]] = OrderedDict()
        self._load_all()
        self._field_list = self._build_field_list()
        self._routes = self._build_routes()

    # -- TrackerApp ---------------------------------------------------------------------------

    def handle(self, request: Request) -> Response:
        """Answer one REST request (``request.path`` relative to the mount)."""
        with self._lock:
            try:
                return self._dispatch(request)
            except _HttpError as exc:
                return json_response(
                    exc.status, {"errorMessages": exc.messages, "errors": exc.errors}
                )

    def state(self) -> dict[str, Any]:
        """``{"issues": [...]}``: every current issue, native, in id order.

        Safe to read while requests go on: a write replaces an issue, it never changes one
        that has been handed out.
        """
        with self._lock:
            return {"issues": sorted(self._issues.values(), key=lambda i: int(i["id"]))}

    def reset(self) -> None:
        """Back to the dataset: undo every write and delete."""
        with self._lock:
            for issue_id in self._dirty:
                original = self._original[issue_id]
                self._issues[issue_id] = original
                self._indexed[issue_id] = IndexedIssue.from_issue(original)
            self._dirty = set()
            self._schema = None
            self._changed()

    # -- state ---------------------------------------------------------------------------------

    def _load_all(self) -> None:
        self._issues = dict(self._original)
        self._indexed = {i: IndexedIssue.from_issue(issue) for i, issue in self._issues.items()}
        self._by_key = {issue["key"].upper(): i for i, issue in self._issues.items()}
        self._by_project = {}
        for issue_id, indexed in self._indexed.items():
            self._by_project.setdefault(indexed.project_key, []).append(issue_id)
        self._dirty = set()
        self._schema = None
        self._comment_seq = 10000 + max(
            (
                int(c["id"]) - 10000
                for i in self._issues.values()
                for c in _comments(i)
                if str(c.get("id", "")).isdigit()
            ),
            default=0,
        )
        self._link_seq = 10000 + max(
            (
                int(link["id"]) - 10000
                for i in self._issues.values()
                for link in i["fields"].get("issuelinks") or ()
                if str(link.get("id", "")).isdigit()
            ),
            default=0,
        )

    def _changed(self, *issue_ids: str) -> None:
        self._version += 1
        self._results.clear()
        for cache in self._rendered.values():
            for issue_id in issue_ids:
                cache.pop(issue_id, None)
        if not issue_ids:
            self._rendered.clear()

    def _writable(self, issue_id: str) -> dict[str, Any]:
        """A fresh copy of the issue, put in its place, to mutate.

        Copy-on-write keeps the dataset pristine (so ``reset`` is cheap) and means an issue
        dict, once handed out by ``state()``, never changes under its reader.
        """
        issue = self._issues[issue_id] = copy.deepcopy(self._issues[issue_id])
        self._dirty.add(issue_id)
        return issue

    def _touch(self, issue_id: str) -> None:
        """After a write: bump ``updated``, re-index, drop cached renderings and results."""
        issue = self._issues[issue_id]
        issue["fields"]["updated"] = jira_now()
        self._indexed[issue_id] = IndexedIssue.from_issue(issue)
        self._changed(issue_id)

    def _find(self, id_or_key: str) -> str:
        if id_or_key in self._issues:
            return id_or_key
        issue_id = self._by_key.get(id_or_key.upper())
        if issue_id is None or issue_id not in self._issues:
            raise _HttpError(404, [_NOT_FOUND_ISSUE])
        return issue_id

    def _require_writable_project(self, issue_id: str, message: str) -> None:
        if self._indexed[issue_id].project_key in self._forbidden:
            raise _HttpError(403, [message])

    def _jql_schema(self) -> JqlSchema:
        if self._schema is None:
            projects: dict[str, str] = {}
            types = {t.lower() for t in _DEFAULT_ISSUETYPES}
            statuses = {s.lower() for s in _DEFAULT_STATUSES}
            keys: dict[str, str] = {}
            for issue_id, indexed in self._indexed.items():
                project = indexed.project_key
                projects[project.lower()] = project
                if indexed.project_id:
                    projects[indexed.project_id] = project
                if indexed.project_name:
                    projects.setdefault(indexed.project_name, project)
                types.update((indexed.issuetype, indexed.issuetype_id))
                statuses.update((indexed.status, indexed.status_id))
                keys[indexed.key.lower()] = indexed.key
                keys[issue_id] = indexed.key
            custom: dict[str, str] = {}
            epic_link = None
            for entry in self._field_list:
                if not entry.get("custom"):
                    continue
                custom[str(entry["name"]).lower()] = entry["id"]
                for clause in entry.get("clauseNames", ()):
                    custom[str(clause).lower()] = entry["id"]
                if entry["name"] == "Epic Link":
                    epic_link = entry["id"]
            types.discard("")
            statuses.discard("")
            self._schema = JqlSchema(
                projects=projects,
                issuetypes=frozenset(types),
                statuses=frozenset(statuses),
                issue_keys=keys,
                custom_fields=custom,
                epic_link_field=epic_link,
            )
        return self._schema

    # -- routing -------------------------------------------------------------------------------

    def _build_routes(self) -> list[tuple[re.Pattern[str], dict[str, Callable[..., Response]]]]:
        table: list[tuple[str, dict[str, Callable[..., Response]]]] = [
            ("serverInfo", {"GET": self._server_info}),
            ("myself", {"GET": self._myself}),
            ("field", {"GET": self._fields}),
            ("issueLinkType", {"GET": self._link_types}),
            ("issueLink", {"POST": self._create_link}),
            ("search", {"GET": self._search_old, "POST": self._search_old}),
            ("issue/bulkfetch", {"POST": self._bulkfetch} if self._cloud else {}),
            (
                "issue/(?P<issue>[^/]+)",
                {"GET": self._get_issue, "PUT": self._edit_issue, "DELETE": self._delete_issue},
            ),
            (
                "issue/(?P<issue>[^/]+)/comment",
                {"GET": self._list_comments, "POST": self._add_comment},
            ),
            (
                "issue/(?P<issue>[^/]+)/comment/(?P<comment>[^/]+)",
                {
                    "GET": self._get_comment,
                    "PUT": self._edit_comment,
                    "DELETE": self._delete_comment,
                },
            ),
        ]
        if self._cloud:
            table.append(("search/jql", {"GET": self._search_jql, "POST": self._search_jql}))
            table.append(("search/approximate-count", {"POST": self._approximate_count}))
        return [(re.compile(pattern + "/?"), methods) for pattern, methods in table if methods]

    def _dispatch(self, request: Request) -> Response:
        match = re.fullmatch(r"/rest/api/(2|3|latest)/(.*)", request.path)
        if match is None:
            raise _HttpError(404, [f"No REST resource at {request.path}."])
        version = "2" if match.group(1) == "latest" else match.group(1)
        if version == "3" and not self._cloud:
            raise _HttpError(404, ["REST API version 3 is not available on Jira Data Center."])
        rest = match.group(2)
        for pattern, methods in self._routes:
            found = pattern.fullmatch(rest)
            if found is None:
                continue
            handler = methods.get(request.method)
            if handler is None:
                return Response(405, b"", {"Allow": ", ".join(sorted(methods))})
            self._authenticate(request, anonymous_ok=rest.rstrip("/") == "serverInfo")
            return handler(request, version, **found.groupdict())
        raise _HttpError(404, [f"No REST resource at {request.path}."])

    def _authenticate(self, request: Request, *, anonymous_ok: bool) -> None:
        user, token = bearer_or_basic_token(request.headers)
        if "authorization" not in request.headers and anonymous_ok:
            return
        if token is not None and token == self._token:
            if user is None and not self._cloud:
                return  # Data Center personal access token
            if user is not None and user == self._user:
                return
        # Jira answers a bad or missing login with 401 and a challenge, whatever the endpoint.
        raise _HttpError(
            401, ["You are not authenticated. Authentication required to perform this operation."]
        )

    # -- identity ------------------------------------------------------------------------------

    def _user_json(self, request: Request, version: str) -> dict[str, Any]:
        if self._cloud:
            return {
                "self": f"{request.app_url}/rest/api/{version}/user?accountId={self._account_id}",
                "accountId": self._account_id,
                "accountType": "atlassian",
                "emailAddress": self._user,
                "displayName": "Sandbox User",
                "active": True,
                "timeZone": "UTC",
            }
        return {
            "self": f"{request.app_url}/rest/api/2/user?username={self._user}",
            "name": self._user,
            "key": self._user,
            "emailAddress": self._user,
            "displayName": "Sandbox User",
            "active": True,
            "timeZone": "UTC",
        }

    def _server_info(self, request: Request, version: str) -> Response:
        numbers = [1001, 0, 0] if self._cloud else [9, 12, 15]
        return json_response(
            200,
            {
                "baseUrl": request.app_url,
                "version": "1001.0.0-SNAPSHOT" if self._cloud else "9.12.15",
                "versionNumbers": numbers,
                "deploymentType": "Cloud" if self._cloud else "Server",
                "buildNumber": 100283 if self._cloud else 9120015,
                "buildDate": "2026-11-01T00:00:00.000+0000",
                "serverTime": jira_now(),
                "scmInfo": "0000000000000000000000000000000000000000",
                "serverTitle": f"linesight sandbox ({self.name})",
                "serverTimeZone": "UTC",
            },
        )

    def _myself(self, request: Request, version: str) -> Response:
        payload = self._user_json(request, version)
        payload.update(
            {
                "locale": "en_US",
                "groups": {"size": 1, "items": []},
                "applicationRoles": {"size": 1, "items": []},
                "expand": "groups,applicationRoles",
            }
        )
        return json_response(200, payload)

    # -- fields --------------------------------------------------------------------------------

    def _build_field_list(self) -> list[dict[str, Any]]:
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
        for extra in self._extra_fields:
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
                for issue in self._original.values()
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

    def _fields(self, request: Request, version: str) -> Response:
        return json_response(200, self._field_list)

    def _link_types(self, request: Request, version: str) -> Response:
        return json_response(
            200,
            {
                "issueLinkTypes": [
                    {**t, "self": f"{request.app_url}/rest/api/{version}/issueLinkType/{t['id']}"}
                    for t in self._all_link_types()
                ]
            },
        )

    def _all_link_types(self) -> list[dict[str, str]]:
        types = {t["name"]: dict(t) for t in _DEFAULT_LINK_TYPES}
        for issue in self._issues.values():
            for link in issue["fields"].get("issuelinks") or ():
                kind = link.get("type") or {}
                if kind.get("name") and kind["name"] not in types:
                    types[kind["name"]] = {
                        k: str(kind.get(k, "")) for k in ("id", "name", "inward", "outward")
                    }
        return list(types.values())

    # -- rendering -----------------------------------------------------------------------------

    def _rendered_cache(self, request: Request, version: str, spec: _FieldSpec) -> dict[str, bytes]:
        cache_key = (request.app_url, version, spec)
        cache = self._rendered.get(cache_key)
        if cache is None:
            cache = self._rendered[cache_key] = {}
            while len(self._rendered) > 8:
                self._rendered.popitem(last=False)
        return cache

    def _issue_json(
        self, issue_id: str, request: Request, version: str, spec: _FieldSpec
    ) -> dict[str, Any]:
        issue = self._issues[issue_id]
        out: dict[str, Any] = {
            "expand": issue.get("expand", _ISSUE_EXPAND),
            "id": issue["id"],
            "self": f"{request.app_url}/rest/api/{version}/issue/{issue['id']}",
            "key": issue["key"],
        }
        if spec.id_only:
            return out
        fields = spec.select(issue["fields"])
        if self._cloud and version == "2":
            fields = self._as_v2(fields)
        if "comment" in fields:
            fields["comment"] = self._comment_page(issue_id, request, version, 0, 5000)
        out["fields"] = fields
        return out

    def _issue_bytes(
        self, issue_id: str, request: Request, version: str, spec: _FieldSpec
    ) -> bytes:
        cache = self._rendered_cache(request, version, spec)
        rendered = cache.get(issue_id)
        if rendered is None:
            payload = self._issue_json(issue_id, request, version, spec)
            rendered = cache[issue_id] = json.dumps(payload, separators=(",", ":")).encode()
        return rendered

    def _as_v2(self, fields: dict[str, Any]) -> dict[str, Any]:
        converted = dict(fields)
        for name in _RICH_TEXT_FIELDS:
            if _is_adf(converted.get(name)):
                converted[name] = adf_to_text(converted[name])
        return converted

    # -- search --------------------------------------------------------------------------------

    def _compile(self, jql: str) -> CompiledQuery:
        try:
            return compile_jql(jql, self._jql_schema())
        except JqlError as exc:
            raise _HttpError(400, [str(exc)]) from None

    def _matches(self, jql: str, query: CompiledQuery) -> list[str]:
        """Ids of the issues matching ``query``, in its order (cached until the next write)."""
        cache_key = (jql, self._version)
        hit = self._results.get(cache_key)
        if hit is not None:
            self._results.move_to_end(cache_key)
            return hit
        if query.projects is not None:
            candidates = [
                self._indexed[i]
                for p in query.projects
                for i in self._by_project.get(p, ())
                if i in self._indexed
            ]
        else:
            candidates = list(self._indexed.values())
        predicate = query.predicate
        matched = query.sort([c for c in candidates if predicate(c)])
        result = [str(c.id) for c in matched]
        self._results[cache_key] = result
        while len(self._results) > 32:
            self._results.popitem(last=False)
        return result

    def _search_params(self, request: Request, allowed: frozenset[str]) -> dict[str, Any]:
        if request.method == "GET":
            params: dict[str, Any] = {k: v[0] for k, v in request.query.items() if v}
            if "fields" in request.query:
                params["fields"] = list(request.query["fields"])
            return params
        body = request.json()
        if body is None:
            body = {}
        if not isinstance(body, dict):
            raise _HttpError(400, ["Request body must be a JSON object."])
        unknown = sorted(set(body) - allowed)
        if unknown:
            raise _HttpError(
                400, [f'Unrecognized field "{unknown[0]}" (known: {", ".join(sorted(allowed))}).']
            )
        params = {k: v for k, v in body.items() if v is not None}
        if isinstance(params.get("fields"), str):
            params["fields"] = [params["fields"]]
        return params

    def _search_jql(self, request: Request, version: str) -> Response:
        params = self._search_params(
            request,
            frozenset(
                {
                    "jql",
                    "nextPageToken",
                    "maxResults",
                    "fields",
                    "expand",
                    "properties",
                    "fieldsByKeys",
                    "reconcileIssues",
                    "failFast",
                }
            ),
        )
        jql = str(params.get("jql") or "")
        query = self._compile(jql)
        if not query.bounded:
            raise _HttpError(
                400,
                [_UNBOUNDED],
            )
        spec = _FieldSpec.parse(params.get("fields"), "id")
        cap = _CLOUD_ID_PAGE_CAP if spec.id_only else _CLOUD_PAGE_CAP
        size = min(_int_param(params, "maxResults", 50, minimum=0), cap)
        start = self._decode_token(params.get("nextPageToken"), jql)
        ids = self._matches(jql, query)
        page = ids[start : start + size]
        end = start + len(page)
        body = [
            b'{"issues":[',
            b",".join(self._issue_bytes(i, request, version, spec) for i in page),
            b"]",
        ]
        if end < len(ids):
            token = self._encode_token(end, jql)
            body.append(f',"nextPageToken":"{token}","isLast":false}}'.encode())
        else:
            body.append(b',"isLast":true}')
        return json_response(200, None, raw=b"".join(body))

    @staticmethod
    def _encode_token(offset: int, jql: str) -> str:
        digest = hashlib.sha256(jql.encode()).hexdigest()[:12]
        return base64.urlsafe_b64encode(f"{offset}:{digest}".encode()).decode().rstrip("=")

    @staticmethod
    def _decode_token(token: Any, jql: str) -> int:
        if not token:
            return 0
        try:
            padded = str(token) + "=" * (-len(str(token)) % 4)
            offset, _, digest = base64.urlsafe_b64decode(padded).decode().partition(":")
            if digest == hashlib.sha256(jql.encode()).hexdigest()[:12]:
                return int(offset)
        except (ValueError, UnicodeDecodeError):
            pass
        raise _HttpError(400, ["The provided next page token is invalid or expired."])

    def _approximate_count(self, request: Request, version: str) -> Response:
        params = self._search_params(request, frozenset({"jql"}))
        query = self._compile(str(params.get("jql") or ""))
        if not query.bounded:
            raise _HttpError(
                400,
                [_UNBOUNDED],
            )
        return json_response(
            200, {"count": len(self._matches(str(params.get("jql") or ""), query))}
        )

    def _search_old(self, request: Request, version: str) -> Response:
        if self._cloud:
            # Removed from Cloud on 2025-05-01 (CHANGE-2046); the real site answers 410 Gone.
            raise _HttpError(
                410,
                [_GONE],
            )
        params = self._search_params(
            request,
            frozenset(
                {
                    "jql",
                    "startAt",
                    "maxResults",
                    "fields",
                    "expand",
                    "validateQuery",
                    "properties",
                    "fieldsByKeys",
                }
            ),
        )
        jql = str(params.get("jql") or "")
        query = self._compile(jql)
        start = _int_param(params, "startAt", 0, minimum=0)
        size = min(_int_param(params, "maxResults", 50, minimum=0), _DC_PAGE_CAP)
        if start + size > _DC_RESULT_WINDOW:
            # Jira DC 10 on OpenSearch refuses deep paging with the index's own error.
            raise _HttpError(
                400,
                [
                    f"Result window is too large, from + size must be less than or equal to: "
                    f"[{_DC_RESULT_WINDOW}] but was [{start + size}]. See the scroll api for a "
                    "more efficient way to request large data sets. This limit can be set by "
                    "changing the [index.max_result_window] index level setting."
                ],
            )
        spec = _FieldSpec.parse(params.get("fields"), "*navigable")
        ids = self._matches(jql, query)
        page = ids[start : start + size]
        head = (
            f'{{"expand":"schema,names","startAt":{start},"maxResults":{size},'
            f'"total":{len(ids)},"issues":['
        )
        body = (
            head.encode()
            + b",".join(self._issue_bytes(i, request, version, spec) for i in page)
            + b"]}"
        )
        return json_response(200, None, raw=body)

    def _bulkfetch(self, request: Request, version: str) -> Response:
        params = self._search_params(
            request, frozenset({"issueIdsOrKeys", "fields", "expand", "properties", "fieldsByKeys"})
        )
        wanted = params.get("issueIdsOrKeys")
        if not isinstance(wanted, list) or not wanted:
            raise _HttpError(400, ["issueIdsOrKeys must contain at least one issue id or key."])
        if len(wanted) > _BULK_CAP:
            raise _HttpError(
                400,
                [
                    f"The number of issue ids or keys must be at most {_BULK_CAP}, "
                    f"but was {len(wanted)}."
                ],
            )
        spec = _FieldSpec.parse(params.get("fields"), "*navigable")
        found: set[str] = set()
        for ref in wanted:
            text = str(ref)
            issue_id = text if text in self._issues else self._by_key.get(text.upper())
            if issue_id is not None and issue_id in self._issues:
                found.add(issue_id)  # unknown ones are silently left out, as on Cloud
        page = sorted(found, key=int)
        body = (
            b'{"issues":['
            + b",".join(self._issue_bytes(i, request, version, spec) for i in page)
            + b'],"issueErrors":[]}'
        )
        return json_response(200, None, raw=body)

    # -- issues --------------------------------------------------------------------------------

    def _get_issue(self, request: Request, version: str, issue: str) -> Response:
        issue_id = self._find(issue)
        spec = _FieldSpec.parse(request.query.get("fields"), "*all")
        return json_response(200, None, raw=self._issue_bytes(issue_id, request, version, spec))

    def _edit_issue(self, request: Request, version: str, issue: str) -> Response:
        issue_id = self._find(issue)
        notify = request.arg("notifyUsers", "true")
        if notify not in ("true", "false"):
            raise _HttpError(400, ["notifyUsers must be true or false."])
        body = request.json()
        if not isinstance(body, dict):
            raise _HttpError(
                400, ["Request body must be a JSON object with 'fields' and/or 'update'."]
            )
        self._require_writable_project(
            issue_id, "You do not have permission to edit issues in this project."
        )
        sets = body.get("fields") or {}
        updates = body.get("update") or {}
        if not isinstance(sets, dict) or not isinstance(updates, dict):
            raise _HttpError(400, ["'fields' and 'update' must be JSON objects."])
        both = sorted(set(sets) & set(updates))
        if both:
            raise _HttpError(
                400, [], {both[0]: f"Field '{both[0]}' cannot be set in both fields and update."}
            )
        current = self._issues[issue_id]["fields"]
        new_values: dict[str, Any] = {}
        for name, value in sets.items():
            self._check_editable(name)
            new_values[name] = self._checked_value(name, value, version)
        for name, operations in updates.items():
            self._check_editable(name)
            if not isinstance(operations, list):
                raise _HttpError(400, [], {name: "Update operations must be a list of operations."})
            value = copy.deepcopy(current.get(name))
            for operation in operations:
                value = self._apply_operation(name, value, operation, version)
            new_values[name] = value
        changed = {k: v for k, v in new_values.items() if current.get(k) != v}
        if changed:
            writable = self._writable(issue_id)
            writable["fields"].update(changed)
            self._touch(issue_id)
        if request.arg("returnIssue") == "true":
            spec = _FieldSpec.parse(None, "*all")
            return json_response(200, None, raw=self._issue_bytes(issue_id, request, version, spec))
        return Response(204)

    def _check_editable(self, name: str) -> None:
        known = {f["id"] for f in self._field_list}
        if name in _READ_ONLY_FIELDS or name not in known:
            raise _HttpError(
                400,
                [],
                {
                    name: f"Field '{name}' cannot be set. It is not on the appropriate screen, "
                    "or unknown."
                },
            )

    def _checked_value(self, name: str, value: Any, version: str) -> Any:
        if name == "labels":
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise _HttpError(400, [], {"labels": "Labels must be a list of strings."})
            for label in value:
                _check_label(label)
            return list(dict.fromkeys(value))
        if name == "summary" and (not isinstance(value, str) or not value.strip() or "\n" in value):
            raise _HttpError(400, [], {"summary": "You must specify a summary of the issue."})
        if name in _RICH_TEXT_FIELDS and self._cloud:
            if version == "3" and value is not None and not _is_adf(value):
                raise _HttpError(
                    400,
                    [],
                    {name: _ADF_REQUIRED},
                )
            if version == "2" and isinstance(value, str):
                return text_to_adf(value)
        return value

    def _apply_operation(self, name: str, value: Any, operation: Any, version: str) -> Any:
        if not isinstance(operation, dict) or len(operation) != 1:
            raise _HttpError(
                400, [], {name: "Each update operation must be an object with one verb."}
            )
        verb, argument = next(iter(operation.items()))
        if verb == "set":
            return self._checked_value(name, argument, version)
        if name != "labels" or verb not in ("add", "remove"):
            raise _HttpError(
                400, [], {name: f"Operation '{verb}' is not supported for field '{name}'."}
            )
        if not isinstance(argument, str):
            raise _HttpError(400, [], {"labels": "Labels must be strings."})
        labels = list(value or [])
        if verb == "add":
            _check_label(argument)
            if argument not in labels:
                labels.append(argument)
        elif argument in labels:
            labels.remove(argument)
        return labels

    def _delete_issue(self, request: Request, version: str, issue: str) -> Response:
        issue_id = self._find(issue)
        self._require_writable_project(
            issue_id, "You do not have permission to delete issues in this project."
        )
        children = [
            i
            for i, x in self._indexed.items()
            if x.parent_id == issue_id
            and (self._issues[i]["fields"]["issuetype"].get("subtask") is True)
        ]
        if children and request.arg("deleteSubtasks") != "true":
            raise _HttpError(
                400, ["The issue has subtasks. Set deleteSubtasks=true to delete them too."]
            )
        for doomed in [*children, issue_id]:
            for link in self._issues[doomed]["fields"].get("issuelinks") or ():
                other = (link.get("inwardIssue") or link.get("outwardIssue") or {}).get("id")
                if other in self._issues and other not in children and other != issue_id:
                    writable = self._writable(other)
                    writable["fields"]["issuelinks"] = [
                        x
                        for x in writable["fields"].get("issuelinks") or ()
                        if x.get("id") != link.get("id")
                    ]
                    self._touch(other)
            del self._issues[doomed]
            del self._indexed[doomed]
            self._dirty.add(doomed)
        self._schema = None
        self._changed(*children, issue_id)
        return Response(204)

    # -- comments ------------------------------------------------------------------------------

    def _comment_json(
        self, comment: Mapping[str, Any], issue_id: str, request: Request, version: str
    ) -> dict[str, Any]:
        out = dict(comment)
        out["self"] = (
            f"{request.app_url}/rest/api/{version}/issue/{issue_id}/comment/{comment['id']}"
        )
        if self._cloud and version == "2":
            out["body"] = adf_to_text(out.get("body"))
        return out

    def _comment_page(
        self, issue_id: str, request: Request, version: str, start: int, size: int
    ) -> dict[str, Any]:
        comments = _comments(self._issues[issue_id])
        page = comments[start : start + size]
        return {
            "comments": [self._comment_json(c, issue_id, request, version) for c in page],
            "self": f"{request.app_url}/rest/api/{version}/issue/{issue_id}/comment",
            "maxResults": size,
            "total": len(comments),
            "startAt": start,
        }

    def _list_comments(self, request: Request, version: str, issue: str) -> Response:
        issue_id = self._find(issue)
        params = {k: v[0] for k, v in request.query.items() if v}
        order = params.get("orderBy", "created")
        if order not in ("created", "+created", "-created"):
            raise _HttpError(
                400, [f"Ordering by '{order}' is not supported; use created, +created or -created."]
            )
        start = _int_param(params, "startAt", 0, minimum=0)
        size = min(_int_param(params, "maxResults", 5000, minimum=0), 5000)
        page = self._comment_page(issue_id, request, version, start, size)
        if order == "-created":
            comments = list(reversed(_comments(self._issues[issue_id])))[start : start + size]
            page["comments"] = [self._comment_json(c, issue_id, request, version) for c in comments]
        del page["self"]  # PageOfComments from this endpoint carries no self link
        return json_response(200, page)

    def _comment_body(self, request: Request, version: str) -> Any:
        data = request.json()
        if not isinstance(data, dict) or "body" not in data:
            raise _HttpError(400, [], {"comment": "Comment body can not be empty!"})
        body = data["body"]
        if self._cloud and version == "3":
            if not _is_adf(body):
                raise _HttpError(
                    400,
                    [],
                    {"comment": _ADF_REQUIRED},
                )
            text = adf_to_text(body)
        else:
            if not isinstance(body, str):
                raise _HttpError(
                    400, [], {"comment": "Comment body must be a string on REST API version 2."}
                )
            text = body
            if self._cloud:
                body = text_to_adf(text)
        if not text.strip():
            raise _HttpError(400, [], {"comment": "Comment body can not be empty!"})
        if len(text) > _COMMENT_LIMIT:
            raise _HttpError(
                400,
                [],
                {"comment": _TOO_LONG},
            )
        return body

    def _find_comment(self, issue_id: str, comment: str) -> int:
        for index, existing in enumerate(_comments(self._issues[issue_id])):
            if str(existing.get("id")) == comment:
                return index
        raise _HttpError(404, [f"Can not find a comment for the id: {comment}."])

    def _add_comment(self, request: Request, version: str, issue: str) -> Response:
        issue_id = self._find(issue)
        self._require_writable_project(
            issue_id, "You do not have the permission to comment on this issue."
        )
        body = self._comment_body(request, version)
        self._comment_seq += 1
        now = jira_now()
        author = self._user_json(request, version)
        comment = {
            "id": str(self._comment_seq),
            "author": author,
            "body": body,
            "updateAuthor": author,
            "created": now,
            "updated": now,
        }
        if self._cloud:
            comment["jsdPublic"] = True
        writable = self._writable(issue_id)
        container = writable["fields"].setdefault(
            "comment", {"comments": [], "maxResults": 0, "total": 0, "startAt": 0}
        )
        container["comments"].append(comment)
        container["total"] = container["maxResults"] = len(container["comments"])
        self._touch(issue_id)
        return json_response(201, self._comment_json(comment, issue_id, request, version))

    def _get_comment(self, request: Request, version: str, issue: str, comment: str) -> Response:
        issue_id = self._find(issue)
        index = self._find_comment(issue_id, comment)
        stored = _comments(self._issues[issue_id])[index]
        return json_response(200, self._comment_json(stored, issue_id, request, version))

    def _edit_comment(self, request: Request, version: str, issue: str, comment: str) -> Response:
        issue_id = self._find(issue)
        index = self._find_comment(issue_id, comment)
        self._require_writable_project(
            issue_id, "You do not have the permission to edit this comment."
        )
        body = self._comment_body(request, version)
        writable = self._writable(issue_id)
        stored = writable["fields"]["comment"]["comments"][index]
        stored["body"] = body
        stored["updated"] = jira_now()
        stored["updateAuthor"] = self._user_json(request, version)
        self._touch(issue_id)
        return json_response(200, self._comment_json(stored, issue_id, request, version))

    def _delete_comment(self, request: Request, version: str, issue: str, comment: str) -> Response:
        issue_id = self._find(issue)
        index = self._find_comment(issue_id, comment)
        self._require_writable_project(
            issue_id, "You do not have the permission to delete this comment."
        )
        writable = self._writable(issue_id)
        container = writable["fields"]["comment"]
        del container["comments"][index]
        container["total"] = container["maxResults"] = len(container["comments"])
        self._touch(issue_id)
        return Response(204)

    # -- links ---------------------------------------------------------------------------------

    def _create_link(self, request: Request, version: str) -> Response:
        data = request.json()
        if not isinstance(data, dict):
            raise _HttpError(400, ["Request body must be a JSON object."])
        kind = data.get("type") or {}
        link_type = next(
            (
                t
                for t in self._all_link_types()
                if kind.get("name") == t["name"] or str(kind.get("id")) == t["id"]
            ),
            None,
        )
        if link_type is None:
            raise _HttpError(
                404, [f"No issue link type with name '{kind.get('name') or kind.get('id')}' found."]
            )
        refs = []
        for side in ("inwardIssue", "outwardIssue"):
            ref = data.get(side) or {}
            refs.append(self._find(str(ref.get("key") or ref.get("id") or "")))
        inward_id, outward_id = refs
        # The request's outwardIssue is the link's source (the "from" issue, where a comment goes);
        # on GET the source lists the other issue as its outwardIssue, and vice versa.
        source, target = outward_id, inward_id
        self._require_writable_project(
            source, "You do not have permission to link issues in this project."
        )
        existing = self._issues[source]["fields"].get("issuelinks") or []
        duplicate = any(
            link.get("type", {}).get("name") == link_type["name"]
            and (link.get("outwardIssue") or {}).get("id") == target
            for link in existing
        )
        if not duplicate:
            self._link_seq += 1
            link_id = str(self._link_seq)
            link_self = f"{request.app_url}/rest/api/{version}/issueLink/{link_id}"
            public_type = {
                **link_type,
                "self": f"{request.app_url}/rest/api/{version}/issueLinkType/{link_type['id']}",
            }
            for holder, other, side in (
                (source, target, "outwardIssue"),
                (target, source, "inwardIssue"),
            ):
                writable = self._writable(holder)
                links = writable["fields"].setdefault("issuelinks", [])
                links.append(
                    {
                        "id": link_id,
                        "self": link_self,
                        "type": public_type,
                        side: self._linked_issue(other, request, version),
                    }
                )
                self._touch(holder)
        if isinstance(data.get("comment"), dict) and "body" in data["comment"]:
            comment_request = Request(
                request.method,
                request.path,
                request.query,
                request.headers,
                json.dumps({"body": data["comment"]["body"]}).encode(),
                request.mount,
                request.base_url,
            )
            self._add_comment(comment_request, version, source)
        return Response(201)

    def _linked_issue(self, issue_id: str, request: Request, version: str) -> dict[str, Any]:
        issue = self._issues[issue_id]
        fields = issue["fields"]
        return {
            "id": issue["id"],
            "key": issue["key"],
            "self": f"{request.app_url}/rest/api/{version}/issue/{issue['id']}",
            "fields": {
                k: fields[k] for k in ("summary", "status", "priority", "issuetype") if k in fields
            },
        }


def _comments(issue: Mapping[str, Any]) -> list[dict[str, Any]]:
    container = issue["fields"].get("comment")
    if isinstance(container, dict):
        return list(container.get("comments") or [])
    return []


def _check_label(label: str) -> None:
    if not label or " " in label:
        raise _HttpError(
            400, [], {"labels": f"The label '{label}' contains spaces which is invalid."}
        )
    if len(label) > 255:
        raise _HttpError(400, [], {"labels": "The label must not be longer than 255 characters."})


def _int_param(params: Mapping[str, Any], name: str, default: int, *, minimum: int) -> int:
    raw = params.get(name, default)
    if isinstance(raw, bool):
        raw = default  # the jira library sends maxResults=False to mean "the default"
    try:
        value = int(raw)
    except (TypeError, ValueError):
        raise _HttpError(
            400, [f"The value '{raw}' for the parameter '{name}' is not a valid number."]
        ) from None
    if value < minimum:
        raise _HttpError(400, [f"'{name}' must be at least {minimum}, but was {value}."])
    return value
