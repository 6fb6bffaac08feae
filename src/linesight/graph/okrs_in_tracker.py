"""Objectives and key results that live in a tracker, as Jira issue types / ADO work item types.

A source's ``objective_types`` and ``key_result_types`` name the item types that are OKRs rather
than work. Such items become :class:`~linesight.model.Objective` /
:class:`~linesight.model.KeyResult` values with id ``"<source>:<key>"`` (``jira:OKR-3``) and
are *not* work items: they are never orphans and never count as WIP.

- A tracker objective belongs to the active cycle; it is ``closed`` when its status category is
  ``done``. Its title is the item's title, its owner the item's team.
- A tracker KR belongs to the objective reached through its parent chain (the nearest ancestor of
  an objective type), else to an objective it is linked to (either side of an issue link /
  relation). A KR with neither gets objective ``""``: it is known (items naming it are
  ``inactive_kr`` orphans, not ``unknown_kr``) but serves no objective, and a warning says how
  to attach it. Tracker KRs carry no baseline/target, so their score is unknown.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from linesight.graph.rules import Lookup, SourceProfile
from linesight.model import KeyResult, Objective, StatusCategory, WorkItem

__all__ = ["TrackerOkrs", "okr_id", "tracker_okrs"]


def okr_id(item: WorkItem) -> str:
    """The id of an objective or KR living in a tracker: ``"<source>:<key>"``."""
    return f"{item.source}:{item.key}"


@dataclass(frozen=True, slots=True)
class TrackerOkrs:
    """The OKRs found among the synced items, and which items they are."""

    objectives: tuple[Objective, ...] = ()
    unattached_krs: tuple[KeyResult, ...] = ()  # KRs that reach no objective
    objective_items: Mapping[int, str] = field(default_factory=dict)  # item index -> id
    kr_items: Mapping[int, str] = field(default_factory=dict)  # item index -> id
    warnings: tuple[str, ...] = ()


def _objective_of(
    index: int,
    items: Sequence[WorkItem],
    keys: Mapping[str, int],
    objective_items: Mapping[int, str],
    linked_objective: Mapping[int, str],
) -> str | None:
    seen = {index}
    node = index
    while (parent_key := items[node].parent) is not None:
        parent = keys.get(parent_key)
        if parent is None or parent in seen:  # chain leaves the sync, or loops
            break
        if parent in objective_items:
            return objective_items[parent]
        seen.add(parent)
        node = parent
    for link in items[index].links:
        target = keys.get(link.target)
        if target is not None and target in objective_items:
            return objective_items[target]
    return linked_objective.get(index)


def tracker_okrs(
    items: Sequence[WorkItem],
    lookup: Lookup,
    profiles: Mapping[str, SourceProfile],
    *,
    cycle: str,
) -> TrackerOkrs:
    """Find the tracker OKRs among ``items`` (``lookup`` maps source/key to an index)."""
    okr_sources = {name for name, p in profiles.items() if p.objective_types or p.key_result_types}
    if not okr_sources:
        return TrackerOkrs()
    objective_items: dict[int, str] = {}
    kr_items: dict[int, str] = {}
    for index, item in enumerate(items):
        if item.source not in okr_sources:
            continue
        profile = profiles[item.source]
        kind = item.type.casefold()
        if kind in profile.objective_types:
            objective_items[index] = okr_id(item)
        elif kind in profile.key_result_types:
            kr_items[index] = okr_id(item)

    # an objective item may hold the link to its KR instead of the KR holding it
    linked_objective: dict[int, str] = {}
    for index, objective in objective_items.items():
        keys = lookup.get(items[index].source, {})
        for link in items[index].links:
            target = keys.get(link.target)
            if target is not None and target in kr_items:
                linked_objective.setdefault(target, objective)

    krs_of: dict[str, list[KeyResult]] = {objective: [] for objective in objective_items.values()}
    unattached: list[KeyResult] = []
    warnings: list[str] = []
    for index, kr_id in kr_items.items():
        item = items[index]
        keys = lookup.get(item.source, {})
        owner = _objective_of(index, items, keys, objective_items, linked_objective)
        kr = KeyResult(id=kr_id, objective=owner or "", title=item.title, origin=item.ref)
        if owner is None:
            unattached.append(kr)
            warnings.append(
                f"key result {kr_id} ({item.type} '{item.title[:60]}') belongs to no objective: "
                "give it a parent (or a link) of an objective type"
            )
        else:
            krs_of[owner].append(kr)

    objectives = tuple(
        Objective(
            id=objective,
            title=items[index].title,
            cycle=cycle,
            owner=items[index].team,
            closed=items[index].status_category is StatusCategory.DONE,
            key_results=tuple(krs_of[objective]),
            origin=items[index].ref,
        )
        for index, objective in objective_items.items()
    )
    return TrackerOkrs(
        objectives=objectives,
        unattached_krs=tuple(unattached),
        objective_items=objective_items,
        kr_items=kr_items,
        warnings=tuple(warnings),
    )
