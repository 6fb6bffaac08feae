"""Work item states -> linesight's status categories, for every process.

Every process (Agile, Scrum, CMMI, Basic and inherited custom ones) gives each state of each
work item type a *state category* (``GET {project}/_apis/wit/workitemtypes``, every type's states
in one answer; ``.../workitemtypes/{type}/states`` for a type that list leaves out):
Proposed -> todo, InProgress and Resolved -> in progress, Completed -> done, and Removed ->
out of scope. The category, not the state's name, decides; names are only guessed from when a
type's states cannot be read.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from linesight.model import StatusCategory

__all__ = ["REMOVED", "StateCatalog", "category_for"]

log = logging.getLogger("linesight.azure_devops")

REMOVED = "Removed"

_CATEGORIES = {
    "proposed": StatusCategory.TODO,
    "inprogress": StatusCategory.IN_PROGRESS,
    "resolved": StatusCategory.IN_PROGRESS,
    "completed": StatusCategory.DONE,
}

# Only used when a type's states cannot be read: the system processes' own names.
_GUESS = {
    "new": "Proposed",
    "proposed": "Proposed",
    "to do": "Proposed",
    "approved": "Proposed",
    "design": "Proposed",
    "active": "InProgress",
    "in progress": "InProgress",
    "committed": "InProgress",
    "open": "InProgress",
    "doing": "InProgress",
    "resolved": "Resolved",
    "done": "Completed",
    "closed": "Completed",
    "completed": "Completed",
    "inactive": "Completed",
    "removed": "Removed",
    "cut": "Removed",
}


def category_for(state_category: str) -> StatusCategory | None:
    """The status category of an Azure DevOps state category; ``None`` for Removed.

    An unknown category (a future one) counts as in progress: visible, never silently done.
    """
    if state_category.casefold() == REMOVED.casefold():
        return None
    return _CATEGORIES.get(state_category.casefold(), StatusCategory.IN_PROGRESS)


class StateCatalog:
    """State categories per work item type of one project, read once. Thread-safe.

    ``load_every()`` returns every type's states at once (``GET .../workitemtypes``: one request
    for the whole project, the first time any type is asked for), or ``None`` if that cannot be
    read. A type it does not cover is read on its own with ``load(type_name)``, which returns
    the ``value`` list of the type's states endpoint (or raises); ``None`` there means the type
    has no readable states (a 404), and names are guessed from then on.
    """

    def __init__(
        self,
        load: Callable[[str], list[dict[str, Any]] | None],
        load_every: Callable[[], Mapping[str, list[dict[str, Any]]] | None] | None = None,
    ) -> None:
        self._load = load
        self._load_every = load_every
        self._types: dict[str, dict[str, tuple[str, str]]] = {}  # type -> state -> (name, cat)
        self._lock = threading.Lock()
        self._every_lock = threading.Lock()
        self._loading: dict[str, threading.Lock] = {}  # one per type: types load side by side
        self._warned: set[tuple[str, str]] = set()

    def load_every_type(self) -> None:
        """Read every type's states now (one request), unless that was done already.

        Callers racing here wait for the one read; a failed read (it raises) is tried again by
        the next caller, as a per-type read would be.
        """
        if self._load_every is None:
            return
        with self._every_lock:
            if self._load_every is None:
                return
            every = self._load_every()
            for type_name, states in (every or {}).items():
                self._types.setdefault(type_name.casefold(), _by_name(states))
            self._load_every = None

    def _states(self, type_name: str) -> dict[str, tuple[str, str]]:
        key = type_name.casefold()
        known = self._types.get(key)
        if known is not None:
            return known
        self.load_every_type()
        known = self._types.get(key)
        if known is not None:
            return known
        with self._lock:
            lock = self._loading.setdefault(key, threading.Lock())
        with lock:
            known = self._types.get(key)
            if known is None:
                known = self._types[key] = _by_name(self._load(type_name) or [])
            return known

    def state_category(self, type_name: str, state: str) -> str:
        """The Azure DevOps state category of ``state`` (``Proposed`` ... ``Removed``)."""
        found = self._states(type_name).get(state.casefold())
        if found and found[1]:
            return found[1]
        guess = _GUESS.get(state.casefold(), "InProgress")
        with self._lock:  # batches are mapped by several threads: warn once, not once each
            first = (type_name, state) not in self._warned
            self._warned.add((type_name, state))
        if first:
            log.warning(
                "work item type %r has no state %r in its process; treating it as %s",
                type_name,
                state,
                guess,
            )
        return guess

    def category(self, type_name: str, state: str) -> StatusCategory | None:
        """linesight's status category, or ``None`` when the state is a Removed one."""
        return category_for(self.state_category(type_name, state))

    def removed_states(self, type_names: Iterable[str]) -> set[str]:
        """Names of the Removed-category states of these types (for the scope query)."""
        names = {REMOVED.casefold(): REMOVED}
        for type_name in type_names:
            for name, category in self._states(type_name).values():
                if category.casefold() == REMOVED.casefold():
                    names.setdefault(name.casefold(), name)
        return set(names.values())


def _by_name(states: Iterable[Any]) -> dict[str, tuple[str, str]]:
    """``{folded name: (name, category)}`` of a type's states as the service lists them."""
    return {
        s["name"].casefold(): (s["name"], str(s.get("category") or ""))
        for s in states
        if isinstance(s, dict) and isinstance(s.get("name"), str)
    }
