"""One WIQL condition compiled to a filter over a work item's fields, and sort keys."""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, date, datetime
from functools import lru_cache
from typing import Any

from linesight.sandbox.wiql.errors import WiqlError
from linesight.sandbox.wiql.fields import Field
from linesight.sandbox.wiql.query import Condition
from linesight.sandbox.wiql.values import (
    Context,
    date_value,
    number_value,
    parse_datetime,
    path_value,
    text_value,
)

__all__ = ["Predicate", "compile_condition", "sort_key"]


Predicate = Callable[[Mapping[str, Any]], bool]


def compile_condition(cond: Condition, target: Field, context: Context) -> Predicate:
    """The filter for one condition on its resolved field ``target``."""
    op, ref, kind = cond.op, target.ref, target.kind
    if op in ("isempty", "isnotempty"):
        want_empty = op == "isempty"
        return lambda f: (f.get(ref) in (None, "")) is want_empty
    if op in ("under", "notunder"):
        if kind != "treePath":
            raise WiqlError(
                f"TF51006: The UNDER operator works on area and iteration paths only, not on "
                f"[{ref}]. The error is caused by «{cond.values[0].source}»."
            )
        path = path_value(cond.values[0], target, context)
        prefix = path + "\\"
        positive = op == "under"
        return _per_value(ref, lambda value: _under(value, path, prefix) is positive)
    if op.startswith("contains") or op.startswith("notcontains"):
        return _contains(cond, target, context)
    if kind in ("integer", "double"):
        return _compare_numbers(op, ref, [number_value(v, target) for v in cond.values])
    if kind == "dateTime":
        return _compare_dates(cond, target, context)
    if kind == "identity":
        wanted = {text_value(v, target, context).casefold() for v in cond.values}
        if any(v.kind == "macro" and v.text == "me" for v in cond.values):
            wanted |= {m.casefold() for m in context.me}
        return _compare_identity(op, ref, wanted, cond)
    if kind == "treePath":
        for value in cond.values:
            path_value(value, target, context)
    values = [text_value(v, target, context).casefold() for v in cond.values]
    return _compare_strings(op, ref, values)


def _under(value: Any, path: str, prefix: str) -> bool:
    if not isinstance(value, str):
        return False
    folded = value.casefold()
    return folded == path or folded.startswith(prefix)


def _contains(cond: Condition, target: Field, context: Context) -> Predicate:
    negate = cond.op.startswith("not")
    needle = text_value(cond.values[0], target, context).casefold()
    ref = target.ref
    if target.kind not in ("string", "plainText", "html", "treePath"):
        raise WiqlError(
            f"TF51006: The CONTAINS operator works on text fields only, not on [{ref}]. "
            f"The error is caused by «{cond.values[0].source}»."
        )
    if ref == "System.Tags":
        # Tags match whole tags, not substrings: CONTAINS 'KR1' does not match 'KR1.1'.
        def test(f: Mapping[str, Any]) -> bool:
            return needle in _tag_set(f.get(ref))

    elif cond.op.endswith("words"):
        pattern = re.compile(r"(?<!\w)" + re.escape(needle) + r"(?!\w)")

        def test(f: Mapping[str, Any]) -> bool:
            value = f.get(ref)
            return isinstance(value, str) and pattern.search(value.casefold()) is not None

    else:

        def test(f: Mapping[str, Any]) -> bool:
            value = f.get(ref)
            return isinstance(value, str) and needle in value.casefold()

    return (lambda f: not test(f)) if negate else test


@lru_cache(maxsize=65536)
def _tag_set(value: Any) -> frozenset[str]:
    if not isinstance(value, str) or not value:
        return frozenset()
    return frozenset(t.strip().casefold() for t in value.split(";") if t.strip())


def _compare_strings(op: str, ref: str, values: list[str]) -> Predicate:
    if op in ("in", "notin"):
        wanted = frozenset(values)
        inside = op == "in"
        return _per_value(ref, lambda v: (_folded(v) in wanted) is inside)
    value = values[0]
    if op == "=":
        return _per_value(ref, lambda v: _folded(v) == value)
    if op == "<>":
        return _per_value(ref, lambda v: _folded(v) != value)
    compare = _ORDERING[op]
    return _per_value(ref, lambda v: v is not None and compare(_folded(v), value))


_MEMO_LIMIT = 4096


def _per_value(ref: str, test: Callable[[Any], bool]) -> Predicate:
    """The filter ``test(fields[ref])``, remembered per distinct value.

    States, types, projects and paths repeat across thousands of items, so a query over every
    item casefolds each distinct value once. Values that are not hashable, and values past
    the first few thousand (titles, say), are simply tested.
    """
    memo: dict[Any, bool] = {}

    def predicate(f: Mapping[str, Any]) -> bool:
        value = f.get(ref)
        try:
            return memo[value]
        except KeyError:
            result = test(value)
            if len(memo) < _MEMO_LIMIT:
                memo[value] = result
            return result
        except TypeError:  # unhashable: a list or an identity dict
            return test(value)

    return predicate


def _folded(value: Any) -> str:
    if value is None:
        return ""
    return value.casefold() if isinstance(value, str) else str(value).casefold()


_ORDERING: dict[str, Callable[[Any, Any], bool]] = {
    ">": operator.gt,
    ">=": operator.ge,
    "<": operator.lt,
    "<=": operator.le,
}


def _compare_numbers(op: str, ref: str, values: list[float]) -> Predicate:
    if op in ("in", "notin"):
        wanted = frozenset(values)
        inside: Predicate = lambda f: f.get(ref) in wanted  # noqa: E731
        return inside if op == "in" else lambda f: not inside(f)
    value = values[0]
    if op == "=":
        return lambda f: f.get(ref) == value
    if op == "<>":
        return lambda f: f.get(ref) != value
    compare = _ORDERING[op]
    return lambda f: isinstance(f.get(ref), int | float) and compare(f[ref], value)


def _compare_identity(op: str, ref: str, wanted: set[str], cond: Condition) -> Predicate:
    if op not in ("=", "<>", "in", "notin"):
        raise WiqlError(
            f"TF51006: The operator {op!r} cannot be used with the identity field [{ref}]. "
            f"The error is caused by «{cond.values[0].source}»."
        )

    def matches(f: Mapping[str, Any]) -> bool:
        return not wanted.isdisjoint(_identity_names(f.get(ref)))

    return matches if op in ("=", "in") else lambda f: not matches(f)


def _identity_names(value: Any) -> set[str]:
    if isinstance(value, dict):
        display, unique = value.get("displayName"), value.get("uniqueName")
        names = {str(n).casefold() for n in (display, unique) if n}
        if display and unique:
            names.add(f"{display} <{unique}>".casefold())
        return names
    if isinstance(value, str) and value:
        names = {value.casefold()}
        match = re.match(r"^(.*?)\s*<([^>]+)>$", value)
        if match:
            names |= {match.group(1).casefold(), match.group(2).casefold()}
        return names
    return {""}


def _compare_dates(cond: Condition, target: Field, context: Context) -> Predicate:
    ref, op = target.ref, cond.op
    bounds = [date_value(v, target, context) for v in cond.values]
    if not context.time_precision:
        days = [b.date() for b in bounds]

        def day_of(f: Mapping[str, Any]) -> date | None:
            parsed = parse_datetime(f.get(ref))
            return parsed.date() if parsed is not None else None

        return _ordered(op, day_of, days)

    if op in _ORDERING:
        # the common ChangedDate >= '...' of incremental reads, tested on every item: inlined
        compare, bound = _ORDERING[op], bounds[0]

        def moment_in_range(f: Mapping[str, Any]) -> bool:
            moment = parse_datetime(f.get(ref))
            return moment is not None and compare(moment, bound)

        return moment_in_range

    def moment_of(f: Mapping[str, Any]) -> datetime | None:
        return parse_datetime(f.get(ref))

    return _ordered(op, moment_of, bounds)


def _ordered(op: str, get: Callable[[Mapping[str, Any]], Any], values: Sequence[Any]) -> Predicate:
    if op in ("in", "notin"):
        wanted = frozenset(values)
        inside: Predicate = lambda f: get(f) in wanted  # noqa: E731
        return inside if op == "in" else lambda f: not inside(f)
    value = values[0]
    if op == "=":
        return lambda f: get(f) == value
    if op == "<>":
        return lambda f: get(f) != value
    compare = _ORDERING[op]

    def test(f: Mapping[str, Any]) -> bool:
        current = get(f)
        return current is not None and compare(current, value)

    return test


def sort_key(entry: Field) -> Callable[[Mapping[str, Any]], Any]:
    """How rows sort by ``entry``: numbers, dates, identities or casefolded text."""
    ref = entry.ref
    if entry.kind in ("integer", "double"):
        return lambda f: f[ref]
    if entry.kind == "dateTime":
        return lambda f: parse_datetime(f[ref]) or datetime.min.replace(tzinfo=UTC)
    if entry.kind == "identity":
        return lambda f: sorted(_identity_names(f[ref]))[:1]
    return lambda f: _folded(f[ref])
