"""Work item comments, 7.1-preview.4: paged lists, add, get, edit, delete; markdown or html."""

from __future__ import annotations

import html
import re
from typing import Any

from linesight.sandbox.ado.errors import AdoError, bad_request
from linesight.sandbox.ado.params import int_arg
from linesight.sandbox.ado.responses import JSON, ok
from linesight.sandbox.ado.store import Comment, Item, Store, check_writable, iso
from linesight.sandbox.wire import Request, Response

__all__ = ["MAX_COMMENT_PAGE", "add_comment", "comment_json", "list_comments", "one_comment"]


MAX_COMMENT_PAGE = 200


def comment_json(store: Store, item: Item, comment: Comment, rendered: bool) -> dict[str, Any]:
    """One comment as the service renders it (``renderedText`` if ``rendered``)."""
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
    payload["url"] = f"{store.item_url(item.id)}/comments/{comment.id}"
    return payload


def list_comments(store: Store, request: Request, item_id: int) -> Response:
    """``GET .../comments``: one page, newest first unless ``order=asc``."""
    top = int_arg(request, "$top")
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
            raise bad_request(
                f"The continuation token {token!r} is not valid.", "ArgumentException"
            ) from None
    with store.lock:
        item = store.item(item_id)
        comments = [c for c in item.comments if include_deleted or not c.deleted]
        if order == "desc":
            comments.reverse()
        page = comments[offset : offset + top]
        payload: dict[str, Any] = {
            "totalCount": len(comments),
            "count": len(page),
            "comments": [comment_json(store, item, c, rendered) for c in page],
        }
    base = f"{store.item_url(item_id)}/comments"
    if offset + top < len(comments):
        next_token = format(offset + top, "x")
        payload["continuationToken"] = next_token
        payload["nextPage"] = f"{base}?$top={top}&continuationToken={next_token}"
    payload["url"] = base
    return ok(payload)


def add_comment(store: Store, request: Request, item_id: int) -> Response:
    """``POST .../comments``: a new comment, and a new revision of the item."""
    text = _comment_text(request)
    comment_format = _comment_format(request) or "html"
    caller = store.caller(request)
    with store.lock:
        item = store.item(item_id)
        check_writable(item)
        stamp = iso(store.now(item.fields.get("System.ChangedDate")))
        comment = store.new_comment(text, comment_format, caller, stamp)
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
        store.changed(item)
        return ok(comment_json(store, item, comment, True))


def one_comment(store: Store, request: Request, item_id: int, comment_id: int) -> Response:
    """``GET``, ``PATCH`` or ``DELETE .../comments/{id}``."""
    include_deleted = (request.arg("includeDeleted") or "").casefold() == "true"
    caller = store.caller(request)
    with store.lock:
        item = store.item(item_id)
        comment = next((c for c in item.comments if c.id == comment_id), None)
        if comment is None or (comment.deleted and not include_deleted):
            raise AdoError(
                404,
                f"VS402618: Comment {comment_id} does not exist on work item {item_id}.",
                "CommentNotFoundException",
            )
        if request.method == "GET":
            expand = (request.arg("$expand") or "none").casefold()
            rendered = expand in ("renderedtext", "renderedtextonly", "all")
            return ok(comment_json(store, item, comment, rendered))
        check_writable(item)
        stamp = iso(store.now(comment.modified_date))
        if request.method == "PATCH":
            comment.text = _comment_text(request)
            comment.format = _comment_format(request) or comment.format
            comment.version += 1
            comment.modified_by, comment.modified_date = caller, stamp
            return ok(comment_json(store, item, comment, True))
        comment.deleted = True
        comment.modified_by, comment.modified_date = caller, stamp
        store.bump(item, caller, {"System.CommentCount": sum(not c.deleted for c in item.comments)})
        return Response(200, b"", {"Content-Type": JSON})


def _comment_text(request: Request) -> str:
    body = request.json()
    text = body.get("text") if isinstance(body, dict) else None
    if not isinstance(text, str) or not text.strip():
        raise bad_request("VS402625: The comment text cannot be empty.", "ArgumentException")
    return text


def _comment_format(request: Request) -> str | None:
    raw = request.arg("format")
    if raw is None:
        return None
    folded = raw.casefold()
    if folded not in ("markdown", "html"):
        raise bad_request(
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
