"""A condition's values made concrete: dates, numbers, text and paths, macros resolved."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

from linesight.sandbox.wiql.errors import WiqlError
from linesight.sandbox.wiql.fields import ISO_DATE, Field
from linesight.sandbox.wiql.query import Value

__all__ = [
    "Context",
    "date_value",
    "number_value",
    "parse_datetime",
    "path_value",
    "text_value",
]


@dataclass(frozen=True, slots=True)
class Context:
    """What a query is evaluated against: the route's project, today, precision, the caller."""

    project: str | None
    now: datetime
    time_precision: bool = False
    me: tuple[str, ...] = ()
    # (field ref, path) -> does this area / iteration path exist?
    path_exists: Callable[[str, str], bool] | None = None


@lru_cache(maxsize=262144)
def _parse_cached(text: str) -> datetime | None:
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def parse_datetime(value: Any) -> datetime | None:
    """An aware UTC datetime from an ISO 8601 string, or ``None`` if it is not one."""
    return _parse_cached(value) if isinstance(value, str) else None


def date_value(value: Value, target: Field, context: Context) -> datetime:
    """A date literal or ``@Today [+/- days]`` (UTC); refuses a time of day under date precision."""
    if value.kind == "macro":
        if value.text != "today":
            raise _bad_macro(value, target)
        midnight = context.now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        return midnight + timedelta(days=value.offset)
    if value.kind != "string":
        raise WiqlError(
            f"TF51006: Expecting a date for field [{target.ref}]. "
            f"The error is caused by «{value.source}»."
        )
    parsed = parse_datetime(value.text) if ISO_DATE.match(value.text.strip()) else None
    if parsed is None:
        raise WiqlError(
            f"TF51006: The value is not a valid date for field [{target.ref}]. "
            f"The error is caused by «{value.source}»."
        )
    has_time = (parsed.hour, parsed.minute, parsed.second, parsed.microsecond) != (0, 0, 0, 0)
    if has_time and not context.time_precision:
        # The service's own (code-less) message; the fix is timePrecision=true on the request.
        raise WiqlError(
            "You cannot supply a time with the date when running a query using date precision. "
            f"The error is caused by «{value.source}».",
            type_key="WorkItemTrackingQueryException",
        )
    return parsed


def number_value(value: Value, target: Field) -> float:
    """A numeric literal for a number field."""
    if value.kind in ("number", "string"):
        try:
            number = float(value.text)
        except ValueError:
            pass
        else:
            return int(number) if number.is_integer() else number
    raise WiqlError(
        f"TF51006: Expecting a number for field [{target.ref}]. "
        f"The error is caused by «{value.source}»."
    )


def text_value(value: Value, target: Field, context: Context) -> str:
    """A string literal, or what ``@project`` / ``@Me`` stands for."""
    if value.kind == "macro":
        if value.text == "project":
            if context.project is None:
                raise WiqlError(
                    "TF51011: The @project macro needs a project: post the query to "
                    "{project}/_apis/wit/wiql. The error is caused by «@project»."
                )
            return context.project
        if value.text == "me" and target.kind == "identity":
            return context.me[0] if context.me else ""
        raise _bad_macro(value, target)
    return value.text


def path_value(value: Value, target: Field, context: Context) -> str:
    """An area or iteration path, casefolded; refused if it does not exist."""
    path = text_value(value, target, context).strip().strip("\\")
    if context.path_exists is not None and not context.path_exists(target.ref, path):
        noun = "area" if target.ref == "System.AreaPath" else "iteration"
        raise WiqlError(
            f"TF51011: The specified {noun} path does not exist. "
            f"The error is caused by «{value.source}»."
        )
    return path.casefold()


def _bad_macro(value: Value, target: Field) -> WiqlError:
    known = "@project, @Me, @Today"
    return WiqlError(
        f"TF51006: The macro @{value.text} cannot be used with field [{target.ref}] in the "
        f"linesight sandbox (supported: {known}). The error is caused by «{value.source}»."
    )
