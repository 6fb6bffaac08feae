"""Checks on what a request carries: its method, api-version and query parameters."""

from __future__ import annotations

import re
from typing import Any

from linesight.sandbox.ado.errors import VSS, AdoError, bad_request
from linesight.sandbox.wiql import parse_datetime
from linesight.sandbox.wire import Request

__all__ = ["allow", "check_as_of", "check_version", "int_arg", "parse_expand"]


_VERSION = re.compile(r"^(\d+)\.(\d+)(-preview(\.\d+)?)?$")
_LATEST = (7, 2)
_WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def allow(request: Request, *methods: str) -> None:
    """Refuse (405) a method other than ``methods``."""
    if request.method not in methods:
        raise AdoError(
            405,
            f"The requested resource does not support http method '{request.method}'.",
            "HttpResponseException",
            namespace="System.Web.Http",
            headers={"Allow": ", ".join(methods)},
        )


def check_version(request: Request, *, preview_only: bool) -> None:
    """Refuse an api-version missing on a write, malformed, too new, or lacking -preview."""
    version = request.arg("api-version")
    if version is None:
        match = re.search(r"api-version\s*=\s*([^;,\s]+)", request.headers.get("accept", ""))
        version = match.group(1) if match else None
    if version is None:
        if request.method in _WRITE_METHODS:
            raise AdoError(
                400,
                f'No api-version was supplied for the "{request.method}" request. The version '
                'must be supplied either as part of the Accept header (e.g. "application/json; '
                'api-version=1.0") or as a query parameter (e.g. "?api-version=1.0").',
                "VssVersionNotSpecifiedException",
                namespace=VSS,
            )
        return
    parsed = _VERSION.match(version)
    if parsed is None:
        raise AdoError(
            400,
            f"The api-version '{version}' is not valid.",
            "VssInvalidApiVersionException",
            namespace=VSS,
        )
    requested = (int(parsed.group(1)), int(parsed.group(2)))
    if requested > _LATEST:
        raise AdoError(
            400,
            f"The requested REST API version of {requested[0]}.{requested[1]} is out of range "
            f"for this server. The latest REST API version this server supports is "
            f"{_LATEST[0]}.{_LATEST[1]}.",
            "VssVersionOutOfRangeException",
            namespace=VSS,
        )
    if preview_only and parsed.group(3) is None:
        raise AdoError(
            400,
            f'The requested version "{version}" of the resource is under preview. The -preview '
            "flag must be supplied in the api-version for such requests. For example: "
            f'"{version}-preview"',
            "VssInvalidPreviewVersionException",
            namespace=VSS,
        )


def int_arg(request: Request, name: str) -> int | None:
    """Query parameter ``name`` as a non-negative whole number, or ``None``."""
    raw = request.arg(name)
    if raw is None or raw == "":
        return None
    try:
        value = int(raw)
    except ValueError:
        raise bad_request(
            f"The {name} parameter must be a whole number, got {raw!r}.", "ArgumentException"
        ) from None
    if value < 0:
        raise bad_request(f"The {name} parameter must not be negative.", "ArgumentException")
    return value


def parse_expand(value: Any) -> tuple[bool, bool]:
    """``(relations, links)`` for a ``$expand`` value (case-insensitive)."""
    folded = str(value).casefold() if value is not None else "none"
    if folded not in ("none", "relations", "fields", "links", "all"):
        raise bad_request(
            f"The $expand value {value!r} is not valid (None, Relations, Fields, Links or All).",
            "ArgumentException",
        )
    return folded in ("relations", "all"), folded in ("links", "all")


def check_as_of(value: Any) -> None:
    """Refuse an ``asOf`` that is not a date-time."""
    # The sandbox keeps no history: asOf is accepted (clients send the WIQL's asOf back) and
    # answered with the current revision.
    if value is not None and parse_datetime(value) is None:
        raise bad_request(
            f"The asOf value {value!r} is not a valid date-time.", "ArgumentException"
        )
