"""Issue links: the link types (``issueLinkType``) and making a link (``issueLink`` POST).

A link is stored on both issues, each naming the other; the types are Jira's defaults plus any
type the dataset's links use.
"""

from __future__ import annotations

import json
from typing import Any

from linesight.sandbox.jira.comments import add_comment
from linesight.sandbox.jira.errors import HttpError
from linesight.sandbox.jira.site import Site
from linesight.sandbox.wire import Request, Response, json_response

__all__ = ["create_link", "link_types"]

_DEFAULT_LINK_TYPES = (
    {"id": "10000", "name": "Blocks", "inward": "is blocked by", "outward": "blocks"},
    {"id": "10001", "name": "Cloners", "inward": "is cloned by", "outward": "clones"},
    {"id": "10002", "name": "Duplicate", "inward": "is duplicated by", "outward": "duplicates"},
    {"id": "10003", "name": "Relates", "inward": "relates to", "outward": "relates to"},
)


def link_types(site: Site, request: Request, version: str) -> Response:
    """``GET issueLinkType``."""
    return json_response(
        200,
        {
            "issueLinkTypes": [
                {**t, "self": f"{request.app_url}/rest/api/{version}/issueLinkType/{t['id']}"}
                for t in _all_link_types(site)
            ]
        },
    )


def _all_link_types(site: Site) -> list[dict[str, str]]:
    types = {t["name"]: dict(t) for t in _DEFAULT_LINK_TYPES}
    for issue in site.issues.values():
        for link in issue["fields"].get("issuelinks") or ():
            kind = link.get("type") or {}
            if kind.get("name") and kind["name"] not in types:
                types[kind["name"]] = {
                    k: str(kind.get(k, "")) for k in ("id", "name", "inward", "outward")
                }
    return list(types.values())


def create_link(site: Site, request: Request, version: str) -> Response:
    """``POST issueLink``: link two issues (once per type and pair), with an optional comment."""
    data = request.json()
    if not isinstance(data, dict):
        raise HttpError(400, ["Request body must be a JSON object."])
    kind = data.get("type") or {}
    link_type = next(
        (
            t
            for t in _all_link_types(site)
            if kind.get("name") == t["name"] or str(kind.get("id")) == t["id"]
        ),
        None,
    )
    if link_type is None:
        raise HttpError(
            404, [f"No issue link type with name '{kind.get('name') or kind.get('id')}' found."]
        )
    refs = []
    for side in ("inwardIssue", "outwardIssue"):
        ref = data.get(side) or {}
        refs.append(site.find(str(ref.get("key") or ref.get("id") or "")))
    inward_id, outward_id = refs
    # The request's outwardIssue is the link's source (the "from" issue, where a comment goes);
    # on GET the source lists the other issue as its outwardIssue, and vice versa.
    source, target = outward_id, inward_id
    site.require_writable_project(
        source, "You do not have permission to link issues in this project."
    )
    existing = site.issues[source]["fields"].get("issuelinks") or []
    duplicate = any(
        link.get("type", {}).get("name") == link_type["name"]
        and (link.get("outwardIssue") or {}).get("id") == target
        for link in existing
    )
    if not duplicate:
        site.link_seq += 1
        link_id = str(site.link_seq)
        link_self = f"{request.app_url}/rest/api/{version}/issueLink/{link_id}"
        public_type = {
            **link_type,
            "self": f"{request.app_url}/rest/api/{version}/issueLinkType/{link_type['id']}",
        }
        for holder, other, side in (
            (source, target, "outwardIssue"),
            (target, source, "inwardIssue"),
        ):
            writable = site.writable(holder)
            links = writable["fields"].setdefault("issuelinks", [])
            links.append(
                {
                    "id": link_id,
                    "self": link_self,
                    "type": public_type,
                    side: _linked_issue(site, other, request, version),
                }
            )
            site.touch(holder)
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
        add_comment(site, comment_request, version, source)
    return Response(201)


def _linked_issue(site: Site, issue_id: str, request: Request, version: str) -> dict[str, Any]:
    issue = site.issues[issue_id]
    fields = issue["fields"]
    return {
        "id": issue["id"],
        "key": issue["key"],
        "self": f"{request.app_url}/rest/api/{version}/issue/{issue['id']}",
        "fields": {
            k: fields[k] for k in ("summary", "status", "priority", "issuetype") if k in fields
        },
    }
