"""Hand-built analysis results for tests of what consumes them (planner, trend, thresholds)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from linesight.analysis.result import AnalysisResult

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)


def orphan(source: str, key: str, reason: str = "no_link", **extra: Any) -> dict[str, Any]:
    return {
        "source": source,
        "key": key,
        "type": "Story",
        "title": f"title of {key}",
        "status": "In Progress",
        "reason": reason,
        "age_days": 10.0,
        "team": "Checkout",
        "url": f"https://example.test/browse/{key}",
        "project": key.split("-")[0],
        "status_category": "in_progress",
        "named_krs": [],
        **extra,
    }


def objective(oid: str, effective_wip: float = 0.0, **extra: Any) -> dict[str, Any]:
    return {
        "id": oid,
        "title": f"objective {oid}",
        "effective_wip": effective_wip,
        "wip_count": round(effective_wip),
        "wip_limit": None,
        "over_limit": False,
        "throughput_per_week": 1.0,
        "lead_time_days": None,
        "wip_age_p50_days": None,
        "wip_age_p85_days": None,
        "cycle": "2026-Q4",
        "owner": None,
        "active": True,
        "key_results": [],
        **extra,
    }


def key_result(
    kid: str, oid: str = "O1", status: str = "supported", **extra: Any
) -> dict[str, Any]:
    return {
        "id": kid,
        "objective": oid,
        "title": f"kr {kid}",
        "status": status,
        "supporting_items": 1,
        "in_progress_items": 1,
        "score": 0.5,
        "kind": "outcome",
        "kind_reason": "metric change",
        "status_reason": "",
        "todo_items": 0,
        "done_items": 0,
        **extra,
    }


def result(
    *,
    orphans: list[dict[str, Any]] = (),  # type: ignore[assignment]
    objectives: list[dict[str, Any]] = (),  # type: ignore[assignment]
    key_results: list[dict[str, Any]] = (),  # type: ignore[assignment]
    diagnostics: list[dict[str, Any]] = (),  # type: ignore[assignment]
    in_scope_open: int = 10,
    aligned_wip: float = 0.0,
    unsupported: int = 0,
    generated_at: datetime = NOW,
) -> AnalysisResult:
    orphans, objectives = list(orphans), list(objectives)
    return AnalysisResult.model_validate(
        {
            "generated_at": generated_at,
            "cycle": "2026-Q4",
            "summary": {
                "work_items": in_scope_open,
                "in_scope": in_scope_open,
                "in_progress": 5,
                "aligned_wip": aligned_wip,
                "orphan_count": len(orphans),
                "orphan_share": len(orphans) / in_scope_open if in_scope_open else None,
                "unsupported_kr_count": unsupported,
                "done": 0,
                "aligned": in_scope_open - len(orphans),
                "wip": 5,
                "wip_level": "leaf",
                "aligned_wip_share": None,
                "active_objectives": len(objectives),
                "active_key_results": len(list(key_results)),
                "teams": [],
            },
            "objectives": objectives,
            "key_results": list(key_results),
            "orphans": orphans,
            "diagnostics": list(diagnostics),
        }
    )
