"""Alignment of every in-scope item, and the orphans with their one reason.

An in-scope item is exactly one of:

- ``done`` — its status category is done (neither aligned nor orphaned, whatever it links to);
- ``aligned`` — not done, and it reaches at least one *active* KR (one of an open objective of the
  active cycle), directly or through its ancestors;
- ``orphan`` — not done, and it reaches no active KR.

An orphan's reason, first match wins:

1. ``unknown_kr`` — it or an ancestor names a KR id (label/tag or KR field) that matches no KR:
   most often a typo, and the fix is in the item;
2. ``inactive_kr`` — it reaches KRs, but they all belong to other cycles, closed objectives or
   no objective at all;
3. ``no_link`` — nothing links it or its ancestors to any KR.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from linesight.analysis.result import Orphan, OrphanReason
from linesight.graph.build import LinkIndex
from linesight.model import StatusCategory, WorkItem

__all__ = [
    "ALIGNED",
    "DONE",
    "ORPHAN",
    "Alignment",
    "align",
    "as_utc",
    "days_between",
    "orphan_rows",
]

ALIGNED, ORPHAN, DONE = 1, 2, 3  # values of Alignment.state; 0 = not an in-scope item
_NONE: tuple[str, ...] = ()
_OPEN_CATEGORY: dict[StatusCategory, Literal["todo", "in_progress"]] = {
    StatusCategory.TODO: "todo",
    StatusCategory.IN_PROGRESS: "in_progress",
}


@dataclass(slots=True)
class Alignment:
    """Per item: its state and the active objectives it serves (sorted ids)."""

    state: bytearray
    objectives: list[tuple[str, ...]]
    reasons: dict[int, tuple[OrphanReason, list[str]]]  # orphan -> reason, the KR ids named


def as_utc(moment: datetime | None) -> datetime | None:
    """``moment`` made timezone-aware; a naive datetime is taken as UTC."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


def days_between(now: datetime, then: datetime | None) -> float | None:
    """Days from ``then`` to ``now``; naive datetimes are taken as UTC."""
    if then is None:
        return None
    end = now if now.tzinfo is not None else now.replace(tzinfo=UTC)
    start = then if then.tzinfo is not None else then.replace(tzinfo=UTC)
    return (end - start).total_seconds() / 86400.0


def align(index: LinkIndex, active_kr: Mapping[str, str], *, hierarchy: bool) -> Alignment:
    """Classify every in-scope item; ``active_kr`` maps each active KR to its objective."""
    items = index.items
    effective = index.effective
    state = bytearray(len(items))
    objectives: list[tuple[str, ...]] = [_NONE] * len(items)
    # items under one epic share one KR set object, so this cache is hit almost every time
    cache: dict[frozenset[str], tuple[str, ...]] = {}
    done = StatusCategory.DONE
    reasons: dict[int, tuple[OrphanReason, list[str]]] = {}
    for position in index.work:
        reached = effective[position]
        served = cache.get(reached)
        if served is None:
            served = tuple(sorted({active_kr[k] for k in reached if k in active_kr}))
            cache[reached] = served
        objectives[position] = served
        if items[position].status_category is done:
            state[position] = DONE
        elif served:
            state[position] = ALIGNED
        else:
            state[position] = ORPHAN
            reasons[position] = _reason(index, position, hierarchy=hierarchy)
    return Alignment(state=state, objectives=objectives, reasons=reasons)


def _reason(index: LinkIndex, position: int, *, hierarchy: bool) -> tuple[OrphanReason, list[str]]:
    named: list[str] = []
    node = position
    while node >= 0:
        named.extend(index.unknown.get(node, ()))
        node = index.parents[node] if hierarchy else -1
    if named:
        return "unknown_kr", sorted(set(named))
    reached = index.effective[position]
    if reached:
        return "inactive_kr", sorted(reached)
    return "no_link", []


def _age(item: WorkItem, now: datetime) -> float | None:
    age = days_between(now, item.created or item.updated)
    return None if age is None else round(age, 1)


def orphan_rows(index: LinkIndex, alignment: Alignment, *, now: datetime) -> list[Orphan]:
    """The orphans, oldest first (then by source and key); age counts from ``created``."""
    rows: list[Orphan] = []
    items = index.items
    # every value below comes from validated WorkItems: skip re-validating ~10^5 rows
    build = Orphan.model_construct
    for position, (reason, named) in alignment.reasons.items():
        item = items[position]
        rows.append(
            build(
                source=item.source,
                key=item.key,
                type=item.type,
                title=item.title,
                status=item.status,
                reason=reason,
                age_days=_age(item, now),
                team=item.team,
                url=item.url,
                project=item.project,
                status_category=_OPEN_CATEGORY[item.status_category],
                named_krs=named,
            )
        )
    rows.sort(key=lambda r: (-(r.age_days if r.age_days is not None else -1.0), r.source, r.key))
    return rows
