"""The Jira :class:`~linesight.sandbox.wire.TrackerApp`: routing, auth, state and reset.

Each route's handler lives in the module of its noun (:mod:`.search`, :mod:`.issues`,
:mod:`.comments`, :mod:`.links`, :mod:`.fields`, :mod:`.identity`) and works on the one
:class:`~linesight.sandbox.jira.site.Site` this app owns.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterable, Sequence
from functools import partial
from typing import Any

from linesight.sandbox.jira.comments import (
    add_comment,
    delete_comment,
    edit_comment,
    get_comment,
    list_comments,
)
from linesight.sandbox.jira.errors import HttpError
from linesight.sandbox.jira.fields import build_field_list, list_fields
from linesight.sandbox.jira.identity import myself, server_info
from linesight.sandbox.jira.issues import bulkfetch, delete_issue, edit_issue, get_issue
from linesight.sandbox.jira.links import create_link, link_types
from linesight.sandbox.jira.payloads import FieldSpec, prerender
from linesight.sandbox.jira.search import approximate_count, search_jql, search_old
from linesight.sandbox.jira.site import Site
from linesight.sandbox.wire import Request, Response, bearer_or_basic_token, json_response

__all__ = ["JiraApp"]

_Routes = list[tuple[re.Pattern[str], dict[str, Callable[..., Response]]]]


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
        self._token = token
        self._lock = threading.RLock()
        extra_fields = [dict(f) for f in fields or ()]
        self._site = site = Site(
            name,
            cloud=flavour == "cloud",
            issues=issues,
            forbidden_projects=forbidden_projects,
            user=user,
        )
        site.field_list = build_field_list(site.original.values(), extra_fields)
        self._routes = self._build_routes()

    # -- TrackerApp ---------------------------------------------------------------------------

    def handle(self, request: Request) -> Response:
        """Answer one REST request (``request.path`` relative to the mount)."""
        with self._lock:
            try:
                return self._dispatch(request)
            except HttpError as exc:
                return json_response(
                    exc.status, {"errorMessages": exc.messages, "errors": exc.errors}
                )

    def state(self) -> dict[str, Any]:
        """``{"issues": [...]}``: every current issue, native, in id order.

        Safe to read while requests go on: a write replaces an issue, it never changes one
        that has been handed out.
        """
        with self._lock:
            return self._site.snapshot()

    def reset(self) -> None:
        """Back to the dataset: undo every write and delete."""
        with self._lock:
            self._site.reset()

    def prerender(self, base_url: str, jira_fields: Sequence[Sequence[str]]) -> int:
        """Every issue rendered ahead for each ``fields`` list and for the key alone, in the
        site's own API version (Cloud 3, Data Center 2); the number of renderings."""
        version = "3" if self._site.cloud else "2"
        request = Request("GET", "/", {}, {}, b"", self.mount, base_url)
        specs = {FieldSpec.parse(["key"], "id")}
        specs.update(FieldSpec.parse(list(fields), "*navigable") for fields in jira_fields)
        with self._lock:
            return sum(prerender(self._site, request, version, spec) for spec in specs)

    # -- routing -------------------------------------------------------------------------------

    def _build_routes(self) -> _Routes:
        site = self._site
        legacy_search = partial(search_old, site)
        table: list[tuple[str, dict[str, Callable[..., Response]]]] = [
            ("serverInfo", {"GET": partial(server_info, site)}),
            ("myself", {"GET": partial(myself, site)}),
            ("field", {"GET": partial(list_fields, site)}),
            ("issueLinkType", {"GET": partial(link_types, site)}),
            ("issueLink", {"POST": partial(create_link, site)}),
            ("search", {"GET": legacy_search, "POST": legacy_search}),
            ("issue/bulkfetch", {"POST": partial(bulkfetch, site)} if site.cloud else {}),
            (
                "issue/(?P<issue>[^/]+)",
                {
                    "GET": partial(get_issue, site),
                    "PUT": partial(edit_issue, site),
                    "DELETE": partial(delete_issue, site),
                },
            ),
            (
                "issue/(?P<issue>[^/]+)/comment",
                {
                    "GET": partial(list_comments, site),
                    "POST": partial(add_comment, site),
                },
            ),
            (
                "issue/(?P<issue>[^/]+)/comment/(?P<comment>[^/]+)",
                {
                    "GET": partial(get_comment, site),
                    "PUT": partial(edit_comment, site),
                    "DELETE": partial(delete_comment, site),
                },
            ),
        ]
        if site.cloud:
            enhanced_search = partial(search_jql, site)
            table.append(("search/jql", {"GET": enhanced_search, "POST": enhanced_search}))
            table.append(("search/approximate-count", {"POST": partial(approximate_count, site)}))
        return [(re.compile(pattern + "/?"), methods) for pattern, methods in table if methods]

    def _dispatch(self, request: Request) -> Response:
        match = re.fullmatch(r"/rest/api/(2|3|latest)/(.*)", request.path)
        if match is None:
            raise HttpError(404, [f"No REST resource at {request.path}."])
        version = "2" if match.group(1) == "latest" else match.group(1)
        if version == "3" and not self._site.cloud:
            raise HttpError(404, ["REST API version 3 is not available on Jira Data Center."])
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
        raise HttpError(404, [f"No REST resource at {request.path}."])

    def _authenticate(self, request: Request, *, anonymous_ok: bool) -> None:
        user, token = bearer_or_basic_token(request.headers)
        if "authorization" not in request.headers and anonymous_ok:
            return
        if token is not None and token == self._token:
            if user is None and not self._site.cloud:
                return  # Data Center personal access token
            if user is not None and user == self._site.user:
                return
        # Jira answers a bad or missing login with 401 and a challenge, whatever the endpoint.
        raise HttpError(
            401, ["You are not authenticated. Authentication required to perform this operation."]
        )
