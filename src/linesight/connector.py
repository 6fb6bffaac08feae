"""The Connector protocol and the entry-point registry.

A connector is an installable package that registers a class in the ``linesight.connectors``
entry point group under its kind (``jira``, ``azure-devops``). The core never imports a tracker
library; it finds connectors here::

    connector = open_connector(settings.source("pay"))
    for item in connector.fetch(since=None): ...

Sync is two calls, no mode flag: ``fetch(since)`` returns every in-scope item changed since the
watermark (``None``: every in-scope item), and ``list_keys()`` cheaply lists the keys currently in
scope so that deletions and moves out of scope are noticed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from importlib.metadata import entry_points
from typing import Protocol, runtime_checkable

from linesight.errors import UnknownConnectorError
from linesight.model import Operation, OperationResult, WorkItem
from linesight.settings import SourceSettings

__all__ = [
    "Check",
    "Connector",
    "ConnectorFactory",
    "CurrentState",
    "Progress",
    "Watermark",
    "available_connectors",
    "open_connector",
]

ENTRY_POINT_GROUP = "linesight.connectors"

Progress = Callable[[int, int | None], None]
"""``progress(done, total)`` — called by connectors as items arrive; total may be unknown."""


@dataclass(frozen=True, slots=True)
class Watermark:
    """Where the last successful sync of a source started (tz-aware UTC).

    Incremental sync asks for items updated at or after ``since``; the store keeps the *start*
    of the sync, minus a safety overlap, never the largest ``updated`` seen (JQL is
    minute-precise, and clocks drift).
    """

    since: datetime


@dataclass(frozen=True, slots=True)
class Check:
    """One finding of ``linesight doctor``."""

    name: str  # "url", "credentials", "permissions", "scope", ...
    ok: bool
    detail: str
    fix: str = ""


@dataclass(frozen=True, slots=True)
class CurrentState:
    """What an item carries now that write-back may change (read just before planning)."""

    labels: tuple[str, ...]
    managed_comment: str | None = None  # the managed comment's plain text, if there is one
    extra: Mapping[str, str] = field(default_factory=dict)


@runtime_checkable
class Connector(Protocol):
    """What every tracker connector provides. Constructed as ``Cls(source_settings)``."""

    def fetch(
        self, since: Watermark | None, progress: Progress | None = None
    ) -> Iterator[WorkItem]:
        """Every in-scope item updated at or after ``since`` (``None``: every in-scope item)."""
        ...

    def list_keys(self) -> set[str]:
        """The keys of every item currently in scope (cheap: ids only)."""
        ...

    def match(self, query: str) -> set[str]:
        """Keys of in-scope items matching a KR's ``jql:`` / ``wiql:`` query (link rule 5).

        Raises :class:`~linesight.errors.QueryError` when the tracker refuses the query.
        """
        ...

    def current_state(self, keys: Iterable[str]) -> dict[str, CurrentState]:
        """Labels/tags and the managed comment of each item, for the write-back planner."""
        ...

    def apply(self, op: Operation) -> OperationResult:
        """Carry out one write-back operation, touching only what linesight owns."""
        ...

    def check(self) -> list[Check]:
        """Connectivity, credentials, permissions and scope checks for ``linesight doctor``."""
        ...

    def close(self) -> None: ...


ConnectorFactory = Callable[[SourceSettings], Connector]


def available_connectors() -> dict[str, ConnectorFactory]:
    """Installed connectors by kind, from the ``linesight.connectors`` entry point group."""
    found: dict[str, ConnectorFactory] = {}
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        found[ep.name] = ep.load()
    return found


def open_connector(
    source: SourceSettings, registry: Mapping[str, ConnectorFactory] | None = None
) -> Connector:
    """Build the connector for ``source``; fails loudly, saying how to install a missing one."""
    connectors = available_connectors() if registry is None else registry
    factory = connectors.get(source.kind)
    if factory is None:
        installed = ", ".join(sorted(connectors)) or "none"
        package = "linesight-jira" if source.kind == "jira" else "linesight-azure-devops"
        raise UnknownConnectorError(
            f"source '{source.name}' needs connector '{source.kind}' "
            f"(installed: {installed}); pip install {package}"
        )
    return factory(source)
