"""A whole WIQL query compiled against the fields and a context: a :class:`Plan`."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from linesight.sandbox.chain import chain
from linesight.sandbox.wiql.errors import WiqlError
from linesight.sandbox.wiql.fields import Field, FieldRegistry
from linesight.sandbox.wiql.predicates import Predicate, compile_condition, sort_key
from linesight.sandbox.wiql.query import BoolOp, Condition, Expr, Not, Query
from linesight.sandbox.wiql.values import Context, date_value, number_value, text_value

__all__ = ["Plan", "compile_query"]


@dataclass(slots=True)
class Plan:
    """A compiled query: the filter, hints to narrow the scan, and the output columns."""

    predicate: Predicate
    select: list[Field]
    order_by: list[tuple[Field, bool]]
    id_low: int | None = None  # inclusive bounds on System.Id implied by top-level ANDs
    id_high: int | None = None
    projects: frozenset[str] | None = None  # casefolded project names implied by top-level ANDs
    # every match changed at or after this (a top-level ChangedDate >= / >; day precision
    # widened by a day): the scan may start from an index of changed dates
    changed_from: datetime | None = None
    # the top-level AND's conditions, each compiled on its own: (condition, filter, role);
    # role "id" (exact id bounds, above), "changed" (changed_from's) or "" (anything else)
    conjuncts: list[tuple[Expr, Predicate, str]] = field(default_factory=list)
    _keys: dict[str, Callable[[Mapping[str, Any]], Any]] = field(default_factory=dict)

    def sort(self, rows: list[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
        """``rows`` (work item field dicts) in the query's order; by id when it names none.

        ``rows`` may come in any order; in ascending id order they are not sorted again when
        the query asks for just that.
        """
        by_id = all(entry.ref == "System.Id" and not desc for entry, desc in self.order_by)
        if by_id and _ascending_ids(rows):
            return rows
        rows = sorted(rows, key=lambda f: f.get("System.Id", 0))
        for entry, descending in reversed(self.order_by):
            if entry.ref == "System.Id":
                rows.sort(key=lambda f: f.get("System.Id", 0), reverse=descending)
                continue
            key = sort_key(entry)
            present = [r for r in rows if r.get(entry.ref) is not None]
            missing = [r for r in rows if r.get(entry.ref) is None]
            present.sort(key=key, reverse=descending)
            # Empty values sort first ascending and last descending, as in Azure DevOps.
            rows = present + missing if descending else missing + present
        return rows


def _ascending_ids(rows: list[Mapping[str, Any]]) -> bool:
    ids = [f.get("System.Id", 0) for f in rows]
    return ids == sorted(ids)  # linear on sorted input


def compile_query(query: Query, fields: FieldRegistry, context: Context) -> Plan:
    """Resolve fields and values of ``query``; raise :class:`WiqlError` like the service."""
    select = [_resolve(fields, name) for name in query.select]
    order = [(_resolve(fields, name), desc) for name, desc in query.order_by]
    if query.where is None:
        return Plan(lambda _f: True, select, order)
    predicate = _compile(query.where, fields, context)
    plan = Plan(predicate, select, order)
    conjuncts = (
        query.where.parts
        if isinstance(query.where, BoolOp) and query.where.op == "and"
        else (query.where,)
    )
    for part in conjuncts:
        role = _narrow(plan, part, fields, context) if isinstance(part, Condition) else ""
        plan.conjuncts.append((part, _compile(part, fields, context), role))
    return plan


def _resolve(fields: FieldRegistry, name: str) -> Field:
    found = fields.resolve(name)
    if found is None:
        raise WiqlError(
            f"TF51005: The query references a field that does not exist. "
            f"The error is caused by «[{name}]»."
        )
    return found


def _narrow(plan: Plan, cond: Condition, fields: FieldRegistry, context: Context) -> str:
    """Narrow the scan by ``cond`` where it can; its role (see :attr:`Plan.conjuncts`)."""
    target = _resolve(fields, cond.field)
    if target.ref == "System.Id" and cond.op in ("=", ">", ">=", "<", "<="):
        number = int(number_value(cond.values[0], target))
        low = {"=": number, ">": number + 1, ">=": number}.get(cond.op)
        high = {"=": number, "<": number - 1, "<=": number}.get(cond.op)
        if low is not None:
            plan.id_low = low if plan.id_low is None else max(plan.id_low, low)
        if high is not None:
            plan.id_high = high if plan.id_high is None else min(plan.id_high, high)
        return "id"
    if target.ref == "System.ChangedDate" and cond.op in (">=", ">") and cond.values:
        moment = date_value(cond.values[0], target, context)
        if not context.time_precision:
            moment -= timedelta(days=1)  # compared by day: a day earlier is surely early enough
        plan.changed_from = moment if plan.changed_from is None else max(plan.changed_from, moment)
        return "changed"
    if target.ref == "System.TeamProject" and cond.op in ("=", "in"):
        names = frozenset(text_value(v, target, context).casefold() for v in cond.values)
        plan.projects = names if plan.projects is None else plan.projects & names
    return ""


def _compile(expr: Expr, fields: FieldRegistry, context: Context) -> Predicate:
    if isinstance(expr, BoolOp):
        members = list(expr.parts)
        if expr.op == "and":
            # Conditions have no side effects, so an AND may test them in any order: date and
            # number comparisons first, they are cheap, and ChangedDate >= ... (what changed
            # lately) is the most selective test there is.
            members.sort(key=lambda part: _cost(part, fields))
        parts = [_compile(p, fields, context) for p in members]
        # chained closures, not all()/any() over a generator: a query runs over every item
        return chain(parts, expr.op == "and")
    if isinstance(expr, Not):
        inner = _compile(expr.inner, fields, context)
        return lambda f: not inner(f)
    return compile_condition(expr, _resolve(fields, expr.field), context)


def _cost(expr: Expr, fields: FieldRegistry) -> int:
    """Which of an AND's conditions to test first: 0 dates, 1 numbers, 2 anything else."""
    if isinstance(expr, Condition) and expr.op not in ("contains", "notcontains"):
        found = fields.resolve(expr.field)
        if found is not None and found.kind == "dateTime":
            return 0
        if found is not None and found.kind in ("integer", "double"):
            return 1
    return 2
