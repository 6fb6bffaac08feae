"""Diagnostics from OKR practice: what looks wrong with the OKRs or the flow, and what to do.

Only findings that fire are listed. Thresholds come from ``settings.analysis.thresholds``.

============================ ======== =========================================================
code                         severity fires when
============================ ======== =========================================================
``too_many_objectives``      warning  at least ``too_many_objectives_warn`` (12) active objectives
                             error    more than ``too_many_objectives`` (15)
``output_krs``               warning  more than ``output_krs_share`` (40%) of active KRs are outputs
``score_clustering``         warning  of at least 3 scored KRs, ``score_cluster_share`` (60%) or
                                      more score within [``score_cluster_low``,
                                      ``score_cluster_high``] (0.7-0.9) and the scores' standard
                                      deviation is at most ``score_cluster_max_stdev`` (0.1)
``all_green``                info     at least 3 active KRs, every one scored at or above
                                      ``on_track_score`` (0.7)
``kr_without_target``        warning  an active KR of the OKR file has no ``target`` (tracker KRs
                                      cannot carry one and are left out)
``objective_without_krs``    warning  an active objective has no KRs
``wip_over_limit``           warning  an objective's effective WIP is above its ``wip_limit``
                                      (one finding per objective)
``low_alignment``            warning  aligned share of WIP below ``low_alignment`` (60%)
============================ ======== =========================================================
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence

from linesight.analysis.result import Diagnostic, KeyResultResult, ObjectiveResult
from linesight.model import KeyResult, Objective
from linesight.settings import Thresholds

__all__ = ["MIN_SCORED_KRS", "diagnose"]

MIN_SCORED_KRS = 3
"""``score_clustering`` and ``all_green`` need this many KRs: fewer say nothing."""


def _ids(values: Sequence[str], limit: int = 8) -> str:
    shown = ", ".join(values[:limit])
    return shown + (f" and {len(values) - limit} more" if len(values) > limit else "")


def _too_many_objectives(active: int, limits: Thresholds) -> list[Diagnostic]:
    if active > limits.too_many_objectives:
        severity, threshold = "error", limits.too_many_objectives
    elif active >= limits.too_many_objectives_warn:
        severity, threshold = "warning", limits.too_many_objectives_warn
    else:
        return []
    return [
        Diagnostic(
            code="too_many_objectives",
            severity=severity,
            value=active,
            threshold=threshold,
            message=(
                f"{active} active objectives: focus suffers beyond a handful; merge or drop "
                f"objectives until at most {limits.too_many_objectives_warn - 1} remain"
            ),
        )
    ]


def _output_krs(krs: Sequence[KeyResultResult], limits: Thresholds) -> list[Diagnostic]:
    if not krs:
        return []
    outputs = [kr.id for kr in krs if kr.kind == "output"]
    share = len(outputs) / len(krs)
    if share <= limits.output_krs_share:
        return []
    return [
        Diagnostic(
            code="output_krs",
            severity="warning",
            value=round(share, 4),
            threshold=limits.output_krs_share,
            message=(
                f"{len(outputs)} of {len(krs)} key results describe outputs (activities or "
                f"deliverables) rather than outcomes: {_ids(outputs)}; rewrite them as the change "
                "in a measurable result the work should cause (from X to Y)"
            ),
            subjects=outputs,
        )
    ]


def _score_clustering(krs: Sequence[KeyResultResult], limits: Thresholds) -> list[Diagnostic]:
    scores = [kr.score for kr in krs if kr.score is not None]
    if len(scores) < MIN_SCORED_KRS:
        return []
    low, high = limits.score_cluster_low, limits.score_cluster_high
    inside = [kr.id for kr in krs if kr.score is not None and low <= kr.score <= high]
    share = len(inside) / len(scores)
    spread = statistics.pstdev(scores)
    if share < limits.score_cluster_share or spread > limits.score_cluster_max_stdev:
        return []
    return [
        Diagnostic(
            code="score_clustering",
            severity="warning",
            value=round(share, 4),
            threshold=limits.score_cluster_share,
            message=(
                f"{len(inside)} of {len(scores)} scored key results sit between {low} and {high} "
                f"(standard deviation {spread:.2f}): scores this bunched suggest grading to "
                "expectations; check the current values against the data"
            ),
            subjects=inside,
        )
    ]


def _all_green(krs: Sequence[KeyResultResult], limits: Thresholds) -> list[Diagnostic]:
    if len(krs) < MIN_SCORED_KRS:
        return []
    on_track = limits.on_track_score
    if any(kr.score is None or kr.score < on_track for kr in krs):
        return []
    return [
        Diagnostic(
            code="all_green",
            severity="info",
            value=1.0,
            threshold=on_track,
            message=(
                f"all {len(krs)} key results score {on_track} or more: OKRs are meant to stretch; "
                "if every one is on track, set more ambitious targets next cycle"
            ),
        )
    ]


def _kr_without_target(krs: Sequence[KeyResult]) -> list[Diagnostic]:
    missing = [kr.id for kr in krs if kr.origin is None and kr.target is None]
    if not missing:
        return []
    return [
        Diagnostic(
            code="kr_without_target",
            severity="warning",
            value=len(missing),
            threshold=0,
            message=(
                f"{len(missing)} key results have no target: {_ids(missing)}; add baseline, "
                "target and current in the OKR file so progress can be scored"
            ),
            subjects=missing,
        )
    ]


def _objective_without_krs(objectives: Sequence[Objective]) -> list[Diagnostic]:
    empty = [o.id for o in objectives if not o.key_results]
    if not empty:
        return []
    return [
        Diagnostic(
            code="objective_without_krs",
            severity="warning",
            value=len(empty),
            threshold=0,
            message=(
                f"{len(empty)} active objectives have no key results: {_ids(empty)}; add two to "
                "five measurable key results each, or drop the objective"
            ),
            subjects=empty,
        )
    ]


def _wip_over_limit(results: Sequence[ObjectiveResult]) -> list[Diagnostic]:
    return [
        Diagnostic(
            code="wip_over_limit",
            severity="warning",
            value=round(o.effective_wip, 4),
            threshold=o.wip_limit,
            message=(
                f"objective {o.id} has {o.effective_wip:.1f} items in progress against a limit "
                f"of {o.wip_limit}: finish work before starting more"
            ),
            subjects=[o.id],
        )
        for o in results
        if o.over_limit and o.wip_limit is not None
    ]


def _low_alignment(share: float | None, wip: int, limits: Thresholds) -> list[Diagnostic]:
    if share is None or share >= limits.low_alignment:
        return []
    return [
        Diagnostic(
            code="low_alignment",
            severity="warning",
            value=round(share, 4),
            threshold=limits.low_alignment,
            message=(
                f"only {share:.0%} of {wip} items in progress serve an active key result: link "
                "the work to its key result (label, field or work: entry) or stop it"
            ),
        )
    ]


def diagnose(
    *,
    active_objectives: Sequence[Objective],
    active_krs: Sequence[KeyResult],
    kr_results: Sequence[KeyResultResult],
    objective_results: Sequence[ObjectiveResult],
    aligned_wip_share: float | None,
    wip: int,
    thresholds: Thresholds,
) -> list[Diagnostic]:
    """Every diagnostic that fires, in the order of the table above."""
    return [
        *_too_many_objectives(len(active_objectives), thresholds),
        *_output_krs(kr_results, thresholds),
        *_score_clustering(kr_results, thresholds),
        *_all_green(kr_results, thresholds),
        *_kr_without_target(active_krs),
        *_objective_without_krs(active_objectives),
        *_wip_over_limit(objective_results),
        *_low_alignment(aligned_wip_share, wip, thresholds),
    ]
