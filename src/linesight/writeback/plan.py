"""The write-back planner: desired state vs known state -> operations. Pure, no I/O.

linesight owns exactly two things on an item: the orphan label/tag (``writeback.orphan_label``)
and one managed comment. Everything else on an item is never touched. The planner compares what
the analysis wants with what the item carries now (labels from the last sync, updated after each
apply; the content hash of the managed comment linesight last wrote) and emits only the
operations that change something, so a second ``apply`` with nothing changed plans nothing.

Comment text is deliberately stable (no ages or dates), so it only changes when the finding
does, and is built structurally (:class:`~linesight.model.CommentDoc`) so tracker text cannot
inject markup: each connector renders and escapes it for its own format.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from linesight.analysis.result import AnalysisResult, KeyResultResult, Orphan
from linesight.model import CommentDoc, ItemRef, Operation, OperationKind, TextSpan
from linesight.settings import SourceSettings, WritebackSettings

__all__ = ["ItemState", "comment_hash", "orphan_comment", "plan_writeback"]


@dataclass(frozen=True, slots=True)
class ItemState:
    """What linesight knows an item carries now."""

    labels: tuple[str, ...]
    comment_hash: str | None = None  # hash of the managed comment linesight last wrote


def comment_hash(doc: CommentDoc) -> str:
    """A stable content hash of a managed comment (what decides whether to update it)."""
    return hashlib.sha256(doc.model_dump_json().encode()).hexdigest()[:16]


_REASONS = {
    "no_link": "nothing links it (or any of its parents) to a key result",
    "unknown_kr": "it names a key result that does not exist",
    "inactive_kr": "every key result it serves belongs to another cycle or a closed objective",
}


def _how_to_link(source: SourceSettings | None, example_kr: str | None) -> str:
    kr = example_kr or "KR1.1"
    if source is None:
        return f"list it under a key result's work: in the OKR file (e.g. under {kr})"
    if source.kind == "jira":
        return (
            f"add the label {source.kr_label_prefix}{kr} (with the right key result id), "
            "link it to a parent that serves a key result, or list it under a key result's "
            "work: in the OKR file"
        )
    return (
        f"add the tag {source.kr_tag_prefix}{kr} (with the right key result id), link it to a "
        "parent that serves a key result, or list it under a key result's work: in the OKR file"
    )


def orphan_comment(
    orphan: Orphan, cycle: str, source: SourceSettings | None, example_kr: str | None
) -> CommentDoc:
    """The managed comment for an orphan: why it is one and how to link it."""
    first: list[TextSpan] = [
        TextSpan(text="linesight: ", strong=True),
        TextSpan(text=f"this item serves no active key result of cycle {cycle}: "),
        TextSpan(text=_REASONS[orphan.reason]),
    ]
    if orphan.named_krs:
        first.append(TextSpan(text=f" ({', '.join(orphan.named_krs)})"))
    first.append(TextSpan(text="."))
    return CommentDoc(
        paragraphs=(
            tuple(first),
            (TextSpan(text="To align it, " + _how_to_link(source, example_kr) + "."),),
            (
                TextSpan(
                    text="If it is deliberate (run work, a spike), say so in the OKR file "
                    "or give it the label the team uses for run work."
                ),
            ),
        )
    )


def kr_comment(kr: KeyResultResult) -> CommentDoc:
    """The managed comment on a key result that lives in a tracker and has no work behind it."""
    text = (
        "no in-scope work supports this key result."
        if kr.status == "unsupported"
        else f"the work behind this key result is stalled ({kr.status_reason})."
    )
    return CommentDoc(
        paragraphs=(
            (TextSpan(text="linesight: ", strong=True), TextSpan(text=text)),
            (TextSpan(text="Link the epics that move it, or reconsider the key result."),),
        )
    )


def _has(labels: Iterable[str], label: str, *, casefold: bool) -> bool:
    if casefold:
        return label.casefold() in {x.casefold() for x in labels}
    return label in labels


def plan_writeback(
    result: AnalysisResult,
    state: Mapping[ItemRef, ItemState],
    settings: WritebackSettings,
    sources: Sequence[SourceSettings],
) -> list[Operation]:
    """Operations that bring every item to the desired state, and nothing more.

    ``state`` holds every synced item (its labels) and the comment hashes linesight wrote.
    Orphans get the label and the comment; every other item that carries the label loses it,
    and loses the comment linesight wrote.
    """
    by_name = {s.name: s for s in sources}
    label = settings.orphan_label
    active_kr = next((kr.id for kr in result.key_results), None)
    desired_comments: dict[ItemRef, tuple[CommentDoc, str]] = {}
    orphans: dict[ItemRef, Orphan] = {}
    for orphan in result.orphans:
        ref = ItemRef(source=orphan.source, key=orphan.key)
        orphans[ref] = orphan
        if settings.comments:
            doc = orphan_comment(orphan, result.cycle, by_name.get(orphan.source), active_kr)
            desired_comments[ref] = (doc, f"orphan: {orphan.reason}")
    if settings.kr_comments:
        for kr in result.key_results:
            if kr.status != "supported" and kr.source is not None:
                source, _, key = kr.id.partition(":")
                desired_comments[ItemRef(source=source, key=key)] = (
                    kr_comment(kr),
                    f"key result {kr.status}",
                )

    operations: list[Operation] = []
    for ref in sorted(set(state) | set(orphans), key=lambda r: (r.source, r.key)):
        current = state.get(ref)
        if current is None:
            continue  # not in the store (deleted since the analysis): nothing to touch
        casefold = getattr(by_name.get(ref.source), "kind", "jira") == "azure-devops"
        has_label = _has(current.labels, label, casefold=casefold)
        if ref in orphans and not has_label:
            operations.append(
                Operation(
                    source=ref.source,
                    key=ref.key,
                    kind=OperationKind.LABELS,
                    add_labels=(label,),
                    reason=f"orphan ({orphans[ref].reason})",
                )
            )
        elif ref not in orphans and has_label:
            operations.append(
                Operation(
                    source=ref.source,
                    key=ref.key,
                    kind=OperationKind.LABELS,
                    remove_labels=(label,),
                    reason="no longer an orphan",
                )
            )
        wanted = desired_comments.get(ref)
        if wanted is not None:
            doc, why = wanted
            if current.comment_hash != comment_hash(doc):
                operations.append(
                    Operation(
                        source=ref.source,
                        key=ref.key,
                        kind=OperationKind.UPSERT_COMMENT,
                        comment=doc,
                        reason=why,
                    )
                )
        elif current.comment_hash is not None:
            operations.append(
                Operation(
                    source=ref.source,
                    key=ref.key,
                    kind=OperationKind.DELETE_COMMENT,
                    reason="finding resolved",
                )
            )
    return operations
