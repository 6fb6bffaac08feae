"""Write-back on Jira: owned labels and the one managed comment, with the fewest calls.

- Labels: one ``PUT issue/{key}?notifyUsers=false`` with ``update.labels`` add/remove
  operations, so labels linesight does not own are never sent, let alone rewritten (no
  read-modify-write race with a person editing the issue). ``Issue.update`` of the ``jira``
  library would re-read the issue after the PUT, doubling the calls, so the PUT goes through the
  client's session. Suppressing notifications needs admin rights: when Jira refuses it, the
  write is repeated once without it and later writes do not ask again. When the labels are
  known from :meth:`JiraWriter.state_of` (the planner's ``current_state`` read, or our own last
  PUT) and the operation would change nothing, no PUT is sent: a needless PUT is a write call,
  and it bumps ``updated`` so the next incremental sync re-reads the issue.
- Comments: the managed comment is found by paging through all comments for the marker; an
  upsert creates it when absent, updates it only when its content differs, and deletes
  duplicates a crashed run may have left, so re-running always converges and a second run with
  nothing changed makes no call.
- Per-item trouble (403 no permission, 404 deleted) is a SKIPPED result, not an exception.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import Any

from linesight.connector import CurrentState
from linesight.errors import AuthError, PayloadError, TrackerError, UserError
from linesight.model import Operation, OperationKind, OperationResult, OperationStatus
from linesight_jira.client import JiraHttp
from linesight_jira.comments import Rendered, read_body, render_adf, render_wiki
from linesight_jira.mapping import ISSUE_KEY

__all__ = ["CommentRef", "JiraWriter", "managed_comments"]

_COMMENT_PAGE = 1000


class _RefusedError(UserError):
    """Jira refused a write as invalid (400)."""


class CommentRef:
    """One managed comment found on an issue."""

    __slots__ = ("body", "id")

    def __init__(self, comment_id: str, body: Any) -> None:
        self.id = comment_id
        self.body = body

    @property
    def rendered(self) -> Rendered:
        return read_body(self.body)


def managed_comments(comments: Iterable[Any]) -> list[CommentRef]:
    """The managed comments among raw comment objects, oldest first."""
    found = []
    for comment in comments:
        if not isinstance(comment, dict):
            continue
        comment_id = comment.get("id")
        if not (isinstance(comment_id, str | int) and str(comment_id).isdigit()):
            continue
        body = comment.get("body")
        if read_body(body).managed:
            found.append(CommentRef(str(comment_id), body))
    return found


class JiraWriter:
    """Reads write-back state and carries out operations for one source."""

    def __init__(self, http: JiraHttp) -> None:
        self.http = http
        self.comment_page = _COMMENT_PAGE
        self._notify_refused = False
        self._lock = threading.Lock()
        # labels by key, as last read by state_of() or left by our own PUT; used once
        self.known_labels: dict[str, tuple[str, ...]] = {}

    # -- reading -------------------------------------------------------------------------------

    def all_comments(self, key: str) -> list[Any]:
        """Every comment of ``key`` (paged; Jira returns at most a few thousand per call)."""
        comments: list[Any] = []
        start = 0
        while True:
            page = self.http.get(
                f"issue/{key}/comment",
                {"startAt": start, "maxResults": self.comment_page},
                what=f"read comments of {key}",
            )
            if not isinstance(page, dict) or not isinstance(page.get("comments"), list):
                raise PayloadError(f"Jira '{self.http.source.name}': comments of {key}: no list")
            batch = page["comments"]
            comments.extend(batch)
            total = page.get("total")
            start += len(batch)
            if not batch or (isinstance(total, int) and start >= total):
                return comments

    def state_of(self, issue: dict[str, Any]) -> tuple[str, CurrentState] | None:
        """The write-back state of one issue as a search/bulkfetch returned it.

        Reads the embedded ``comment`` field when it holds every comment, else pages through
        ``issue/{key}/comment``.
        """
        key = issue.get("key")
        fields = issue.get("fields")
        if not isinstance(key, str) or not ISSUE_KEY.match(key) or not isinstance(fields, dict):
            return None
        labels = fields.get("labels") or []
        if not isinstance(labels, list):
            labels = []
        embedded = fields.get("comment")
        comments: list[Any]
        if (
            isinstance(embedded, dict)
            and isinstance(embedded.get("comments"), list)
            and isinstance(embedded.get("total"), int)
            and embedded["total"] <= len(embedded["comments"])
        ):
            comments = embedded["comments"]
        else:
            comments = self.all_comments(key)
        managed = managed_comments(comments)
        extra = {"comment_id": managed[0].id} if managed else {}
        known = tuple(x for x in labels if isinstance(x, str))
        self.known_labels[key] = known
        return key, CurrentState(
            labels=known,
            managed_comment=managed[0].rendered.plain_text if managed else None,
            extra=extra,
        )

    # -- writing -------------------------------------------------------------------------------

    def apply(self, op: Operation) -> OperationResult:
        """Carry out ``op``; per-item refusals become SKIPPED / FAILED results."""
        writes = [0]
        if not ISSUE_KEY.match(op.key):  # it becomes part of a URL path
            return OperationResult(
                operation=op,
                status=OperationStatus.FAILED,
                message=f"{op.key[:40]!r} is not a Jira issue key",
            )
        try:
            if op.kind is OperationKind.LABELS:
                status = self._labels(op, writes)
            elif op.kind is OperationKind.UPSERT_COMMENT:
                status = self._upsert(op, writes)
            else:
                status = self._delete(op, writes)
        except AuthError as exc:
            if exc.status != 403:
                raise  # bad credentials stop the run; a missing permission is per item
            return OperationResult(
                operation=op, status=OperationStatus.SKIPPED, writes=writes[0], message=str(exc)
            )
        except _RefusedError as exc:
            return OperationResult(
                operation=op, status=OperationStatus.FAILED, writes=writes[0], message=str(exc)
            )
        except TrackerError as exc:
            if exc.status != 404:
                raise
            return OperationResult(
                operation=op,
                status=OperationStatus.SKIPPED,
                writes=writes[0],
                message=f"{op.key} no longer exists in Jira '{self.http.source.name}'",
            )
        return OperationResult(operation=op, status=status, writes=writes[0])

    def _refused(self, op: Operation, what: str) -> Callable[[str], _RefusedError]:
        name = self.http.source.name
        return lambda detail: _RefusedError(f"Jira '{name}' refused {what} on {op.key}: {detail}")

    def _labels(self, op: Operation, writes: list[int]) -> OperationStatus:
        if not op.add_labels and not op.remove_labels:
            return OperationStatus.UNCHANGED
        known = self.known_labels.pop(op.key, None)
        after: tuple[str, ...] | None = None
        if known is not None:
            kept = tuple(x for x in known if x not in op.remove_labels)
            after = kept + tuple(x for x in dict.fromkeys(op.add_labels) if x not in kept)
            if after == known:
                return OperationStatus.UNCHANGED
        status = self._put_labels(op, writes)
        if after is not None:
            self.known_labels[op.key] = after
        return status

    def _put_labels(self, op: Operation, writes: list[int]) -> OperationStatus:
        body = {
            "update": {
                "labels": [{"add": x} for x in op.add_labels]
                + [{"remove": x} for x in op.remove_labels]
            }
        }
        path = f"issue/{op.key}"
        what = "the label change"
        if not self._notify_refused:
            try:
                writes[0] += 1
                self.http.put(
                    path,
                    body,
                    {"notifyUsers": "false"},
                    what=f"edit labels of {op.key}",
                    bad_request=self._refused(op, what),
                )
                return OperationStatus.APPLIED
            except (_RefusedError, AuthError) as exc:
                if isinstance(exc, AuthError) and exc.status != 403:
                    raise
                # Only admins may silence notifications; try once the ordinary way.
                with self._lock:
                    self._notify_refused = True
        writes[0] += 1
        self.http.put(
            path, body, what=f"edit labels of {op.key}", bad_request=self._refused(op, what)
        )
        return OperationStatus.APPLIED

    def render(self, op: Operation) -> Any:
        if op.comment is None:
            raise _RefusedError(f"{op.key}: an upsert_comment operation without a comment")
        return render_adf(op.comment) if self.http.cloud else render_wiki(op.comment)

    def _upsert(self, op: Operation, writes: list[int]) -> OperationStatus:
        desired = self.render(op)
        managed = managed_comments(self.all_comments(op.key))
        what = "the managed comment"
        if not managed:
            client = self.http.client
            tries = [0]

            def create() -> None:
                # A retry follows a failure that may have come *after* Jira made the comment
                # (the answer was lost): look again before posting a second one.
                tries[0] += 1
                if tries[0] > 1 and managed_comments(self.all_comments(op.key)):
                    return
                client.add_comment(op.key, desired)

            writes[0] += 1
            self.http.call(
                create,
                what=f"add the managed comment to {op.key}",
                bad_request=self._refused(op, what),
            )
            return OperationStatus.APPLIED
        keep, *duplicates = managed
        if keep.rendered.fingerprint != read_body(desired).fingerprint:
            writes[0] += 1
            # Comment.update would re-read the comment after the PUT: one call is enough.
            self.http.put(
                f"issue/{op.key}/comment/{keep.id}",
                {"body": desired},
                what=f"update the managed comment on {op.key}",
                bad_request=self._refused(op, what),
            )
        for extra in duplicates:
            writes[0] += 1
            self._delete_comment(
                op.key, extra.id, what=f"remove a duplicate managed comment from {op.key}"
            )
        return OperationStatus.APPLIED if writes[0] else OperationStatus.UNCHANGED

    def _delete(self, op: Operation, writes: list[int]) -> OperationStatus:
        for comment in managed_comments(self.all_comments(op.key)):
            writes[0] += 1
            self._delete_comment(
                op.key, comment.id, what=f"remove the managed comment from {op.key}"
            )
        return OperationStatus.APPLIED if writes[0] else OperationStatus.UNCHANGED

    def _delete_comment(self, key: str, comment_id: str, *, what: str) -> None:
        try:
            self.http.delete(f"issue/{key}/comment/{comment_id}", what=what)
        except TrackerError as exc:
            # 404: already gone — a retry after an attempt whose answer was lost, or a person
            # deleted it meanwhile. Either way the comment is not there, which is the goal.
            if exc.status != 404:
                raise
