"""Tiny hand-built organisations for the graph and analysis tests."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from linesight.analysis import Analysis, analyze
from linesight.graph.rules import QueryMatches
from linesight.model import KeyResult, Link, Objective, StatusCategory, WorkItem
from linesight.settings import Settings

NOW = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)
CYCLE = "2026-Q4"

JIRA = {"name": "jira", "kind": "jira", "url": "https://pay.example", "projects": ["PAY"]}
ADO = {
    "name": "ado",
    "kind": "azure-devops",
    "url": "https://dev.azure.com/fabrikam",
    "project": "Fabrikam",
}
_STATUS = {"todo": "To Do", "in_progress": "In Progress", "done": "Done"}


def days_ago(days: float) -> datetime:
    return NOW - timedelta(days=days)


def item(
    key: str,
    category: str = "todo",
    *,
    source: str = "jira",
    parent: str | None = None,
    labels: Iterable[str] = (),
    kr_refs: Iterable[str] = (),
    links: Iterable[tuple[str, str]] = (),
    type: str = "Story",
    **extra: Any,
) -> WorkItem:
    return WorkItem(
        source=source,
        key=key,
        type=type,
        title=f"title of {key}",
        status=extra.pop("status", _STATUS[category]),
        status_category=StatusCategory(category),
        parent=parent,
        labels=tuple(labels),
        kr_refs=tuple(kr_refs),
        links=tuple(Link(kind=kind, target=target) for kind, target in links),
        url=f"https://example.test/{source}/{key}",
        **extra,
    )


def kr(kr_id: str, title: str | None = None, **fields: Any) -> KeyResult:
    fields.setdefault("objective", "")
    return KeyResult(id=kr_id, title=title or f"Raise metric {kr_id} from 2% to 3%", **fields)


def objective(objective_id: str, *krs: KeyResult, cycle: str = CYCLE, **fields: Any) -> Objective:
    owned = tuple(k.model_copy(update={"objective": objective_id}) for k in krs)
    return Objective(
        id=objective_id, title=f"objective {objective_id}", cycle=cycle, key_results=owned, **fields
    )


def settings(
    *,
    sources: Sequence[Mapping[str, Any]] = (JIRA, ADO),
    links: Mapping[str, bool] | None = None,
    **analysis: Any,
) -> Settings:
    return Settings(
        sources=tuple(dict(s) for s in sources),
        links=dict(links or {}),
        analysis=analysis,
    )


def run(
    objectives: Sequence[Objective],
    items: Iterable[WorkItem],
    *,
    config: Settings | None = None,
    query_matches: QueryMatches | None = None,
) -> Analysis:
    return analyze(
        objectives,
        items,
        cycle=CYCLE,
        settings=config or settings(),
        query_matches=query_matches,
        now=NOW,
    )


def orphan_reasons(analysis: Analysis) -> dict[str, str]:
    return {o.key: o.reason for o in analysis.result.orphans}


def kr_result(analysis: Analysis, kr_id: str) -> Any:
    (found,) = [k for k in analysis.result.key_results if k.id == kr_id]
    return found


def objective_result(analysis: Analysis, objective_id: str) -> Any:
    (found,) = [o for o in analysis.result.objectives if o.id == objective_id]
    return found
