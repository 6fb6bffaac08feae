"""Issue comments: ``issue/{idOrKey}/comment`` and ``issue/{idOrKey}/comment/{id}``.

On Cloud a comment body is stored as ADF (REST v2 reads and writes it as plain text); on Data
Center it is stored as wiki text.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from linesight.sandbox.jira.adf import ADF_REQUIRED, adf_to_text, is_adf, text_to_adf
from linesight.sandbox.jira.errors import HttpError, int_param
from linesight.sandbox.jira.identity import user_json
from linesight.sandbox.jira.site import Site, comments_of, jira_now
from linesight.sandbox.wire import Request, Response, json_response

__all__ = [
    "add_comment",
    "comment_page",
    "delete_comment",
    "edit_comment",
    "get_comment",
    "list_comments",
]

_COMMENT_LIMIT = 32_767
_TOO_LONG = "The entered text is too long. It exceeds the allowed limit of 32,767 characters."


def _comment_json(
    site: Site, comment: Mapping[str, Any], issue_id: str, request: Request, version: str
) -> dict[str, Any]:
    out = dict(comment)
    out["self"] = f"{request.app_url}/rest/api/{version}/issue/{issue_id}/comment/{comment['id']}"
    if site.cloud and version == "2":
        out["body"] = adf_to_text(out.get("body"))
    return out


def comment_page(
    site: Site, issue_id: str, request: Request, version: str, start: int, size: int
) -> dict[str, Any]:
    """A PageOfComments of the issue's comments, oldest first (also an issue's ``comment``)."""
    comments = comments_of(site.issues[issue_id])
    page = comments[start : start + size]
    return {
        "comments": [_comment_json(site, c, issue_id, request, version) for c in page],
        "self": f"{request.app_url}/rest/api/{version}/issue/{issue_id}/comment",
        "maxResults": size,
        "total": len(comments),
        "startAt": start,
    }


def list_comments(site: Site, request: Request, version: str, issue: str) -> Response:
    """``GET issue/{idOrKey}/comment`` (``startAt``, ``maxResults``, ``orderBy``)."""
    issue_id = site.find(issue)
    params = {k: v[0] for k, v in request.query.items() if v}
    order = params.get("orderBy", "created")
    if order not in ("created", "+created", "-created"):
        raise HttpError(
            400, [f"Ordering by '{order}' is not supported; use created, +created or -created."]
        )
    start = int_param(params, "startAt", 0, minimum=0)
    size = min(int_param(params, "maxResults", 5000, minimum=0), 5000)
    page = comment_page(site, issue_id, request, version, start, size)
    if order == "-created":
        comments = list(reversed(comments_of(site.issues[issue_id])))[start : start + size]
        page["comments"] = [_comment_json(site, c, issue_id, request, version) for c in comments]
    del page["self"]  # PageOfComments from this endpoint carries no self link
    return json_response(200, page)


def _comment_body(site: Site, request: Request, version: str) -> Any:
    data = request.json()
    if not isinstance(data, dict) or "body" not in data:
        raise HttpError(400, [], {"comment": "Comment body can not be empty!"})
    body = data["body"]
    if site.cloud and version == "3":
        if not is_adf(body):
            raise HttpError(
                400,
                [],
                {"comment": ADF_REQUIRED},
            )
        text = adf_to_text(body)
    else:
        if not isinstance(body, str):
            raise HttpError(
                400, [], {"comment": "Comment body must be a string on REST API version 2."}
            )
        text = body
        if site.cloud:
            body = text_to_adf(text)
    if not text.strip():
        raise HttpError(400, [], {"comment": "Comment body can not be empty!"})
    if len(text) > _COMMENT_LIMIT:
        raise HttpError(
            400,
            [],
            {"comment": _TOO_LONG},
        )
    return body


def _find_comment(site: Site, issue_id: str, comment: str) -> int:
    for index, existing in enumerate(comments_of(site.issues[issue_id])):
        if str(existing.get("id")) == comment:
            return index
    raise HttpError(404, [f"Can not find a comment for the id: {comment}."])


def add_comment(site: Site, request: Request, version: str, issue: str) -> Response:
    """``POST issue/{idOrKey}/comment``."""
    issue_id = site.find(issue)
    site.require_writable_project(
        issue_id, "You do not have the permission to comment on this issue."
    )
    body = _comment_body(site, request, version)
    site.comment_seq += 1
    now = jira_now()
    author = user_json(site, request, version)
    comment = {
        "id": str(site.comment_seq),
        "author": author,
        "body": body,
        "updateAuthor": author,
        "created": now,
        "updated": now,
    }
    if site.cloud:
        comment["jsdPublic"] = True
    writable = site.writable(issue_id)
    container = writable["fields"].setdefault(
        "comment", {"comments": [], "maxResults": 0, "total": 0, "startAt": 0}
    )
    container["comments"].append(comment)
    container["total"] = container["maxResults"] = len(container["comments"])
    site.touch(issue_id)
    return json_response(201, _comment_json(site, comment, issue_id, request, version))


def get_comment(site: Site, request: Request, version: str, issue: str, comment: str) -> Response:
    """``GET issue/{idOrKey}/comment/{id}``."""
    issue_id = site.find(issue)
    index = _find_comment(site, issue_id, comment)
    stored = comments_of(site.issues[issue_id])[index]
    return json_response(200, _comment_json(site, stored, issue_id, request, version))


def edit_comment(site: Site, request: Request, version: str, issue: str, comment: str) -> Response:
    """``PUT issue/{idOrKey}/comment/{id}``."""
    issue_id = site.find(issue)
    index = _find_comment(site, issue_id, comment)
    site.require_writable_project(issue_id, "You do not have the permission to edit this comment.")
    body = _comment_body(site, request, version)
    writable = site.writable(issue_id)
    stored = writable["fields"]["comment"]["comments"][index]
    stored["body"] = body
    stored["updated"] = jira_now()
    stored["updateAuthor"] = user_json(site, request, version)
    site.touch(issue_id)
    return json_response(200, _comment_json(site, stored, issue_id, request, version))


def delete_comment(
    site: Site, request: Request, version: str, issue: str, comment: str
) -> Response:
    """``DELETE issue/{idOrKey}/comment/{id}``."""
    issue_id = site.find(issue)
    index = _find_comment(site, issue_id, comment)
    site.require_writable_project(
        issue_id, "You do not have the permission to delete this comment."
    )
    writable = site.writable(issue_id)
    container = writable["fields"]["comment"]
    del container["comments"][index]
    container["total"] = container["maxResults"] = len(container["comments"])
    site.touch(issue_id)
    return Response(204)
