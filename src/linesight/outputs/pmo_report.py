"""``linesight report``: the orphan-work report the PMO reviews.

:func:`render_report` turns one :class:`~linesight.analysis.result.AnalysisResult` (plus the
totals of past runs, for the trend chart, and the sources whose sync failed) into:

- ``html`` — one self-contained page: no network when viewed (inline CSS, inline SVG charts),
  printable;
- ``md`` — Markdown for a Confluence/wiki page or a PR comment (GFM tables);
- ``csv`` — one row per orphan (the SPEC's orphan columns first), UTF-8 **with a byte-order
  mark** so that Excel opens it as UTF-8 (a plain UTF-8 file shows ``Ã©`` for ``é`` there); text
  that a spreadsheet would run as a formula starts with ``'``;
- ``json`` — the same report as data.

Order everywhere: totals and trend first; orphans grouped by team (items without a team by
project), the largest group first, oldest orphan first within a group; unsupported and stalled
key results; WIP per objective against its limit; the diagnostics, each with what to do.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, get_args

from markupsafe import Markup
from pydantic import ValidationError

from linesight.analysis.result import (
    AnalysisResult,
    Diagnostic,
    KeyResultResult,
    ObjectiveResult,
    Orphan,
)
from linesight.errors import UserError
from linesight.outputs import escape
from linesight.trend import Trend

__all__ = [
    "CSV_COLUMNS",
    "DIAGNOSTIC_ADVICE",
    "ReportFormat",
    "SnapshotPoint",
    "build_report",
    "reason_text",
    "render_report",
]

ReportFormat = Literal["html", "md", "csv", "json"]

CSV_COLUMNS = (
    # the SPEC's orphan object, in its order
    "source",
    "key",
    "type",
    "title",
    "status",
    "reason",
    "age_days",
    "team",
    "url",
    # extra
    "project",
    "status_category",
    "named_krs",
    "reason_text",
)

DIAGNOSTIC_ADVICE: Mapping[str, tuple[str, str]] = {
    # code: (what it means, what to do)
    "too_many_objectives": (
        "With many objectives at once, none gets the focus it needs and teams spread thin.",
        "Keep a handful of objectives: merge overlapping ones, move the rest to a later cycle.",
    ),
    "output_krs": (
        "Many key results describe work to deliver (ship, launch, build) rather than the change "
        "it should cause, so finishing the work looks like success whatever happens.",
        "Rewrite them as outcomes (raise X from a to b); keep the deliverables as work linked "
        "to the key result.",
    ),
    "score_clustering": (
        "Scores bunched between 0.7 and 0.9 with little spread usually mean safe targets or "
        "scores given by feel rather than measured.",
        "Score from the metric, and set stretch targets that land around 0.6-0.7 on average.",
    ),
    "all_green": (
        "Every key result is on track: the targets may not be ambitious, or progress is not "
        "measured.",
        "Check the current values against the data, and raise targets that are sure to be met.",
    ),
    "kr_without_target": (
        "A key result without a target cannot be scored, so nobody can tell whether it is met.",
        "Give it a baseline and a target in the OKR file.",
    ),
    "objective_without_krs": (
        "An objective with no key results has no measure of success and no work can align to it.",
        "Add two to four measurable key results, or drop the objective from this cycle.",
    ),
    "wip_over_limit": (
        "More work is in flight for the objective than its limit: everything takes longer and "
        "less gets finished.",
        "Stop starting, start finishing: pull no new work for it until WIP is under the limit; "
        "close or park stalled items.",
    ),
    "low_alignment": (
        "A low share of the work in progress serves an active objective.",
        "Go through the orphans below with each team: link the work to a key result, or stop it.",
    ),
}

_SEVERITY_ORDER = {"error": 0, "warning": 1, "info": 2}
_TREND_LIST_LIMIT = 25


@dataclass(frozen=True, slots=True)
class SnapshotPoint:
    """The totals of one past run, for the orphan-share chart."""

    at: datetime
    orphan_count: int
    orphan_share: float | None
    aligned_wip: float

    @classmethod
    def of(cls, result: AnalysisResult) -> SnapshotPoint:
        """The point for one analysis result."""
        summary = result.summary
        return cls(
            at=result.generated_at,
            orphan_count=summary.orphan_count,
            orphan_share=summary.orphan_share,
            aligned_wip=float(summary.aligned_wip),
        )


def reason_text(orphan: Orphan) -> str:
    """Why an item is an orphan, in words."""
    named = ", ".join(orphan.named_krs)
    if orphan.reason == "unknown_kr":
        noun = (
            "key results that do not exist"
            if len(orphan.named_krs) > 1
            else ("a key result that does not exist")
        )
        return f"names {noun}: {named}" if named else f"names {noun}"
    if orphan.reason == "inactive_kr":
        return (
            f"linked only to inactive key results: {named}"
            if named
            else ("linked only to inactive key results")
        )
    return "no link to any key result"


def _age(days: float | None) -> str:
    if days is None:
        return "—"
    whole = int(days)
    return "today" if whole == 0 else ("1 day" if whole == 1 else f"{whole:,} days")


@dataclass(frozen=True, slots=True)
class OrphanRow:
    orphan: Orphan
    reason: str
    age: str
    url: str | None
    group: str


@dataclass(frozen=True, slots=True)
class OrphanGroup:
    name: str
    team: str | None
    project: str | None
    rows: list[OrphanRow]

    @property
    def oldest_days(self) -> float | None:
        return self.rows[0].orphan.age_days if self.rows else None


@dataclass(frozen=True, slots=True)
class DiagnosticRow:
    diagnostic: Diagnostic
    meaning: str
    advice: str


@dataclass(frozen=True, slots=True)
class ObjectiveDeltaRow:
    id: str
    title: str
    effective_wip: float
    previous: float | None
    delta: float


@dataclass(frozen=True, slots=True)
class TrendView:
    trend: Trend
    new_orphans: list[str]
    resolved_orphans: list[str]
    more_new: int
    more_resolved: int
    objectives: list[ObjectiveDeltaRow]

    @property
    def share_points(self) -> float | None:
        """The change of the orphan share in percentage points."""
        delta = self.trend.orphan_share_delta
        return None if delta is None else delta * 100


@dataclass(frozen=True, slots=True)
class Report:
    """Everything a report format shows, in the order it shows it."""

    result: AnalysisResult
    groups: list[OrphanGroup]
    unsupported: list[KeyResultResult]
    objectives: list[ObjectiveResult]
    objective_titles: dict[str, str]
    diagnostics: list[DiagnosticRow]
    trend: TrendView | None
    trend_problem: str | None
    history: list[SnapshotPoint]
    source_errors: list[tuple[str, str]]


def _group_name(orphan: Orphan) -> tuple[str, str | None, str | None]:
    if orphan.team:
        return orphan.team, orphan.team, None
    project = orphan.project or orphan.source
    return f"{project} (no team)", None, project


def _oldest_first(orphan: Orphan) -> tuple[float, str, str]:
    return (-(orphan.age_days if orphan.age_days is not None else -1.0), orphan.source, orphan.key)


def _trend(result: AnalysisResult) -> tuple[TrendView | None, str | None]:
    if result.trend is None:
        return None, None
    try:
        trend = Trend.model_validate(result.trend)
    except ValidationError as exc:
        return None, f"the trend data of this run could not be read ({exc.error_count()} problems)"
    titles = {o.id: o.title for o in result.objectives}
    rows = [
        ObjectiveDeltaRow(
            id=d.id,
            title=titles.get(d.id, ""),
            effective_wip=d.effective_wip,
            previous=d.previous_effective_wip,
            delta=d.delta,
        )
        for d in trend.objectives
    ]
    return (
        TrendView(
            trend=trend,
            new_orphans=trend.new_orphans[:_TREND_LIST_LIMIT],
            resolved_orphans=trend.resolved_orphans[:_TREND_LIST_LIMIT],
            more_new=max(0, len(trend.new_orphans) - _TREND_LIST_LIMIT),
            more_resolved=max(0, len(trend.resolved_orphans) - _TREND_LIST_LIMIT),
            objectives=rows,
        ),
        None,
    )


def build_report(
    result: AnalysisResult,
    *,
    history: Sequence[SnapshotPoint] = (),
    source_errors: Mapping[str, str] | None = None,
) -> Report:
    """The report's content, independent of the format."""
    grouped: dict[str, tuple[str | None, str | None, list[OrphanRow]]] = {}
    for orphan in sorted(result.orphans, key=_oldest_first):
        name, team, project = _group_name(orphan)
        row = OrphanRow(
            orphan=orphan,
            reason=reason_text(orphan),
            age=_age(orphan.age_days),
            url=escape.safe_url(orphan.url),
            group=name,
        )
        grouped.setdefault(name, (team, project, []))[2].append(row)
    groups = [
        OrphanGroup(name=name, team=team, project=project, rows=rows)
        for name, (team, project, rows) in grouped.items()
    ]
    # the largest group first; teams before project fall-backs; then by name
    groups.sort(key=lambda g: (-len(g.rows), g.team is None, g.name.casefold()))
    unsupported = sorted(
        (kr for kr in result.key_results if kr.status != "supported"),
        key=lambda kr: (kr.status != "unsupported", kr.objective, kr.id),
    )
    diagnostics = sorted(
        (DiagnosticRow(d, *DIAGNOSTIC_ADVICE.get(d.code, ("", ""))) for d in result.diagnostics),
        key=lambda row: (_SEVERITY_ORDER.get(row.diagnostic.severity, 3), row.diagnostic.code),
    )
    trend, problem = _trend(result)
    past = sorted((p for p in history if p.at < result.generated_at), key=lambda p: p.at)
    return Report(
        result=result,
        groups=groups,
        unsupported=unsupported,
        objectives=[o for o in result.objectives if o.active],
        objective_titles={o.id: o.title for o in result.objectives},
        diagnostics=diagnostics,
        trend=trend,
        trend_problem=problem,
        history=[*past, SnapshotPoint.of(result)],
        source_errors=sorted((source_errors or {}).items()),
    )


def render_report(
    result: AnalysisResult,
    fmt: ReportFormat,
    *,
    history: Sequence[SnapshotPoint] = (),
    source_errors: Mapping[str, str] | None = None,
) -> str:
    """The orphan-work report in ``fmt`` (``html``, ``md``, ``csv`` or ``json``), as text.

    Args:
        result: The analysis of this run.
        fmt: The output format.
        history: Totals of earlier runs, any order, for the orphan-share chart (html) and the
            ``history`` list (json); the current run is added from ``result``.
        source_errors: Source name -> why its sync failed; the report says its data is stale.

    The CSV text starts with a byte-order mark (``\\ufeff``): write it as UTF-8 as it is.

    Raises:
        UserError: an unknown format.
    """
    report = build_report(result, history=history, source_errors=source_errors)
    if fmt == "csv":
        return _csv(report)
    if fmt == "json":
        return json.dumps(report_data(report), ensure_ascii=False, indent=2) + "\n"
    if fmt == "md":
        from linesight.outputs.templating import markdown_environment

        template = markdown_environment().get_template("report.md.j2")
        return template.render(r=report, s=result.summary, link=_md_link)
    if fmt == "html":
        from linesight.outputs.charts import kr_status_chart, orphan_share_chart, wip_chart
        from linesight.outputs.templating import environment

        charts = {
            "wip": Markup(wip_chart(report.objectives)),  # noqa: S704 - SVG from pygal's writer
            "share": Markup(orphan_share_chart(report.history)),  # noqa: S704 - as above
            "krs": Markup(kr_status_chart(report.objectives, result.key_results)),  # noqa: S704
        }
        template = environment().get_template("report.html.j2")
        return template.render(r=report, s=result.summary, charts=charts)
    raise UserError(
        f"unknown report format '{fmt}' (choose one of: {', '.join(get_args(ReportFormat))})"
    )


def _md_link(text: str, url: str | None) -> Markup:
    """A Markdown link with escaped text and a percent-encoded target (plain text without one)."""
    label = escape.markdown(text)
    return Markup(f"[{label}]({url})" if url else label)  # noqa: S704 - both parts escaped


def _csv(report: Report) -> str:
    buffer = io.StringIO()
    # the BOM makes Excel read the file as UTF-8; csv's default \r\n line ends are RFC 4180
    buffer.write("\ufeff")
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    for group in report.groups:
        for row in group.rows:
            o = row.orphan
            values: dict[str, object] = {
                **o.model_dump(mode="json"),
                "named_krs": " ".join(o.named_krs),
                "reason_text": row.reason,
            }
            writer.writerow([escape.csv_cell(values[column]) for column in CSV_COLUMNS])
    return buffer.getvalue()


def report_data(report: Report) -> dict[str, Any]:
    """The report as JSON-ready data (what ``--format json`` writes)."""
    result = report.result
    return {
        "report": "orphan-work",
        "generated_at": result.generated_at.isoformat(),
        "cycle": result.cycle,
        "summary": result.summary.model_dump(mode="json"),
        "source_errors": dict(report.source_errors),
        "trend": None if report.trend is None else report.trend.trend.model_dump(mode="json"),
        "groups": [
            {
                "name": g.name,
                "team": g.team,
                "project": g.project,
                "orphan_count": len(g.rows),
                "oldest_age_days": g.oldest_days,
            }
            for g in report.groups
        ],
        "orphans": [
            {**row.orphan.model_dump(mode="json"), "group": row.group, "reason_text": row.reason}
            for g in report.groups
            for row in g.rows
        ],
        "unsupported_key_results": [kr.model_dump(mode="json") for kr in report.unsupported],
        "objectives": [o.model_dump(mode="json") for o in report.objectives],
        "diagnostics": [
            {**d.diagnostic.model_dump(mode="json"), "meaning": d.meaning, "advice": d.advice}
            for d in report.diagnostics
        ],
        "history": [
            {
                "at": p.at.isoformat(),
                "orphan_count": p.orphan_count,
                "orphan_share": p.orphan_share,
                "aligned_wip": p.aligned_wip,
            }
            for p in report.history
        ],
        "data_warnings": list(result.graph_warnings),
    }
