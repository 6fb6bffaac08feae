"""The exception tree. Transient vs fatal is decided here, once.

::

    LinesightError                 base; ``str(e)`` is the one line a user sees
    ├── UserError                  the user's input is wrong; exit 2, no traceback
    │   ├── ConfigError            settings file / env / .env
    │   ├── OkrFileError           okrs.yaml (file:line: field: problem)
    │   ├── QueryError             a JQL / WIQL the tracker refused (400)
    │   └── UnknownConnectorError  a source names a connector that is not installed
    ├── TrackerError               a tracker answered in a way we cannot use; exit 1
    │   ├── AuthError              401 / 403: credentials or permissions
    │   ├── TransientError         429 / 5xx / dropped connection: retried by ``retry.py``
    │   └── PayloadError           a response that does not have the expected shape
    ├── StoreError                 the state store is unreadable or from a newer version
    ├── AlreadyRunningError        another run holds the lock
    └── NotYetAvailableError       a command whose feature has not landed; exit 2

Messages never contain secrets: URLs are redacted with :func:`redact_url` before they are
put into an exception.
"""

from __future__ import annotations

import re

__all__ = [
    "AlreadyRunningError",
    "AuthError",
    "ConfigError",
    "LinesightError",
    "NotYetAvailableError",
    "OkrFileError",
    "PayloadError",
    "QueryError",
    "StoreError",
    "TrackerError",
    "TransientError",
    "UnknownConnectorError",
    "UserError",
    "redact_url",
]


class LinesightError(Exception):
    """Base of every error linesight raises on purpose. ``str(e)`` is user-facing."""

    exit_code = 1


class UserError(LinesightError):
    """The user's input is wrong; they can fix it. Exit code 2."""

    exit_code = 2


class ConfigError(UserError):
    """Settings (TOML, environment, .env) are invalid or incomplete."""


class OkrFileError(UserError):
    """The OKR file is invalid. The message starts with ``file:line:``."""


class QueryError(UserError):
    """A tracker refused a JQL / WIQL query as invalid."""


class UnknownConnectorError(UserError):
    """A source needs a connector package that is not installed."""


class NotYetAvailableError(UserError):
    """The command exists but its feature has not been built yet."""


class TrackerError(LinesightError):
    """A tracker call failed for good (after retries, or not retryable)."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class AuthError(TrackerError):
    """401 (bad credentials) or 403 (missing permission)."""


class TransientError(TrackerError):
    """A failure worth retrying: 429, 5xx, a dropped connection.

    ``retry_after`` is the wait in seconds the server asked for, if it asked.
    """

    def __init__(
        self, message: str, *, status: int | None = None, retry_after: float | None = None
    ) -> None:
        super().__init__(message, status=status)
        self.retry_after = retry_after


class PayloadError(TrackerError):
    """A tracker response that does not have the shape its API documents."""


class StoreError(LinesightError):
    """The state store cannot be used (corrupt, or written by a newer linesight)."""


class AlreadyRunningError(LinesightError):
    """Another linesight run holds the lock on the state folder."""


_USERINFO = re.compile(r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://)[^/@\s]+@")
_SECRET_QUERY = re.compile(
    r"(?P<key>[?&](?:token|access_token|api[-_]?key|password|pat|sig)=)[^&#\s]+", re.IGNORECASE
)


def redact_url(url: str) -> str:
    """Remove credentials from a URL (user-info and secret-looking query parameters)."""
    url = _USERINFO.sub(r"\g<scheme>***@", url)
    return _SECRET_QUERY.sub(r"\g<key>***", url)
