"""The sandbox's Azure DevOps organization as a :class:`~linesight.sandbox.wire.TrackerApp`.

:class:`AdoApp` authenticates, keeps the soft rate limit, and routes each request to its
handler module; the state the handlers share is a :class:`~linesight.sandbox.ado.store.Store`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from linesight.sandbox.ado import (
    comments,
    loading,
    locations,
    metadata,
    patch,
    queries,
    workitems,
)
from linesight.sandbox.ado.errors import AdoError, PlainAdoError, bad_request, no_route
from linesight.sandbox.ado.params import allow, check_version
from linesight.sandbox.ado.responses import JSON, ok
from linesight.sandbox.ado.store import Project, Store
from linesight.sandbox.wire import BadJsonError, Request, Response, bearer_or_basic_token

__all__ = ["AdoApp"]


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
        self._entries = list(entries)
        self._token = token
        self._store = Store(
            organization, self.mount, user=user, clock=clock or (lambda: datetime.now(UTC))
        )
        loading.load(self._store, self._entries)
        limits = [e["soft_rate_limit"] for e in self._entries if e.get("soft_rate_limit")]
        self.soft_rate_limit: int | None = int(limits[0]) if limits else None
        self._window = (0.0, 0)  # (window start, requests in it)

    # -- TrackerApp ------------------------------------------------------------------------

    def handle(self, request: Request) -> Response:
        """Answer one request (thread-safe)."""
        try:
            self._authenticate(request)
            if request.method == "OPTIONS":
                return Response(200, locations.LOCATIONS_BODY, {"Content-Type": JSON})
            self._store.adopt_url(request.app_url)
            response = self._route(request)
            self._throttle_headers(response)
            return response
        except AdoError as refusal:
            return refusal.response()
        except BadJsonError as exc:
            return bad_request(
                f"The request body is not valid JSON: {exc}", "VssRequestContentException"
            ).response()

    def state(self) -> dict[str, Any]:
        """``{project: [work item payloads]}``; items with comments carry a ``comments`` list."""
        with self._store.lock:
            result: dict[str, Any] = {p.name: [] for p in self._store.projects.values()}
            for item_id in self._store.ids:
                item = self._store.items[item_id]
                payload = self._store.payload(item, relations=True, links=False)
                payload["fields"] = dict(item.fields)
                live = [c for c in item.comments if not c.deleted]
                if live:
                    payload["comments"] = [
                        comments.comment_json(self._store, item, c, False) for c in live
                    ]
                result[item.project.name].append(payload)
            return result

    def reset(self) -> None:
        """Back to the dataset as loaded."""
        with self._store.lock:
            loading.load(self._store, self._entries)

    def prerender(self, base_url: str, jira_fields: Sequence[Sequence[str]]) -> int:
        """Every work item rendered ahead as ``workitemsbatch`` with ``$expand=Relations``
        returns it (``jira_fields`` is for Jira sites); the number of items."""
        store = self._store
        with store.lock:
            store.adopt_url(base_url + self.mount)
            for item_id in store.ids:
                store.render(store.items[item_id], relations=True, links=False)
            return len(store.ids)

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
        raise PlainAdoError(
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
        with self._store.lock:
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

    # -- routing ---------------------------------------------------------------------------

    def _route(self, request: Request) -> Response:
        segments = [s for s in request.path.split("/") if s]
        try:
            api = next(i for i, s in enumerate(segments) if s.casefold() == "_apis")
        except StopIteration:
            raise no_route(request) from None
        scope, rest = segments[:api], segments[api + 1 :]
        lower = [s.casefold() for s in rest]
        project = self._store.project(scope[0]) if scope else None
        if len(scope) > 2 or (len(scope) == 2 and lower != ["wit", "wiql"]):
            raise no_route(request)
        check_version(request, preview_only=lower[:1] == ["wit"] and "comments" in lower[2:4])
        method = request.method
        if lower[:1] == ["wit"]:
            return self._route_wit(request, method, project, rest[1:], lower[1:])
        if lower == ["resourceareas"] or (lower[:1] == ["resourceareas"] and len(lower) == 2):
            allow(request, "GET")
            return locations.resource_areas(self._store, rest[1] if len(rest) == 2 else None)
        if lower == ["connectiondata"]:
            allow(request, "GET")
            return locations.connection_data(self._store, request)
        if lower[:1] == ["projects"] and len(lower) <= 2:
            allow(request, "GET")
            return locations.projects_json(self._store, rest[1] if len(rest) == 2 else None)
        raise no_route(request)

    def _route_wit(
        self,
        request: Request,
        method: str,
        project: Project | None,
        rest: list[str],
        lower: list[str],
    ) -> Response:
        head = lower[0] if lower else ""
        if lower == ["wiql"]:
            allow(request, "POST")
            return queries.wiql(self._store, request, project)
        if lower == ["workitemsbatch"]:
            allow(request, "POST")
            return workitems.batch(self._store, request)
        if lower == ["workitems"]:
            allow(request, "GET")
            return workitems.list_items(self._store, request)
        if head == "workitems" and len(lower) >= 2 and lower[1].isdigit():
            item_id = int(lower[1])
            if len(lower) == 2:
                allow(request, "GET", "PATCH", "DELETE")
                if method == "GET":
                    return workitems.get_one(self._store, request, item_id)
                if method == "PATCH":
                    return patch.patch_item(self._store, request, item_id)
                return workitems.delete(self._store, request, item_id)
            if lower[2] == "comments" and len(lower) <= 4:
                if len(lower) == 3:
                    allow(request, "GET", "POST")
                    if method == "GET":
                        return comments.list_comments(self._store, request, item_id)
                    return comments.add_comment(self._store, request, item_id)
                if not lower[3].isdigit():
                    raise no_route(request)
                allow(request, "GET", "PATCH", "DELETE")
                return comments.one_comment(self._store, request, item_id, int(lower[3]))
        if head == "workitemtypes" and project is not None and len(lower) <= 3:
            allow(request, "GET")
            if len(lower) == 1:
                return ok(
                    {
                        "count": len(project.types),
                        "value": [
                            metadata.type_json(self._store, project, t)
                            for t in project.types.values()
                        ],
                    }
                )
            kind = project.type(rest[1])
            if kind is None:
                raise AdoError(
                    404,
                    f"VS402323: Work item type {rest[1]} does not exist in project {project.name}.",
                    "WorkItemTypeNotFoundException",
                )
            if len(lower) == 2:
                return ok(metadata.type_json(self._store, project, kind))
            if lower[2] == "states":
                states = [s.to_json() for s in kind.states]
                return ok({"count": len(states), "value": states})
        if head == "workitemrelationtypes" and len(lower) <= 2:
            allow(request, "GET")
            return metadata.relation_types(self._store, rest[1] if len(rest) == 2 else None)
        if head == "fields" and len(lower) <= 2:
            allow(request, "GET")
            return metadata.fields(self._store, rest[1] if len(rest) == 2 else None)
        raise no_route(request)
