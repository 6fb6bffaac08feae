"""Flow per objective: effective WIP, WIP age, throughput and Little's-law lead time.

- **Throughput** counts the items of an objective that reached ``done`` within the window
  (``settings.analysis.throughput_window_days``, ending now), per week. It counts the same kind of
  unit as the WIP level — at ``leaf`` level done items without in-scope children, at ``epic`` level
  done top-level items — and weighs an item serving ``n`` active objectives ``1/n``, like
  effective WIP. The finish time is ``resolved``, falling back to ``updated``.
- **Lead time** (Little's law): effective WIP / throughput, in days; ``None`` without throughput.
- **WIP age** p50/p85: percentiles (linear interpolation between closest ranks) of the days
  since each of the objective's WIP units started; ``None`` without WIP.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from linesight.analysis.orphans import Alignment, days_between
from linesight.analysis.wip import WipUnit
from linesight.graph.build import LinkIndex
from linesight.model import StatusCategory

__all__ = ["ObjectiveFlow", "flow_by_objective", "lead_time_days", "percentile"]


def percentile(values: Sequence[float], share: float) -> float | None:
    """The ``share`` (0..1) percentile of ``values`` by linear interpolation; None if empty."""
    if not values:
        return None
    ordered = sorted(values)
    rank = share * (len(ordered) - 1)
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def lead_time_days(effective_wip: float, throughput_per_week: float) -> float | None:
    """Little's law: time in the system = WIP / throughput (per week), in days."""
    if throughput_per_week <= 0:
        return None
    return effective_wip / throughput_per_week * 7.0


@dataclass(slots=True)
class ObjectiveFlow:
    """The flow figures of one objective, before rounding."""

    effective_wip: float = 0.0
    wip_count: int = 0
    ages: list[float] = field(default_factory=list)
    done_weight: float = 0.0


def flow_by_objective(
    index: LinkIndex,
    alignment: Alignment,
    units: Iterable[WipUnit],
    objective_ids: Iterable[str],
    *,
    level: Literal["leaf", "epic"],
    window_days: int,
    now: datetime,
) -> dict[str, ObjectiveFlow]:
    """Effective WIP, raw WIP count, WIP ages and done weight in the window, per objective."""
    flows = {objective: ObjectiveFlow() for objective in objective_ids}
    for unit in units:
        if not unit.objectives:
            continue
        share = 1.0 / len(unit.objectives)
        age = days_between(now, unit.start)
        for objective in unit.objectives:
            figures = flows[objective]
            figures.effective_wip += share
            figures.wip_count += 1
            if age is not None:
                figures.ages.append(age)

    items, parents = index.items, index.parents
    has_children = {parents[p] for p in index.work if parents[p] >= 0}
    done = StatusCategory.DONE
    for position in index.work:
        item = items[position]
        if item.status_category is not done:
            continue
        served = alignment.objectives[position]
        if not served:
            continue
        if (level == "leaf" and position in has_children) or (
            level == "epic" and parents[position] >= 0
        ):
            continue
        since = days_between(now, item.resolved or item.updated)
        if since is None or since < 0 or since > window_days:
            continue
        share = 1.0 / len(served)
        for objective in served:
            flows[objective].done_weight += share
    return flows
