"""The change since the previous run: new and resolved orphans, WIP delta per objective.

Pure: two analysis results in, one :class:`Trend` out. The nightly job stores it in
``AnalysisResult.trend`` so ``analysis.json`` and the report carry it.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from linesight.analysis.result import AnalysisResult

__all__ = ["ObjectiveDelta", "Trend", "compute_trend"]


class ObjectiveDelta(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    effective_wip: float
    previous_effective_wip: float | None = Field(description="None: new objective")
    delta: float


class Trend(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    previous_generated_at: datetime
    orphan_count_delta: int
    orphan_share_delta: float | None
    aligned_wip_delta: float
    unsupported_kr_count_delta: int
    new_orphans: list[str] = Field(description="'source:key' of orphans that are new")
    resolved_orphans: list[str] = Field(description="'source:key' no longer orphans")
    objectives: list[ObjectiveDelta]


def _orphan_ids(result: AnalysisResult) -> set[str]:
    return {f"{o.source}:{o.key}" for o in result.orphans}


def compute_trend(current: AnalysisResult, previous: AnalysisResult) -> Trend:
    """What changed from ``previous`` to ``current`` (both analyses of the same organisation)."""
    now_ids, before_ids = _orphan_ids(current), _orphan_ids(previous)
    before_wip = {o.id: o.effective_wip for o in previous.objectives}
    share_now, share_before = current.summary.orphan_share, previous.summary.orphan_share
    return Trend(
        previous_generated_at=previous.generated_at,
        orphan_count_delta=current.summary.orphan_count - previous.summary.orphan_count,
        orphan_share_delta=(
            None if share_now is None or share_before is None else share_now - share_before
        ),
        aligned_wip_delta=current.summary.aligned_wip - previous.summary.aligned_wip,
        unsupported_kr_count_delta=(
            current.summary.unsupported_kr_count - previous.summary.unsupported_kr_count
        ),
        new_orphans=sorted(now_ids - before_ids),
        resolved_orphans=sorted(before_ids - now_ids),
        objectives=[
            ObjectiveDelta(
                id=o.id,
                effective_wip=o.effective_wip,
                previous_effective_wip=before_wip.get(o.id),
                delta=o.effective_wip - before_wip.get(o.id, 0.0),
            )
            for o in current.objectives
        ],
    )
