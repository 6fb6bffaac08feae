"""The analyser: orphaned work, unsupported key results and effective WIP per objective.

:func:`analyze` is pure: OKRs and synced items in, an :class:`Analysis` out — the JSON-ready
:class:`~linesight.analysis.result.AnalysisResult` and the annotated
:class:`~linesight.graph.LineOfSightGraph`. The definitions live in the module docstrings of
:mod:`.orphans` (aligned / orphan / done, orphan reasons), :mod:`.krs` (KR status), :mod:`.wip`
(WIP level, effective WIP), :mod:`.flow` (throughput, lead time, WIP age) and
:mod:`.diagnostics`.

*Active* means: an objective of the active ``cycle`` that is not closed, and the KRs it lists.
The result lists the objectives of the active cycle (closed ones with ``active: false``) and the
active KRs; objectives of other cycles only matter as the reason ``inactive_kr``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from linesight.analysis.diagnostics import diagnose
from linesight.analysis.flow import flow_by_objective, lead_time_days, percentile
from linesight.analysis.krs import kr_results
from linesight.analysis.orphans import ALIGNED, DONE, ORPHAN, Alignment, align, orphan_rows
from linesight.analysis.result import (
    AnalysisResult,
    Diagnostic,
    KeyResultResult,
    ObjectiveResult,
    Orphan,
    Summary,
    TeamAlignment,
)
from linesight.analysis.wip import WipUnit, wip_units
from linesight.graph.build import LineOfSightGraph, LinkIndex, build_graph
from linesight.graph.rules import QueryMatches
from linesight.model import KeyResult, Objective, StatusCategory, WorkItem
from linesight.settings import Settings

__all__ = [
    "Analysis",
    "AnalysisResult",
    "Diagnostic",
    "KeyResultResult",
    "ObjectiveResult",
    "Orphan",
    "Summary",
    "analyze",
]

_STATE_NAMES = {ALIGNED: "aligned", ORPHAN: "orphan", DONE: "done"}


@dataclass(frozen=True, slots=True)
class Analysis:
    """What :func:`analyze` returns: the result document and the graph behind it."""

    result: AnalysisResult
    graph: LineOfSightGraph


def _share(part: int, whole: int) -> float | None:
    return None if whole == 0 else round(part / whole, 4)


def _round(value: float | None, digits: int = 1) -> float | None:
    return None if value is None else round(value, digits)


def _teams(index: LinkIndex, units: Sequence[WipUnit], alignment: Alignment) -> list[TeamAlignment]:
    wip: dict[str | None, list[int]] = {}
    for unit in units:
        tally = wip.setdefault(index.items[unit.position].team, [0, 0])
        tally[0] += 1
        tally[1] += 1 if unit.objectives else 0
    orphans: dict[str | None, int] = {}
    for position in alignment.reasons:
        team = index.items[position].team
        orphans[team] = orphans.get(team, 0) + 1
    teams = sorted(wip.keys() | orphans.keys(), key=lambda t: (t is None, t or ""))
    return [
        TeamAlignment(
            team=team,
            wip=wip.get(team, [0, 0])[0],
            aligned_wip=wip.get(team, [0, 0])[1],
            aligned_wip_share=_share(wip.get(team, [0, 0])[1], wip.get(team, [0, 0])[0]),
            orphan_count=orphans.get(team, 0),
        )
        for team in teams
    ]


def analyze(
    objectives: Sequence[Objective],
    items: Iterable[WorkItem],
    *,
    cycle: str,
    settings: Settings,
    query_matches: QueryMatches | None = None,
    now: datetime,
) -> Analysis:
    """Link the items to the OKRs and answer the three questions, with diagnostics.

    Args:
        objectives: Objectives from the OKR file, every cycle (``okrs.load_okrs(...).objectives``).
        items: Every synced item of every source (consumed once).
        cycle: The active cycle.
        settings: Sources, link-rule switches and ``analysis`` (WIP level, window, thresholds).
        query_matches: The items each KR's ``jql:``/``wiql:`` entries matched (link rule 5):
            ``{kr_id: refs}``, or ``{kr_id: {query: refs}}`` as ``Store.query_matches()`` gives.
        now: The analysis time; ages and the throughput window are measured from it.
    """
    graph = build_graph(
        objectives, items, settings=settings, query_matches=query_matches, cycle=cycle
    )
    index = graph.index
    level = settings.analysis.wip_level

    in_cycle = [o for o in index.objectives if o.cycle == cycle]
    active_objectives = [o for o in in_cycle if not o.closed]
    active_kr: dict[str, str] = {}
    active_krs: list[KeyResult] = []
    for objective in active_objectives:
        for kr in objective.key_results:
            if index.kr_objective.get(kr.id) == objective.id:  # duplicates: the first one wins
                active_kr[kr.id] = objective.id
                active_krs.append(kr)

    alignment = align(index, active_kr, hierarchy=settings.links.hierarchy)
    units = wip_units(index, alignment, level)
    flows = flow_by_objective(
        index,
        alignment,
        units,
        (o.id for o in in_cycle),
        level=level,
        window_days=settings.analysis.throughput_window_days,
        now=now,
    )
    weeks = settings.analysis.throughput_window_days / 7.0

    objective_results: list[ObjectiveResult] = []
    for objective in in_cycle:
        figures = flows[objective.id]
        throughput = figures.done_weight / weeks
        effective = figures.effective_wip
        objective_results.append(
            ObjectiveResult(
                id=objective.id,
                title=objective.title,
                effective_wip=effective,
                wip_count=figures.wip_count,
                wip_limit=objective.wip_limit,
                over_limit=objective.wip_limit is not None and effective > objective.wip_limit,
                throughput_per_week=round(throughput, 3),
                lead_time_days=_round(lead_time_days(effective, throughput)),
                wip_age_p50_days=_round(percentile(figures.ages, 0.5)),
                wip_age_p85_days=_round(percentile(figures.ages, 0.85)),
                cycle=objective.cycle,
                owner=objective.owner,
                active=not objective.closed,
                key_results=[kr.id for kr in objective.key_results],
                source=objective.origin.source if objective.origin else None,
            )
        )

    krs = kr_results(index, active_krs, active_kr)
    orphans = orphan_rows(index, alignment, now=now)
    counts = {ALIGNED: 0, ORPHAN: 0, DONE: 0}
    in_progress = 0
    doing = StatusCategory.IN_PROGRESS
    for position in index.work:
        counts[alignment.state[position]] += 1
        in_progress += index.items[position].status_category is doing
    aligned_wip = sum(1 for unit in units if unit.objectives)
    open_items = counts[ALIGNED] + counts[ORPHAN]
    aligned_wip_share = _share(aligned_wip, len(units))
    summary = Summary(
        work_items=len(index.items),
        in_scope=len(index.work),
        in_progress=in_progress,
        aligned_wip=aligned_wip,
        orphan_count=counts[ORPHAN],
        orphan_share=_share(counts[ORPHAN], open_items),
        unsupported_kr_count=sum(1 for kr in krs if kr.status != "supported"),
        done=counts[DONE],
        aligned=counts[ALIGNED],
        wip=len(units),
        wip_level=level,
        aligned_wip_share=aligned_wip_share,
        active_objectives=len(active_objectives),
        active_key_results=len(active_krs),
        teams=_teams(index, units, alignment),
    )
    diagnostics = diagnose(
        active_objectives=active_objectives,
        active_krs=active_krs,
        kr_results=krs,
        objective_results=objective_results,
        aligned_wip_share=aligned_wip_share,
        wip=len(units),
        thresholds=settings.analysis.thresholds,
    )
    result = AnalysisResult(
        generated_at=now,
        cycle=cycle,
        summary=summary,
        objectives=objective_results,
        key_results=krs,
        orphans=orphans,
        diagnostics=diagnostics,
        graph_warnings=list(index.warnings),
    )
    _annotate(graph, alignment, units, krs, objective_results, active_kr)
    return Analysis(result=result, graph=graph)


def _annotate(
    graph: LineOfSightGraph,
    alignment: Alignment,
    units: Sequence[WipUnit],
    krs: Sequence[KeyResultResult],
    objective_results: Sequence[ObjectiveResult],
    active_kr: Mapping[str, str],
) -> None:
    counted = {unit.position for unit in units}

    def item_attrs(position: int) -> dict[str, Any]:
        reason = alignment.reasons.get(position)
        return {
            "state": _STATE_NAMES.get(alignment.state[position]),
            "orphan": reason is not None,
            "orphan_reason": reason[0] if reason else None,
            "objectives": list(alignment.objectives[position]),
            "wip": position in counted,
        }

    kr_attrs: dict[str, dict[str, Any]] = {
        kr_id: {"active": kr_id in active_kr} for kr_id in graph.index.key_results
    }
    for kr in krs:
        kr_attrs[kr.id].update(
            status=kr.status,
            unsupported=kr.status != "supported",
            kr_kind=kr.kind,
            kr_kind_reason=kr.kind_reason,
        )
    objective_attrs: dict[str, dict[str, Any]] = {
        o.id: {"active": False} for o in graph.index.objectives
    }
    for o in objective_results:
        objective_attrs[o.id].update(
            active=o.active,
            effective_wip=o.effective_wip,
            wip_count=o.wip_count,
            over_limit=o.over_limit,
        )
    graph.annotate(items=item_attrs, key_results=kr_attrs, objectives=objective_attrs)
