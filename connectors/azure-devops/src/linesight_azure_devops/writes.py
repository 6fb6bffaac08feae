"""Write-back on Azure DevOps: owned tags and the one managed comment.

Tags live in one field, ``System.Tags`` (``"a; b; c"``). A JSON Patch ``add`` on it *appends*,
``replace`` sets it; linesight always sends ``replace`` with the tags merged from the item's
*current* value, guarded by ``test /rev`` so that a concurrent edit makes the server answer
412 instead of being overwritten — then the item is read again and the merge redone. Tags
linesight does not own are never touched and keep their order. Tags compare case-insensitively,
as Azure DevOps does.

The managed comment is Markdown (comments API 7.1-preview.4, ``format=markdown``): every ASCII
punctuation character of tracker text is backslash-escaped, so a title full of markup renders as
text, and the comment ends with the invisible marker ``<!-- linesight:managed-comment -->``.
Creating it re-reads the comments first on every attempt, so a retried or crashed run updates
the comment it made instead of adding a second one.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

from linesight.errors import AuthError, PayloadError
from linesight.model import (
    MANAGED_COMMENT_MARKER,
    CommentDoc,
    Operation,
    OperationKind,
    OperationResult,
    OperationStatus,
)
from linesight_azure_devops.transport import COMMENTS, WORK_ITEM, ConflictError, NotFoundError

__all__ = [
    "MARKER_LINE",
    "TagState",
    "Writer",
    "comment_plain_text",
    "is_managed",
    "join_tags",
    "merge_tags",
    "render_comment",
]

MARKER_LINE = f"<!-- {MANAGED_COMMENT_MARKER} -->"
_PUNCTUATION = re.compile(r"([!-/:-@\[-`{-~])")  # every ASCII punctuation character
_MAX_CONFLICT_RETRIES = 5
_COMMENT_PAGE = 200


# -- tags ---------------------------------------------------------------------------------------


def merge_tags(
    current: Sequence[str], add: Iterable[str], remove: Iterable[str]
) -> tuple[str, ...]:
    """``current`` without ``remove`` and with ``add`` appended; everything else as it was."""
    removing = {tag.casefold() for tag in remove}
    kept = [tag for tag in current if tag.casefold() not in removing]
    present = {tag.casefold() for tag in kept}
    for tag in add:
        if tag.casefold() not in present:
            kept.append(tag)
            present.add(tag.casefold())
    return tuple(kept)


def join_tags(tags: Iterable[str]) -> str:
    """The ``System.Tags`` value for ``tags``."""
    return "; ".join(tags)


@dataclass(frozen=True, slots=True)
class TagState:
    """An item's tags at a revision (what ``test /rev`` guards)."""

    rev: int
    tags: tuple[str, ...]


# -- comments -----------------------------------------------------------------------------------


def _escape(text: str) -> str:
    # A newline becomes a backslash + newline (a hard line break), so text can never open a
    # new block (heading, list, code, HTML) and paragraphs stay ours to separate.
    return _PUNCTUATION.sub(r"\\\1", text).replace("\n", "\\\n")


def _safe_href(href: str) -> str | None:
    try:
        parts = urlsplit(href.strip())
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    # Percent-encode everything that could end the link destination or start markup.
    return quote(href.strip(), safe=":/?#@!$&*+,;=%-._~")


def render_comment(doc: CommentDoc) -> str:
    """``doc`` as escaped Markdown, ending with the invisible marker line."""
    paragraphs = []
    for paragraph in doc.paragraphs:
        rendered = []
        for span in paragraph:
            if not span.text:
                continue
            text = _escape(span.text)
            href = _safe_href(span.href) if span.href else None
            if href is not None:
                text = f"[{text}]({href})"
            if span.strong:
                text = f"**{text}**"
            rendered.append(text)
        paragraphs.append("".join(rendered))
    return "\n\n".join([*paragraphs, MARKER_LINE])


def is_managed(text: Any) -> bool:
    """Whether a comment's text carries linesight's marker."""
    return isinstance(text, str) and MANAGED_COMMENT_MARKER in text


def comment_plain_text(text: str) -> str:
    """The plain text of a comment :func:`render_comment` wrote (the inverse of rendering).

    ``comment_plain_text(render_comment(doc)) == doc.plain_text()``.
    """
    body = text
    for suffix in ("\n\n" + MARKER_LINE, MARKER_LINE):
        if body.endswith(suffix):
            body = body[: -len(suffix)]
            break
    else:
        body = body.replace(MARKER_LINE, "")
    out: list[str] = []
    index = 0
    while index < len(body):
        char = body[index]
        if char == "\\" and index + 1 < len(body):
            out.append(body[index + 1])
            index += 2
        elif body.startswith("**", index):
            index += 2
        elif body.startswith("](", index):
            end = body.find(")", index)
            index = len(body) if end < 0 else end + 1
        elif char == "[":
            index += 1
        else:
            out.append(char)
            index += 1
    return "".join(out)


# -- the writer ---------------------------------------------------------------------------------


Send = Callable[..., Any]
"""``send(what, method, route, route_values, query=None, content=None, media_type=...)``."""


class Writer:
    """Carries out :class:`Operation` s on one project. Holds no decisions of its own.

    ``attempt`` sends one request without retrying (errors translated); ``retry(what, fn)``
    retries a whole read-modify-write step, so every retry starts from a fresh read.
    """

    def __init__(
        self,
        project: str,
        attempt: Send,
        retry: Callable[[str, Callable[[], OperationResult]], OperationResult],
    ) -> None:
        self._project = project
        self._attempt = attempt
        self._retry = retry
        self.known: dict[str, TagState] = {}  # from current_state(); saves a read per item

    def apply(self, op: Operation) -> OperationResult:
        """Carry out ``op``; a 403/404 on the item is a SKIPPED result, not an error."""
        try:
            if op.kind is OperationKind.LABELS:
                return self._labels(op)
            if op.kind is OperationKind.UPSERT_COMMENT:
                return self._upsert_comment(op)
            return self._delete_comment(op)
        except NotFoundError:
            return OperationResult(
                operation=op,
                status=OperationStatus.SKIPPED,
                message=f"work item {op.key} no longer exists (or is not visible to this token)",
            )
        except AuthError as exc:
            if exc.status != 403:
                raise
            return OperationResult(
                operation=op,
                status=OperationStatus.SKIPPED,
                message=f"work item {op.key}: the token may not change it (403)",
            )

    # tags

    def read_tags(self, key: str) -> TagState:
        """The item's current tags and revision (one GET)."""
        payload = self._attempt(
            f"read the tags of work item {key}",
            "GET",
            WORK_ITEM,
            {"project": self._project, "id": key},
            query={"fields": "System.Tags,System.Rev"},
        )
        state = tag_state(payload)
        if state is None:
            raise PayloadError(f"work item {key}: the answer has no 'rev'")
        return state

    def _labels(self, op: Operation) -> OperationResult:
        writes = 0

        def once() -> OperationResult:
            nonlocal writes
            state = self.known.pop(op.key, None) or self.read_tags(op.key)
            for _ in range(_MAX_CONFLICT_RETRIES):
                wanted = merge_tags(state.tags, op.add_labels, op.remove_labels)
                if wanted == state.tags:
                    return OperationResult(operation=op, status=OperationStatus.UNCHANGED)
                patch = [
                    {"op": "test", "path": "/rev", "value": state.rev},
                    {"op": "replace", "path": "/fields/System.Tags", "value": join_tags(wanted)},
                ]
                writes += 1
                try:
                    answer = self._attempt(
                        f"update the tags of work item {op.key}",
                        "PATCH",
                        WORK_ITEM,
                        {"project": self._project, "id": op.key},
                        content=patch,
                        media_type="application/json-patch+json",
                    )
                except ConflictError:
                    # Someone changed the item since we read it: merge into their version.
                    state = self.read_tags(op.key)
                    continue
                after = tag_state(answer)
                if after is not None:
                    self.known[op.key] = after
                return OperationResult(operation=op, status=OperationStatus.APPLIED, writes=writes)
            return OperationResult(
                operation=op,
                status=OperationStatus.FAILED,
                writes=writes,
                message=f"work item {op.key} kept changing; tags not updated "
                f"after {_MAX_CONFLICT_RETRIES} attempts",
            )

        result = self._retry(f"update the tags of work item {op.key}", once)
        return result.model_copy(update={"writes": writes})

    # comments

    def managed_comments(self, key: str) -> list[dict[str, Any]]:
        """Every comment on the item that carries the marker, oldest first (all pages)."""
        found: list[dict[str, Any]] = []
        token: str | None = None
        seen_tokens: set[str] = set()
        while True:
            query = {"$top": str(_COMMENT_PAGE), "order": "asc"}
            if token:
                query["continuationToken"] = token
            page = self._attempt(
                f"read the comments of work item {key}",
                "GET",
                COMMENTS,
                {"project": self._project, "workItemId": key},
                query=query,
            )
            if not isinstance(page, dict):
                raise PayloadError(f"work item {key}: comments answer is not an object")
            for comment in page.get("comments") or ():
                if (
                    isinstance(comment, dict)
                    and not comment.get("isDeleted")
                    and is_managed(comment.get("text"))
                    and isinstance(comment.get("id", comment.get("commentId")), int)
                ):
                    found.append(comment)
            token = page.get("continuationToken") or None
            if not token:
                return sorted(found, key=_comment_id)
            if token in seen_tokens:
                raise PayloadError(f"work item {key}: the comment pages loop (token repeated)")
            seen_tokens.add(token)

    def _upsert_comment(self, op: Operation) -> OperationResult:
        if op.comment is None:
            raise ValueError(f"{op.ref}: an upsert_comment operation needs a comment")
        rendered = render_comment(op.comment)
        writes = 0
        route = {"project": self._project, "workItemId": op.key}

        def once() -> OperationResult:
            nonlocal writes
            managed = self.managed_comments(op.key)
            changed = False
            if not managed:
                writes += 1
                self._attempt(
                    f"add the linesight comment to work item {op.key}",
                    "POST",
                    COMMENTS,
                    route,
                    query={"format": "markdown"},
                    content={"text": rendered},
                )
                changed = True
            elif (managed[0].get("text") or "").strip() != rendered.strip():
                writes += 1
                self._attempt(
                    f"update the linesight comment on work item {op.key}",
                    "PATCH",
                    COMMENTS,
                    {**route, "commentId": str(_comment_id(managed[0]))},
                    query={"format": "markdown"},
                    content={"text": rendered},
                )
                changed = True
            for duplicate in managed[1:]:
                # left behind by an older crash: converge on exactly one
                writes += 1
                self._delete(op.key, duplicate)
                changed = True
            status = OperationStatus.APPLIED if changed else OperationStatus.UNCHANGED
            return OperationResult(operation=op, status=status)

        result = self._retry(f"write the linesight comment on work item {op.key}", once)
        if writes and result.status is OperationStatus.UNCHANGED:
            result = result.model_copy(update={"status": OperationStatus.APPLIED})
        return result.model_copy(update={"writes": writes})

    def _delete_comment(self, op: Operation) -> OperationResult:
        writes = 0

        def once() -> OperationResult:
            nonlocal writes
            managed = self.managed_comments(op.key)
            for comment in managed:
                writes += 1
                self._delete(op.key, comment)
            status = OperationStatus.APPLIED if managed or writes else OperationStatus.UNCHANGED
            return OperationResult(operation=op, status=status)

        result = self._retry(f"delete the linesight comment on work item {op.key}", once)
        return result.model_copy(update={"writes": writes})

    def _delete(self, key: str, comment: dict[str, Any]) -> None:
        with contextlib.suppress(NotFoundError):  # already gone: what we wanted
            self._attempt(
                f"delete the linesight comment on work item {key}",
                "DELETE",
                COMMENTS,
                {
                    "project": self._project,
                    "workItemId": key,
                    "commentId": str(_comment_id(comment)),
                },
            )


def tag_state(payload: Any) -> TagState | None:
    """``(rev, tags)`` from a work item payload (any ``fields`` subset)."""
    if not isinstance(payload, dict):
        return None
    raw = payload.get("fields")
    fields: dict[str, Any] = raw if isinstance(raw, dict) else {}
    rev = payload.get("rev", fields.get("System.Rev"))
    if not isinstance(rev, int) or isinstance(rev, bool):
        return None
    from linesight_azure_devops.mapping import split_tags

    return TagState(rev=rev, tags=split_tags(fields.get("System.Tags")))


def _comment_id(comment: dict[str, Any]) -> int:
    value = comment.get("id", comment.get("commentId"))
    return value if isinstance(value, int) else 0
