"""A parsed flat WIQL query: its select list, condition tree and sort order."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["BoolOp", "Condition", "Expr", "Not", "Query", "Value"]


@dataclass(frozen=True, slots=True)
class Value:
    """A literal or macro on the right of a condition."""

    kind: str  # string | number | macro
    text: str  # the string's content, the number, or the macro name without '@'
    offset: int = 0  # @Today - 7 -> -7
    source: str = ""  # as written, for error messages


@dataclass(frozen=True, slots=True)
class Condition:
    field: str
    op: str  # = <> > >= < <= in notin under notunder contains notcontains
    # containswords notcontainswords isempty isnotempty
    values: tuple[Value, ...]


@dataclass(frozen=True, slots=True)
class BoolOp:
    op: str  # and | or
    parts: tuple[Expr, ...]


@dataclass(frozen=True, slots=True)
class Not:
    inner: Expr


Expr = Condition | BoolOp | Not


@dataclass(frozen=True, slots=True)
class Query:
    """A parsed flat query."""

    select: tuple[str, ...]
    where: Expr | None
    order_by: tuple[tuple[str, bool], ...]  # (field, descending)
