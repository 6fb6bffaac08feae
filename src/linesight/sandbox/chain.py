"""Fast ``and`` / ``or`` chains of compiled predicates, shared by the JQL and WIQL evaluators."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

__all__ = ["chain"]

T = TypeVar("T")


def chain(parts: list[Callable[[T], bool]], conjunction: bool) -> Callable[[T], bool]:
    """``a and b and ...`` (or ``a or b or ...``) of ``parts``, short-circuiting in order.

    Up to four parts make one closure (each closure call costs as much as a simple test).
    """
    if len(parts) > 4:
        parts = [*parts[:3], chain(parts[3:], conjunction)]
    if len(parts) == 1:
        return parts[0]
    if len(parts) == 2:
        a, b = parts
        if conjunction:
            return lambda x: a(x) and b(x)
        return lambda x: a(x) or b(x)
    if len(parts) == 3:
        a, b, c = parts
        if conjunction:
            return lambda x: a(x) and b(x) and c(x)
        return lambda x: a(x) or b(x) or c(x)
    a, b, c, d = parts
    if conjunction:
        return lambda x: a(x) and b(x) and c(x) and d(x)
    return lambda x: a(x) or b(x) or c(x) or d(x)
