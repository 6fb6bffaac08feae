"""Searching by JQL: ``search/jql`` and ``search/approximate-count`` (Cloud), ``search`` (DC).

Cloud pages with an opaque ``nextPageToken`` and refuses unbounded JQL; Data Center pages with
``startAt``/``maxResults``/``total`` up to the search index's result window; Cloud answers the
old ``search`` with 410 Gone, as the real one does since 2025. Matches are cached per JQL until
the next write.

A query whose top-level conditions bound the id (``id > 10200 AND id <= 15000``, keyset paging)
or the update time (``updated >= "2026-11-23 10:00"``, incremental syncs) is evaluated only over
the slice of issues an index sorted by that value gives, not over every issue: like a real
site's search index, paging through a big result or asking for what changed does not cost a
scan of the whole site per page.
"""

from __future__ import annotations

import base64
import hashlib
import weakref
from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field
from operator import attrgetter
from typing import Any

from linesight.sandbox.jira.errors import HttpError, int_param
from linesight.sandbox.jira.payloads import FieldSpec, page_bytes
from linesight.sandbox.jira.site import Site
from linesight.sandbox.jql import CompiledQuery, IndexedIssue, JqlError, JqlSchema, compile_jql
from linesight.sandbox.wire import Request, Response, json_response

__all__ = ["approximate_count", "search_jql", "search_old", "search_params"]

_CLOUD_PAGE_CAP = 100
_CLOUD_ID_PAGE_CAP = 5000
_DC_PAGE_CAP = 1000
_DC_RESULT_WINDOW = 10_000
_DEFAULT_ISSUETYPES = ("Epic", "Story", "Task", "Sub-task", "Subtask", "Bug")
_DEFAULT_STATUSES = ("To Do", "In Progress", "Done", "Open", "Closed")
_UNBOUNDED = (
    "Unbounded JQL queries are not allowed here. Please add a search restriction to your query."
)
# Cloud removed the old search on 2025-05-01 (CHANGE-2046); this is the real 410 message.
_GONE = (
    "The requested API has been removed. Please migrate to the /rest/api/3/search/jql API. "
    "A full migration guideline is available at "
    "https://developer.atlassian.com/changelog/#CHANGE-2046"
)


def _jql_schema(site: Site) -> JqlSchema:
    if site.schema is None:
        projects: dict[str, str] = {}
        types = {t.lower() for t in _DEFAULT_ISSUETYPES}
        statuses = {s.lower() for s in _DEFAULT_STATUSES}
        keys: dict[str, str] = {}
        for issue_id, indexed in site.indexed.items():
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
        for entry in site.field_list:
            if not entry.get("custom"):
                continue
            custom[str(entry["name"]).lower()] = entry["id"]
            for clause in entry.get("clauseNames", ()):
                custom[str(clause).lower()] = entry["id"]
            if entry["name"] == "Epic Link":
                epic_link = entry["id"]
        types.discard("")
        statuses.discard("")
        site.schema = JqlSchema(
            projects=projects,
            issuetypes=frozenset(types),
            statuses=frozenset(statuses),
            issue_keys=keys,
            custom_fields=custom,
            epic_link_field=epic_link,
        )
    return site.schema


def _compile(site: Site, jql: str) -> CompiledQuery:
    try:
        return compile_jql(jql, _jql_schema(site))
    except JqlError as exc:
        raise HttpError(400, [str(exc)]) from None


@dataclass(slots=True)
class _Sorted:
    """Issues sorted by one value (those without it left out), and the values in that order."""

    values: list[float]
    issues: list[IndexedIssue]

    def span(self, low: float | None, high: float | None) -> slice:
        """Where the issues whose value is in ``[low, high]`` are (either bound may be open)."""
        start = 0 if low is None else bisect_left(self.values, low)
        end = len(self.values) if high is None else bisect_right(self.values, high)
        return slice(start, max(start, end))


@dataclass(slots=True)
class _Indexes:
    """A site's issues sorted by id and by ``updated``, as of one version of the site; each is
    built on first use after a write."""

    version: int
    sorted: dict[str, _Sorted] = field(default_factory=dict)


_INDEXES: weakref.WeakKeyDictionary[Site, _Indexes] = weakref.WeakKeyDictionary()


def _sorted_by(site: Site, name: str) -> _Sorted:
    """The site's issues sorted by ``name`` (``id`` or ``updated``)."""
    indexes = _INDEXES.get(site)
    if indexes is None or indexes.version != site.version:
        indexes = _INDEXES[site] = _Indexes(site.version)
    found = indexes.sorted.get(name)
    if found is None:
        value = attrgetter(name)
        issues = [issue for issue in site.indexed.values() if value(issue) is not None]
        issues.sort(key=value)  # about linear for ids: a site keeps its issues in id order
        found = indexes.sorted[name] = _Sorted(list(map(value, issues)), issues)
    return found


def _candidates(site: Site, query: CompiledQuery) -> list[IndexedIssue]:
    """A superset of the issues matching ``query``: the fewest its projects and bounds allow."""
    everyone = len(site.indexed)
    if query.projects is None:
        in_projects = everyone
    else:
        in_projects = sum(len(site.by_project.get(p, ())) for p in query.projects)
    best: tuple[_Sorted, slice] | None = None
    size = in_projects
    bounds: list[tuple[str, float | None, float | None]] = []
    if query.id_low is not None or query.id_high is not None:
        bounds.append(("id", query.id_low, query.id_high))
    if query.updated_from is not None:
        bounds.append(("updated", query.updated_from, None))
    for name, low, high in bounds:
        index = _sorted_by(site, name)
        span = index.span(low, high)
        if span.stop - span.start < size:
            best, size = (index, span), span.stop - span.start
    if best is not None:
        index, span = best
        return index.issues[span]
    if 2 * in_projects >= everyone:  # most of the site: every issue, no copy
        return _sorted_by(site, "id").issues
    return [
        site.indexed[i]
        for p in query.projects or ()
        for i in site.by_project.get(p, ())
        if i in site.indexed
    ]


def _matches(site: Site, jql: str, query: CompiledQuery) -> list[str]:
    """Ids of the issues matching ``query``, in its order (cached until the next write)."""
    cache_key = (jql, site.version)
    hit = site.results.get(cache_key)
    if hit is not None:
        site.results.move_to_end(cache_key)
        return hit
    matched = _matched(site, query)
    result = [str(c.id) for c in query.sort(matched)]
    _remember(site, cache_key, result)
    return result


_MATCHED: weakref.WeakKeyDictionary[Site, dict[tuple[str, int], list[IndexedIssue]]] = (
    weakref.WeakKeyDictionary()
)


def _matched(site: Site, query: CompiledQuery) -> list[IndexedIssue]:
    """The issues matching ``query``'s condition, in no particular order.

    Kept per condition until the next write: a keyset scan asks for its first page
    ``ORDER BY id ASC`` and for the largest id ``ORDER BY id DESC`` of the same condition.
    """
    if not query.condition:
        return [c for c in _candidates(site, query) if query.predicate(c)]
    cache = _MATCHED.setdefault(site, {})
    key = (query.condition, site.version)
    found = cache.get(key)
    if found is None:
        if any(version != site.version for _, version in cache):
            cache.clear()  # a write happened: every earlier answer is stale
        while len(cache) >= 8:
            del cache[next(iter(cache))]
        predicate = query.predicate
        found = cache[key] = [c for c in _candidates(site, query) if predicate(c)]
    return found


def _remember(site: Site, key: tuple[str, int], result: list[str]) -> None:
    site.results[key] = result
    while len(site.results) > 32:
        site.results.popitem(last=False)


def search_params(request: Request, allowed: frozenset[str]) -> dict[str, Any]:
    """The parameters of a GET (query string) or POST (JSON body, only ``allowed`` keys)."""
    if request.method == "GET":
        params: dict[str, Any] = {k: v[0] for k, v in request.query.items() if v}
        if "fields" in request.query:
            params["fields"] = list(request.query["fields"])
        return params
    body = request.json()
    if body is None:
        body = {}
    if not isinstance(body, dict):
        raise HttpError(400, ["Request body must be a JSON object."])
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise HttpError(
            400, [f'Unrecognized field "{unknown[0]}" (known: {", ".join(sorted(allowed))}).']
        )
    params = {k: v for k, v in body.items() if v is not None}
    if isinstance(params.get("fields"), str):
        params["fields"] = [params["fields"]]
    return params


def search_jql(site: Site, request: Request, version: str) -> Response:
    """``GET/POST search/jql`` (Cloud): bounded JQL, paged by ``nextPageToken``."""
    params = search_params(
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
    query = _compile(site, jql)
    if not query.bounded:
        raise HttpError(
            400,
            [_UNBOUNDED],
        )
    spec = FieldSpec.parse(params.get("fields"), "id")
    cap = _CLOUD_ID_PAGE_CAP if spec.id_only else _CLOUD_PAGE_CAP
    size = min(int_param(params, "maxResults", 50, minimum=0), cap)
    start = _decode_token(params.get("nextPageToken"), jql)
    ids = _matches(site, jql, query)
    page = ids[start : start + size]
    end = start + len(page)
    body = [b'{"issues":[', page_bytes(site, page, request, version, spec), b"]"]
    if end < len(ids):
        token = _encode_token(end, jql)
        body.append(f',"nextPageToken":"{token}","isLast":false}}'.encode())
    else:
        body.append(b',"isLast":true}')
    return json_response(200, None, raw=b"".join(body))


def _encode_token(offset: int, jql: str) -> str:
    digest = hashlib.sha256(jql.encode()).hexdigest()[:12]
    return base64.urlsafe_b64encode(f"{offset}:{digest}".encode()).decode().rstrip("=")


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
    raise HttpError(400, ["The provided next page token is invalid or expired."])


def approximate_count(site: Site, request: Request, version: str) -> Response:
    """``POST search/approximate-count`` (Cloud): how many issues bounded JQL matches."""
    params = search_params(request, frozenset({"jql"}))
    query = _compile(site, str(params.get("jql") or ""))
    if not query.bounded:
        raise HttpError(
            400,
            [_UNBOUNDED],
        )
    return json_response(200, {"count": len(_matches(site, str(params.get("jql") or ""), query))})


def search_old(site: Site, request: Request, version: str) -> Response:
    """``GET/POST search``: Data Center's paged search; 410 Gone on Cloud."""
    if site.cloud:
        # Removed from Cloud on 2025-05-01 (CHANGE-2046); the real site answers 410 Gone.
        raise HttpError(
            410,
            [_GONE],
        )
    params = search_params(
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
    query = _compile(site, jql)
    start = int_param(params, "startAt", 0, minimum=0)
    size = min(int_param(params, "maxResults", 50, minimum=0), _DC_PAGE_CAP)
    if start + size > _DC_RESULT_WINDOW:
        # Jira DC 10 on OpenSearch refuses deep paging with the index's own error.
        raise HttpError(
            400,
            [
                f"Result window is too large, from + size must be less than or equal to: "
                f"[{_DC_RESULT_WINDOW}] but was [{start + size}]. See the scroll api for a "
                "more efficient way to request large data sets. This limit can be set by "
                "changing the [index.max_result_window] index level setting."
            ],
        )
    spec = FieldSpec.parse(params.get("fields"), "*navigable")
    ids = _matches(site, jql, query)
    page = ids[start : start + size]
    head = (
        f'{{"expand":"schema,names","startAt":{start},"maxResults":{size},'
        f'"total":{len(ids)},"issues":['
    )
    body = head.encode() + page_bytes(site, page, request, version, spec) + b"]}"
    return json_response(200, None, raw=body)
