"""Work in progress at the configured WIP level, and its effective share per objective.

The *WIP level* (``settings.analysis.wip_level``) says what one unit of WIP is:

- ``leaf`` (default) — an in-progress item counts unless one of its in-scope children is in
  progress too: the story counts, not also its epic; an epic in progress whose stories are all
  todo or done counts itself. The unit serves the active objectives the item reaches.
- ``epic`` — one unit per top-level item (an item whose parent is not an in-scope work item)
  that is in progress or has an in-progress descendant, whatever its own status. The unit serves
  the active objectives reached by the top-level item or by any of its in-progress descendants.

A unit serving ``n`` active objectives adds ``1/n`` to each one's *effective WIP*, so the sum over
objectives equals the number of aligned units (``aligned_wip``): nothing is counted twice. The
*raw* ``wip_count`` of an objective counts each of its units once.

A unit's *start* is when its work began: the item's ``started`` (fallback ``updated``, then
``created``); at the epic level, the earliest start among the top-level item (if in progress)
and its in-progress descendants. WIP age is days from the start to now.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from linesight.analysis.orphans import Alignment, as_utc
from linesight.graph.build import LinkIndex
from linesight.model import StatusCategory, WorkItem

__all__ = ["WipUnit", "item_start", "wip_units"]


@dataclass(frozen=True, slots=True)
class WipUnit:
    """One unit of WIP: the item that stands for it and the active objectives it serves."""

    position: int
    objectives: tuple[str, ...]
    start: datetime | None


def item_start(item: WorkItem) -> datetime | None:
    """When the item's work began: ``started``, else ``updated``, else ``created`` (as UTC)."""
    return as_utc(item.started or item.updated or item.created)


def _earliest(a: datetime | None, b: datetime | None) -> datetime | None:
    if a is None or b is None:
        return a or b
    return min(a, b)


def wip_units(
    index: LinkIndex, alignment: Alignment, level: Literal["leaf", "epic"]
) -> list[WipUnit]:
    """The units of WIP at ``level``, in item order."""
    items, parents = index.items, index.parents
    in_progress = StatusCategory.IN_PROGRESS
    doing = [p for p in index.work if items[p].status_category is in_progress]
    if level == "leaf":
        busy_parents = {parents[p] for p in doing if parents[p] >= 0}
        return [
            WipUnit(p, alignment.objectives[p], item_start(items[p]))
            for p in doing
            if p not in busy_parents
        ]

    root_of: dict[int, int] = {}
    objectives: dict[int, set[str]] = {}
    starts: dict[int, datetime | None] = {}
    for position in doing:
        path = []
        node = position
        while node not in root_of and parents[node] >= 0:
            path.append(node)
            node = parents[node]
        root = root_of.get(node, node)
        root_of[node] = root
        for visited in path:
            root_of[visited] = root
        if root not in objectives:
            objectives[root] = set(alignment.objectives[root])
            own = items[root]
            starts[root] = item_start(own) if own.status_category is in_progress else None
        objectives[root].update(alignment.objectives[position])
        if position != root:
            starts[root] = _earliest(starts[root], item_start(items[position]))
    return [
        WipUnit(root, tuple(sorted(objectives[root])), starts[root]) for root in sorted(objectives)
    ]
