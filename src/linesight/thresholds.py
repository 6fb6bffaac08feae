"""``--fail-on`` thresholds: ``orphan_share>0.2``, ``unsupported_kr_count>=3``, ``errors>0``.

A breached threshold makes ``linesight run`` / ``analyze`` exit 3, so a CI schedule can fail on
alignment as it fails on tests. The metric is any number in the summary, or ``diagnostics`` /
``errors`` / ``warnings`` (counts of diagnostics by severity).
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from linesight.analysis.result import AnalysisResult
from linesight.errors import UserError

__all__ = ["Threshold", "breached", "parse_thresholds"]

_OPS: dict[str, Callable[[float, float], bool]] = {
    ">=": operator.ge,
    "<=": operator.le,
    "==": operator.eq,
    "!=": operator.ne,
    ">": operator.gt,
    "<": operator.lt,
}
_EXPR = re.compile(r"^\s*([a-z_]+)\s*(>=|<=|==|!=|>|<)\s*(-?\d+(?:\.\d+)?)\s*$")
_COUNTS = ("diagnostics", "errors", "warnings")


@dataclass(frozen=True, slots=True)
class Threshold:
    metric: str
    op: str
    value: float

    def __str__(self) -> str:
        return f"{self.metric}{self.op}{self.value:g}"


def _metrics(result: AnalysisResult) -> dict[str, float | None]:
    numbers: dict[str, float | None] = {
        k: v
        for k, v in result.summary.model_dump().items()
        if isinstance(v, int | float) or v is None
    }
    numbers["diagnostics"] = len(result.diagnostics)
    numbers["errors"] = sum(d.severity == "error" for d in result.diagnostics)
    numbers["warnings"] = sum(d.severity == "warning" for d in result.diagnostics)
    return numbers


def parse_thresholds(expressions: Iterable[str]) -> list[Threshold]:
    """Parse ``--fail-on`` values (each may hold several, comma-separated)."""
    from linesight.analysis.result import Summary

    known = sorted(
        {n for n, f in Summary.model_fields.items() if f.annotation in (int, float, float | None)}
        | set(_COUNTS)
    )
    thresholds = []
    for expression in expressions:
        for part in filter(None, (p.strip() for p in expression.split(","))):
            match = _EXPR.match(part)
            if match is None:
                raise UserError(
                    f"--fail-on '{part}': expected METRIC OP NUMBER, e.g. 'orphan_share>0.2'"
                )
            metric, op, value = match.groups()
            if metric not in known:
                raise UserError(
                    f"--fail-on '{part}': unknown metric '{metric}' (known: {', '.join(known)})"
                )
            thresholds.append(Threshold(metric, op, float(value)))
    return thresholds


def breached(result: AnalysisResult, thresholds: Iterable[Threshold]) -> list[str]:
    """The thresholds the result breaches, as readable lines (empty: none)."""
    metrics = _metrics(result)
    lines = []
    for threshold in thresholds:
        actual = metrics.get(threshold.metric)
        if actual is not None and _OPS[threshold.op](float(actual), threshold.value):
            lines.append(f"{threshold}: {threshold.metric} is {actual:g}")
    return lines
