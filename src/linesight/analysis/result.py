"""The machine-readable analysis result: ``analysis.json``.

``AnalysisResult.model_dump(mode="json")`` is exactly the document the SPEC names under
"Machine-readable result" (every key it lists, with the same names), plus a few additive keys
marked *extra* below. Everything here is plain data: no graph, no settings, no I/O.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "AnalysisResult",
    "Diagnostic",
    "KeyResultResult",
    "KrStatus",
    "ObjectiveResult",
    "Orphan",
    "OrphanReason",
    "Severity",
    "Summary",
    "TeamAlignment",
]

OrphanReason = Literal["no_link", "unknown_kr", "inactive_kr"]
Severity = Literal["info", "warning", "error"]
KrStatus = Literal["supported", "unsupported", "stalled"]


class _Result(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class TeamAlignment(_Result):
    """*extra*: alignment of one team's WIP (team ``None``: items without a team)."""

    team: str | None
    wip: int = Field(description="in-progress items at the WIP level")
    aligned_wip: int = Field(description="of those, the ones serving an active objective")
    aligned_wip_share: float | None = Field(description="aligned_wip / wip; None without WIP")
    orphan_count: int = Field(description="orphans of this team (any status but done)")


class Summary(_Result):
    """Totals over every source."""

    work_items: int = Field(description="items received, including tracker OKR items")
    in_scope: int = Field(description="work items analysed: not OKR items, not Removed")
    in_progress: int = Field(description="in-scope items whose status category is in_progress")
    aligned_wip: int = Field(
        description="in-progress items at the WIP level that serve an active objective; "
        "equals the sum of effective_wip over objectives"
    )
    orphan_count: int
    orphan_share: float | None = Field(
        description="orphans / in-scope items not done; None when nothing is open"
    )
    unsupported_kr_count: int = Field(description="active KRs that are unsupported or stalled")
    # --- extra
    done: int = Field(description="in-scope items whose status category is done")
    aligned: int = Field(description="in-scope items not done that reach an active KR")
    wip: int = Field(description="in-progress items at the WIP level (aligned or not)")
    wip_level: Literal["leaf", "epic"]
    aligned_wip_share: float | None = Field(description="aligned_wip / wip; None without WIP")
    active_objectives: int
    active_key_results: int
    teams: list[TeamAlignment] = Field(default_factory=list)


class ObjectiveResult(_Result):
    """One objective of the active cycle (closed ones are listed with ``active: false``)."""

    id: str
    title: str
    effective_wip: float = Field(description="sum of 1/n over WIP items serving n objectives")
    wip_count: int = Field(description="WIP items serving this objective, each counted once")
    wip_limit: int | None
    over_limit: bool
    throughput_per_week: float = Field(description="items done per week (1/n weighted)")
    lead_time_days: float | None = Field(description="Little's law: effective_wip / throughput")
    wip_age_p50_days: float | None
    wip_age_p85_days: float | None
    # --- extra
    cycle: str
    owner: str | None
    active: bool
    key_results: list[str] = Field(default_factory=list)
    source: str | None = Field(default=None, description="tracker source, for tracker OKRs")


class KeyResultResult(_Result):
    """One key result of an active objective."""

    id: str
    objective: str
    title: str
    status: KrStatus
    supporting_items: int = Field(description="in-scope items that reach it, any status")
    in_progress_items: int = Field(description="of those, the ones in progress")
    score: float | None
    kind: Literal["outcome", "output"]
    kind_reason: str
    # --- extra
    status_reason: str
    todo_items: int
    done_items: int
    baseline: float | None = None
    target: float | None = None
    current: float | None = None
    source: str | None = Field(default=None, description="tracker source, for tracker KRs")


class Orphan(_Result):
    """An in-scope item, not done, that reaches no active key result."""

    source: str
    key: str
    type: str
    title: str
    status: str
    reason: OrphanReason
    age_days: float | None = Field(description="days since created (fallback: updated)")
    team: str | None
    url: str
    # --- extra
    project: str
    status_category: Literal["todo", "in_progress"]
    named_krs: list[str] = Field(
        default_factory=list,
        description="unknown_kr: the ids that match no KR; inactive_kr: the inactive KRs",
    )


class Diagnostic(_Result):
    """A finding from OKR practice, with what to do about it."""

    code: Literal[
        "too_many_objectives",
        "output_krs",
        "score_clustering",
        "all_green",
        "kr_without_target",
        "objective_without_krs",
        "wip_over_limit",
        "low_alignment",
    ]
    severity: Severity
    value: float
    threshold: float
    message: str
    # --- extra
    subjects: list[str] = Field(
        default_factory=list, description="the objective / KR ids the finding is about"
    )


class AnalysisResult(_Result):
    """The whole analysis. ``model_dump(mode="json")`` is ``analysis.json``."""

    generated_at: datetime
    cycle: str
    summary: Summary
    objectives: list[ObjectiveResult]
    key_results: list[KeyResultResult]
    orphans: list[Orphan]
    diagnostics: list[Diagnostic]
    # --- extra
    trend: dict[str, Any] | None = Field(
        default=None, description="filled by the nightly job: change since the last run"
    )
    graph_warnings: list[str] = Field(
        default_factory=list, description="problems in the data: parent cycles, dangling links"
    )
