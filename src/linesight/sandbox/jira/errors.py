"""How a Jira handler says no: :class:`HttpError`, and the 400 for a bad numeric parameter.

A handler raises :class:`HttpError` from wherever it finds the problem;
:meth:`~linesight.sandbox.jira.app.JiraApp.handle` turns it into Jira's error body,
``{"errorMessages": [...], "errors": {...}}``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["HttpError", "int_param"]


class HttpError(Exception):
    """An error answer, raised from deep inside a handler."""

    def __init__(
        self, status: int, messages: Sequence[str] = (), errors: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(status, messages)
        self.status = status
        self.messages = list(messages)
        self.errors = dict(errors or {})


def int_param(params: Mapping[str, Any], name: str, default: int, *, minimum: int) -> int:
    """Parameter ``name`` as an int of at least ``minimum``; Jira's 400 when it is not one."""
    raw = params.get(name, default)
    if isinstance(raw, bool):
        raw = default  # the jira library sends maxResults=False to mean "the default"
    try:
        value = int(raw)
    except (TypeError, ValueError):
        raise HttpError(
            400, [f"The value '{raw}' for the parameter '{name}' is not a valid number."]
        ) from None
    if value < minimum:
        raise HttpError(400, [f"'{name}' must be at least {minimum}, but was {value}."])
    return value
