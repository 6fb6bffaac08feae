"""JQL for a Jira source: quoting, and the scope every query of the connector is bounded by.

Untrusted text (project keys and issue types from settings, KR queries from ``okrs.yaml``, keys
from a tracker) reaches JQL only through :func:`quote`; numbers are formatted as integers. Every
query the connector sends is ``(<scope>) AND (<condition>) ORDER BY id ASC``, so nothing it asks
for can leave the configured projects / types / extra JQL.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo

from linesight.errors import ConfigError
from linesight.settings import JiraSource

__all__ = [
    "ORDER_BY_ID",
    "Scope",
    "id_range",
    "keys_in",
    "quote",
    "strip_order_by",
    "updated_since",
]

ORDER_BY_ID = "ORDER BY id ASC"

# JQL string literals take backslash escapes (https://support.atlassian.com/jira-software-cloud/
# docs/jql-fields/#Reserved-characters); control characters would end the query early or be
# rejected, so they are escaped too.
_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"}
_NEEDS_ESCAPE = re.compile(r'[\\"\n\r\t]')
_QUOTED = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'', re.DOTALL)
_ORDER_BY = re.compile(r"\border\s+by\b", re.IGNORECASE)


def quote(value: str) -> str:
    """``value`` as a JQL string literal: ``PAY`` -> ``"PAY"``, ``a"b`` -> ``"a\\"b"``."""
    return '"' + _NEEDS_ESCAPE.sub(lambda m: _ESCAPES[m.group()], value) + '"'


def _in_list(field: str, values: Iterable[str]) -> str:
    return f"{field} in ({', '.join(quote(v) for v in values)})"


def keys_in(keys: Iterable[str]) -> str:
    """``key in ("PAY-1", "PAY-2")`` (quoted: keys come from the tracker and from OKR files)."""
    return _in_list("key", keys)


def id_range(after: int | None, up_to: int | None) -> str:
    """``id > after AND id <= up_to``; either bound may be open. Ids are numbers, not text."""
    parts = []
    if after is not None:
        parts.append(f"id > {int(after)}")
    if up_to is not None:
        parts.append(f"id <= {int(up_to)}")
    return " AND ".join(parts)


def updated_since(since: datetime, zone: tzinfo = UTC) -> str:
    """``updated >= "yyyy-MM-dd HH:mm"`` in the time zone Jira reads JQL dates in.

    JQL dates are minute-precise and interpreted in the *user's* profile time zone, so the
    watermark is converted to ``zone`` and floored to the minute (never rounded up, which could
    skip an edit made in that minute).
    """
    if since.tzinfo is None:
        since = since.replace(tzinfo=UTC)
    local = since.astimezone(zone).replace(second=0, microsecond=0)
    return f"updated >= {quote(local.strftime('%Y-%m-%d %H:%M'))}"


def _strip_literals(jql: str) -> str:
    # Same length as the input, so positions found in the result are positions in ``jql``.
    return _QUOTED.sub(lambda m: '"' + " " * (len(m.group()) - 2) + '"', jql)


def strip_order_by(jql: str) -> str:
    """``jql`` without a trailing ``ORDER BY ...`` (ignoring ``order by`` inside literals).

    A KR's ``jql:`` query is ANDed into the connector's own query, where an ORDER BY would be a
    syntax error; its order does not matter for matching.
    """
    match = _ORDER_BY.search(_strip_literals(jql))
    return jql[: match.start()].strip() if match else jql.strip()


@dataclass(frozen=True, slots=True)
class Scope:
    """What a source covers: projects, issue types (plus the OKR types) and extra JQL."""

    projects: tuple[str, ...]
    issue_types: tuple[str, ...]
    extra: str | None

    @classmethod
    def from_source(cls, source: JiraSource) -> Scope:
        """The scope of ``source``. OKR types are added to a type restriction so that
        objectives and key results living in Jira are synced whatever ``issue_types`` says."""
        if not source.projects and not source.jql:
            raise ConfigError(
                f"source '{source.name}': a Jira source needs 'projects' or 'jql' "
                "to bound its scope"
            )
        types: tuple[str, ...] = ()
        if source.issue_types:
            seen: dict[str, None] = {}
            for name in (*source.issue_types, *source.objective_types, *source.key_result_types):
                seen.setdefault(name, None)
            types = tuple(seen)
        extra = source.jql.strip() if source.jql and source.jql.strip() else None
        if extra is not None and _ORDER_BY.search(_strip_literals(extra)):
            raise ConfigError(
                f"source '{source.name}': jql: remove the ORDER BY clause "
                "(linesight orders its own queries)"
            )
        return cls(projects=tuple(source.projects), issue_types=types, extra=extra)

    @property
    def clause(self) -> str:
        """The scope as one JQL condition (no ORDER BY)."""
        parts = []
        if self.projects:
            parts.append(_in_list("project", self.projects))
        if self.issue_types:
            parts.append(_in_list("issuetype", self.issue_types))
        if self.extra:
            parts.append(f"({self.extra})")
        return " AND ".join(parts)

    def query(self, *conditions: str, order_by: str = ORDER_BY_ID) -> str:
        """``<scope> AND (<condition>)... ORDER BY ...``; empty conditions are left out.

        Conditions must already be JQL built from :func:`quote`d values (or a user's KR query,
        which is bracketed so its ``OR`` cannot escape the scope).
        """
        parts = [self.clause, *(f"({c})" for c in conditions if c)]
        where = " AND ".join(parts)
        return f"{where} {order_by}".strip()
