"""What WIQL queries are answered from: per-condition answers and a ChangedDate index, kept
current from the store's change log instead of being recomputed after every write.

A query's top-level ``AND`` conditions are answered one by one, each as the set of ids it
matches; a set is computed once over every item and afterwards only for the items the store's
:attr:`~linesight.sandbox.ado.store.Store.log` names as changed since. So the conditions every
query of a source repeats (its project, area paths, states) cost a full scan once, and an
incremental read's ``[System.ChangedDate] >= ...`` starts from the items changed lately.
"""

from __future__ import annotations

import bisect
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from linesight.sandbox.wiql import parse_datetime

if TYPE_CHECKING:
    from linesight.sandbox.ado.store import Store

__all__ = ["QueryIndexes"]

_MAX_SETS = 64  # conditions remembered (least recently used go first)

Predicate = Callable[[Mapping[str, Any]], bool]


@dataclass(slots=True)
class _Matches:
    ids: set[int]
    seen: int  # how much of the store's change log ``ids`` reflects


@dataclass(slots=True)
class _ByChanged:
    pairs: list[tuple[datetime, int]] = field(default_factory=list)  # sorted
    at: dict[int, datetime] = field(default_factory=dict)
    seen: int = 0


class QueryIndexes:
    """The answers kept for one store; the store's lock must be held while using them."""

    def __init__(self) -> None:
        self._sets: OrderedDict[Hashable, _Matches] = OrderedDict()
        self._by_changed: _ByChanged | None = None

    def matching(self, store: Store, key: Hashable, predicate: Predicate) -> set[int]:
        """Ids of the items matching ``predicate`` (``key`` names it: the same key, the same
        predicate). The caller must not change the set."""
        found = self._sets.get(key)
        if found is None:
            ids = {i for i, item in store.items.items() if predicate(item.fields)}
            found = self._sets[key] = _Matches(ids, len(store.log))
            while len(self._sets) > _MAX_SETS:
                self._sets.popitem(last=False)
        else:
            self._sets.move_to_end(key)
            if found.seen < len(store.log):
                for item_id in _changed(store, found.seen):
                    item = store.items.get(item_id)
                    if item is not None and predicate(item.fields):
                        found.ids.add(item_id)
                    else:
                        found.ids.discard(item_id)
                found.seen = len(store.log)
        return found.ids

    def changed_since(self, store: Store, moment: datetime) -> list[int]:
        """Ids of the items whose ``System.ChangedDate`` is at or after ``moment``, in id
        order."""
        index = self._by_changed
        if index is None:
            index = self._by_changed = _ByChanged(seen=len(store.log))
            for item_id, item in store.items.items():
                changed = parse_datetime(item.fields.get("System.ChangedDate"))
                if changed is not None:
                    index.at[item_id] = changed
            index.pairs = sorted((changed, i) for i, changed in index.at.items())
        elif index.seen < len(store.log):
            for item_id in _changed(store, index.seen):
                before = index.at.pop(item_id, None)
                if before is not None:
                    del index.pairs[bisect.bisect_left(index.pairs, (before, item_id))]
                current = store.items.get(item_id)
                after = (
                    parse_datetime(current.fields.get("System.ChangedDate"))
                    if current is not None
                    else None
                )
                if after is not None:
                    index.at[item_id] = after
                    bisect.insort(index.pairs, (after, item_id))
            index.seen = len(store.log)
        start = bisect.bisect_left(index.pairs, (moment,))
        return sorted(item_id for _, item_id in index.pairs[start:])


def _changed(store: Store, since: int) -> Iterable[int]:
    """The ids changed from position ``since`` of the store's log on, each once."""
    return dict.fromkeys(store.log[since:])
