"""The domain model: frozen value types shared by every layer.

Tracker JSON stops at a connector's ``mapping.py``; from there on the core sees only these types.

- :class:`WorkItem` — one Jira issue or Azure DevOps work item, reduced to what linesight needs.
- :class:`ItemRef` — ``(source, key)``, the identity of an item across all trackers.
- :class:`Link` — a typed link from an item to another item (issue link / work item relation).
- :class:`Objective`, :class:`KeyResult` — the OKRs, from ``okrs.yaml`` or from a tracker.
- :class:`Operation`, :class:`OperationResult`, :class:`CommentDoc` — write-back values.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "MANAGED_COMMENT_MARKER",
    "CommentDoc",
    "ItemRef",
    "KeyResult",
    "Link",
    "Objective",
    "Operation",
    "OperationKind",
    "OperationResult",
    "OperationStatus",
    "StatusCategory",
    "TextSpan",
    "WorkItem",
]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class StatusCategory(StrEnum):
    """Where an item is in its life, the same across trackers.

    Jira ``statusCategory`` new/indeterminate/done; Azure DevOps state category
    Proposed -> todo, InProgress/Resolved -> in_progress, Completed -> done.
    """

    TODO = "todo"
    IN_PROGRESS = "in_progress"
    DONE = "done"


class ItemRef(_Frozen):
    """The identity of a work item across every configured source."""

    source: str
    key: str

    def __str__(self) -> str:
        return f"{self.source}:{self.key}"


class Link(_Frozen):
    """A typed link from an item to another item of the same source.

    ``kind`` is the tracker's own link name as seen from the item that holds the link
    (Jira ``"relates to"`` / ``"is implemented by"``; ADO ``System.LinkTypes.Related`` ...).
    Parent/child hierarchy is *not* a link: it is :attr:`WorkItem.parent`.
    """

    kind: str
    target: str  # key of the linked item, in the same source


class WorkItem(_Frozen):
    """One Jira issue or Azure DevOps work item, as linesight needs it.

    ``key`` is ``PAY-12`` for Jira and the numeric id as a string for Azure DevOps.
    ``kr_refs`` holds the raw values of the configured KR custom field (link rule 3);
    ``labels`` holds every label/tag as the tracker has it (link rule 2 reads the prefixed ones).
    """

    source: str
    key: str
    type: str
    title: str
    status: str
    status_category: StatusCategory
    project: str = ""  # Jira project key / ADO project name
    team: str | None = None  # team field, or ADO area path
    parent: str | None = None  # key of the parent item in the same source
    labels: tuple[str, ...] = ()
    links: tuple[Link, ...] = ()
    kr_refs: tuple[str, ...] = ()
    created: datetime | None = None
    updated: datetime | None = None
    started: datetime | None = None  # when it last entered in_progress
    resolved: datetime | None = None  # when it reached done
    url: str = ""
    rev: int | None = None  # tracker revision, for optimistic concurrency on write-back

    @property
    def ref(self) -> ItemRef:
        return ItemRef(source=self.source, key=self.key)


class KeyResult(_Frozen):
    """A key result. ``work`` holds the explicit links of link rules 1 and 5.

    ``work`` entries are ``"<source-or-kind>:<key>"`` (``jira:PAY-12``, ``ado:4711``),
    ``"jql:<query>"`` or ``"wiql:<query>"``.
    """

    id: str
    objective: str
    title: str
    baseline: float | None = None
    target: float | None = None
    current: float | None = None
    work: tuple[str, ...] = ()
    origin: ItemRef | None = None  # set when the KR lives in a tracker

    @property
    def score(self) -> float | None:
        """``(current - baseline) / (target - baseline)``, or ``None`` without the inputs."""
        if self.baseline is None or self.target is None or self.current is None:
            return None
        if self.target == self.baseline:
            return None
        return (self.current - self.baseline) / (self.target - self.baseline)


class Objective(_Frozen):
    """An objective of some cycle; only objectives of the active cycle that are open count."""

    id: str
    title: str
    cycle: str
    owner: str | None = None
    wip_limit: int | None = None
    closed: bool = False
    key_results: tuple[KeyResult, ...] = ()
    origin: ItemRef | None = None  # set when the objective lives in a tracker


# ---------------------------------------------------------------------------------------------
# write-back values

MANAGED_COMMENT_MARKER = "linesight:managed-comment"
"""Every managed comment carries this marker, so exactly one can be found and updated."""


class TextSpan(_Frozen):
    """A run of plain text, optionally a link or strong. Connectors render and escape it."""

    text: str
    href: str | None = None
    strong: bool = False


class CommentDoc(_Frozen):
    """A managed comment, built structurally (never as markup) so tracker text cannot inject.

    Each connector renders it in its own format (ADF on Jira v3, wiki markup on v2, escaped
    Markdown/HTML on Azure DevOps) and adds :data:`MANAGED_COMMENT_MARKER`.
    """

    paragraphs: tuple[tuple[TextSpan, ...], ...]

    def plain_text(self) -> str:
        return "\n\n".join("".join(span.text for span in para) for para in self.paragraphs)


class OperationKind(StrEnum):
    LABELS = "labels"  # add/remove owned labels/tags, in one call
    UPSERT_COMMENT = "upsert_comment"  # create or update the one managed comment
    DELETE_COMMENT = "delete_comment"  # remove the managed comment


class Operation(_Frozen):
    """One write-back operation on one item. Built by the planner, carried out by a connector."""

    source: str
    key: str
    kind: OperationKind
    add_labels: tuple[str, ...] = ()
    remove_labels: tuple[str, ...] = ()
    comment: CommentDoc | None = None
    reason: str = ""  # why the planner wants it; shown by `linesight plan`

    @property
    def ref(self) -> ItemRef:
        return ItemRef(source=self.source, key=self.key)


class OperationStatus(StrEnum):
    APPLIED = "applied"  # the tracker was changed
    UNCHANGED = "unchanged"  # the tracker already had the desired state; no write made
    SKIPPED = "skipped"  # per-item problem (403, deleted item): reported, not fatal
    FAILED = "failed"


class OperationResult(_Frozen):
    operation: Operation
    status: OperationStatus
    writes: int = Field(default=0, ge=0)  # write calls actually made
    message: str = ""
    comment_id: str | None = None  # the managed comment's id, after an upsert
    labels: tuple[str, ...] | None = None  # the item's labels/tags after a LABELS op, if known
