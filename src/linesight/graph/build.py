"""The line-of-sight graph: objectives -> key results -> work items, from every source.

:func:`build_graph` applies the link rules (:mod:`linesight.graph.rules`) to the synced items and
returns a :class:`LineOfSightGraph`. The graph keeps two forms of the same facts:

- a compact :class:`LinkIndex` (lists and dicts addressed by item position) that the analyser
  walks — a million items cost seconds, not minutes;
- a :class:`networkx.DiGraph`, built on first use of :attr:`LineOfSightGraph.nx`, for exports
  and write-back. Building it for a million items takes a while and a few GiB, so nothing
  builds it unless asked.

Nodes (attribute ``kind``):

- ``objective:<id>`` — ``kind="objective"``: id, title, cycle, owner, wip_limit, closed, active,
  source and url (tracker objectives), label; after analysis also effective_wip, wip_count,
  over_limit.
- ``kr:<id>`` — ``kind="key_result"``: id, title, objective, active, baseline, target, current,
  score, source, url, label; after analysis also status, unsupported, kr_kind, kr_kind_reason.
- ``item:<source>:<key>`` — ``kind="item"``: source, key, type, title, status,
  status_category, project, team, url, synced (``False`` for an item that only a ``work:`` entry
  or query named), label; after analysis also state (``aligned``/``orphan``/``done``), orphan,
  orphan_reason, key_results, objectives (active ones it serves), wip (counted at the WIP level).

Edges (attribute ``kind``): ``has_kr`` objective -> KR; ``serves`` KR -> item, with ``rules`` the
sorted names of the rules that made the link (``explicit``, ``label``, ``field``,
``tracker_link``, ``query``); ``parent`` parent item -> child item. Inheritance down the
hierarchy (rule 6) is not an edge of its own: it follows ``serves`` then ``parent`` edges, and
each item's ``key_results`` attribute lists what it reaches in the end.

What counts as work: every synced item is in scope except items of an objective / KR type
(they are OKRs, see :mod:`linesight.graph.okrs_in_tracker`) and items in the ``done`` category
whose status is named ``Removed`` (Azure DevOps' Removed state; the SPEC puts removed items out
of scope). When two synced items share a source and key, the later one wins.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import networkx

from linesight.graph import rules
from linesight.graph.okrs_in_tracker import TrackerOkrs, tracker_okrs
from linesight.graph.rules import QueryMatches
from linesight.model import ItemRef, KeyResult, Objective, StatusCategory, WorkItem
from linesight.settings import Settings

__all__ = [
    "RULE_BITS",
    "LineOfSightGraph",
    "LinkIndex",
    "build_graph",
    "is_removed",
    "item_node",
    "kr_node",
    "objective_node",
    "rule_names",
]

RULE_BITS: Mapping[str, int] = {name: 1 << bit for bit, name in enumerate(rules.RULE_NAMES)}
"""Bit of each rule in the masks of :attr:`LinkIndex.direct`."""

_MAX_WARNINGS_PER_KIND = 50
_EMPTY: frozenset[str] = frozenset()


def objective_node(objective_id: str) -> str:
    """Node id of an objective: ``objective:O1``."""
    return f"objective:{objective_id}"


def kr_node(kr_id: str) -> str:
    """Node id of a key result: ``kr:KR1.1``."""
    return f"kr:{kr_id}"


def item_node(source: str, key: str) -> str:
    """Node id of a work item: ``item:jira:PAY-12``."""
    return f"item:{source}:{key}"


def rule_names(mask: int) -> list[str]:
    """The rule names in a rule bitmask, in SPEC order."""
    return [name for name, bit in RULE_BITS.items() if mask & bit]


def is_removed(item: WorkItem) -> bool:
    """Removed items (Azure DevOps' ``Removed`` state, or a Jira status of that name)."""
    return item.status_category is StatusCategory.DONE and item.status.casefold() == "removed"


class _Warnings:
    """Collects data warnings, at most a few of each kind plus a count of the rest."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self._counts: dict[str, int] = {}

    def add(self, kind: str, message: str) -> None:
        count = self._counts.get(kind, 0) + 1
        self._counts[kind] = count
        if count <= _MAX_WARNINGS_PER_KIND:
            self.lines.append(message)

    def extend(self, kind: str, messages: Iterable[str]) -> None:
        for message in messages:
            self.add(kind, message)

    def finish(self) -> list[str]:
        for kind, count in self._counts.items():
            if count > _MAX_WARNINGS_PER_KIND:
                self.lines.append(f"... and {count - _MAX_WARNINGS_PER_KIND} more {kind} warnings")
        return self.lines


@dataclass(slots=True)
class LinkIndex:
    """The graph in compact form. Item indices are positions in :attr:`items`."""

    cycle: str
    items: list[WorkItem]
    lookup: dict[str, dict[str, int]]  # source -> key -> index
    work: list[int]  # in-scope work items, in input order
    is_work: bytearray  # 1 where the item is in-scope work
    parents: list[int]  # index of the in-scope parent, -1 at the top (cycles broken)
    objectives: tuple[Objective, ...]  # from the OKR file, then from trackers
    key_results: dict[str, KeyResult]  # every known KR, any cycle
    kr_objective: dict[str, str]  # KR id -> id of the objective that lists it
    direct: dict[int, dict[str, int]]  # item -> KR id -> bitmask of the rules that linked it
    unknown: dict[int, list[str]]  # item -> KR ids it names that match no KR
    ghosts: dict[ItemRef, dict[str, int]]  # unsynced items named by `work:` or a query
    ghost_children: dict[int, ItemRef]  # item whose parent is a ghost -> that ghost
    effective: list[frozenset[str]]  # every KR an item reaches, inherited ones included
    tracker: TrackerOkrs
    removed: int  # synced items left out as Removed
    broken_parents: list[tuple[int, int]]  # (child, parent) edges dropped to break cycles
    warnings: list[str] = field(default_factory=list)

    def ref(self, index: int) -> ItemRef:
        item = self.items[index]
        return ItemRef(source=item.source, key=item.key)


@dataclass(slots=True)
class _Annotations:
    items: Callable[[int], Mapping[str, Any]] | None = None
    key_results: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    objectives: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)


class LineOfSightGraph:
    """Objectives, key results and work items from every source, and why they are linked.

    The compact :attr:`index` is always there; :attr:`nx` builds the networkx graph on first use
    (the node and edge attributes are listed in the module docstring). After
    :func:`linesight.analysis.analyze` the graph also carries the analysis flags.
    """

    def __init__(self, index: LinkIndex) -> None:
        self.index = index
        self._nx: networkx.DiGraph | None = None
        self._annotations = _Annotations()

    # --- plain facts -----------------------------------------------------------------------
    @property
    def cycle(self) -> str:
        return self.index.cycle

    @property
    def warnings(self) -> list[str]:
        """Problems in the data: parent cycles, dangling ``work:`` entries, duplicate ids."""
        return self.index.warnings

    @property
    def objectives(self) -> tuple[Objective, ...]:
        """Every objective, from the OKR file and from trackers."""
        return self.index.objectives

    def item(self, ref: ItemRef) -> WorkItem | None:
        """The synced item with this ref, if any."""
        position = self.index.lookup.get(ref.source, {}).get(ref.key)
        return None if position is None else self.index.items[position]

    def key_results_of(self, ref: ItemRef) -> frozenset[str]:
        """Every KR the item reaches (any cycle), its ancestors' included."""
        position = self.index.lookup.get(ref.source, {}).get(ref.key)
        return _EMPTY if position is None else self.index.effective[position]

    # --- analysis flags --------------------------------------------------------------------
    def annotate(
        self,
        *,
        items: Callable[[int], Mapping[str, Any]],
        key_results: Mapping[str, Mapping[str, Any]],
        objectives: Mapping[str, Mapping[str, Any]],
    ) -> None:
        """Attach analysis results; ``items(index)`` gives the extra attributes of one item."""
        self._annotations = _Annotations(items, key_results, objectives)
        if self._nx is not None:
            self._apply_annotations(self._nx)

    def _apply_annotations(self, graph: networkx.DiGraph) -> None:
        notes = self._annotations
        for objective_id, attrs in notes.objectives.items():
            node = objective_node(objective_id)
            if node in graph:
                graph.nodes[node].update(attrs)
        for kr_id, attrs in notes.key_results.items():
            node = kr_node(kr_id)
            if node in graph:
                graph.nodes[node].update(attrs)
        if notes.items is not None:
            items = self.index.items
            for position in self.index.work:
                item = items[position]
                graph.nodes[item_node(item.source, item.key)].update(notes.items(position))

    # --- networkx --------------------------------------------------------------------------
    @property
    def nx(self) -> networkx.DiGraph:
        """The networkx graph (built once, on first use)."""
        if self._nx is None:
            self._nx = self._build_nx()
            self._apply_annotations(self._nx)
        return self._nx

    def _build_nx(self) -> networkx.DiGraph:
        index = self.index
        graph = networkx.DiGraph(cycle=index.cycle)
        for objective in index.objectives:
            graph.add_node(objective_node(objective.id), **_objective_attrs(objective, index))
        for kr in index.key_results.values():
            graph.add_node(kr_node(kr.id), **_kr_attrs(kr, index))
            owner = index.kr_objective.get(kr.id)
            if owner is not None:
                graph.add_edge(objective_node(owner), kr_node(kr.id), kind="has_kr")
        items = index.items
        for position in index.work:
            item = items[position]
            graph.add_node(item_node(item.source, item.key), **_item_attrs(item, position, index))
        for ref in {*index.ghosts, *index.ghost_children.values()}:
            graph.add_node(item_node(ref.source, ref.key), **_ghost_attrs(ref))
        for position, links in index.direct.items():
            item = items[position]
            target = item_node(item.source, item.key)
            for kr_id, mask in links.items():
                graph.add_edge(kr_node(kr_id), target, kind="serves", rules=rule_names(mask))
        for ref, links in index.ghosts.items():
            for kr_id, mask in links.items():
                graph.add_edge(
                    kr_node(kr_id),
                    item_node(ref.source, ref.key),
                    kind="serves",
                    rules=rule_names(mask),
                )
        for position in index.work:
            parent = index.parents[position]
            child = items[position]
            if parent >= 0:
                up = items[parent]
                graph.add_edge(
                    item_node(up.source, up.key), item_node(child.source, child.key), kind="parent"
                )
            elif position in index.ghost_children:
                ghost = index.ghost_children[position]
                graph.add_edge(
                    item_node(ghost.source, ghost.key),
                    item_node(child.source, child.key),
                    kind="parent",
                )
        for child_pos, parent_pos in index.broken_parents:
            up, child = items[parent_pos], items[child_pos]
            # kept for the picture, flagged so layouts and walks can skip it
            graph.add_edge(
                item_node(up.source, up.key),
                item_node(child.source, child.key),
                kind="parent",
                broken_cycle=True,
            )
        return graph

    def nodes(self, kind: str | None = None) -> Iterator[tuple[str, dict[str, Any]]]:
        """``(node id, attributes)``, optionally only of one kind (objective/key_result/item)."""
        for node, attrs in self.nx.nodes(data=True):
            if kind is None or attrs.get("kind") == kind:
                yield node, attrs

    def edges(self, kind: str | None = None) -> Iterator[tuple[str, str, dict[str, Any]]]:
        """``(from, to, attributes)``, optionally only of one kind (has_kr/serves/parent)."""
        for head, tail, attrs in self.nx.edges(data=True):
            if kind is None or attrs.get("kind") == kind:
                yield head, tail, attrs

    def subgraph(
        self,
        *,
        objective: str | None = None,
        source: str | None = None,
        depth: int | None = None,
    ) -> networkx.DiGraph:
        """A copy of part of the graph, for focused exports.

        ``objective``: that objective and everything below it (its KRs, the items serving them
        and their descendants). ``depth``: at most that many edges below the objective(s)
        (1 = KRs, 2 = directly linked items, 3 = their children ...); with ``depth`` but no
        ``objective`` it starts from every objective, so orphans drop out. ``source``: keep only
        the items of that source (objectives and KRs stay). Broken cycle edges are not followed.
        """
        graph = self.nx
        if objective is None and depth is None:
            keep: set[str] = set(graph.nodes)
        else:
            if objective is not None:
                start = objective_node(objective)
                if start not in graph:
                    known = ", ".join(o.id for o in self.index.objectives) or "none"
                    raise KeyError(f"no objective '{objective}' (known: {known})")
                frontier = [start]
            else:
                frontier = [n for n, a in graph.nodes(data=True) if a["kind"] == "objective"]
            keep = reachable_within(graph, frontier, depth)
        if source is not None:
            keep = {
                n
                for n in keep
                if graph.nodes[n]["kind"] != "item" or graph.nodes[n]["source"] == source
            }
        return graph.subgraph(keep).copy()


def reachable_within(graph: networkx.DiGraph, roots: Iterable[str], depth: int | None) -> set[str]:
    """``roots`` and everything reachable from them in at most ``depth`` edges (``None``: any)."""
    frontier = list(roots)
    seen = set(frontier)
    level = 0
    while frontier and (depth is None or level < depth):
        level += 1
        following: list[str] = []
        for node in frontier:
            for _, tail, attrs in graph.out_edges(node, data=True):
                # an edge kept only to show a parent cycle is not a way down
                if tail not in seen and not attrs.get("broken_cycle"):
                    seen.add(tail)
                    following.append(tail)
        frontier = following
    return seen


def _objective_attrs(objective: Objective, index: LinkIndex) -> dict[str, Any]:
    origin = objective.origin
    url = ""
    if origin is not None:
        item_pos = index.lookup.get(origin.source, {}).get(origin.key)
        url = "" if item_pos is None else index.items[item_pos].url
    return {
        "kind": "objective",
        "id": objective.id,
        "label": objective.title,
        "title": objective.title,
        "cycle": objective.cycle,
        "owner": objective.owner,
        "wip_limit": objective.wip_limit,
        "closed": objective.closed,
        "active": objective.cycle == index.cycle and not objective.closed,
        "source": origin.source if origin else None,
        "url": url,
    }


def _kr_attrs(kr: KeyResult, index: LinkIndex) -> dict[str, Any]:
    origin = kr.origin
    url = ""
    if origin is not None:
        item_pos = index.lookup.get(origin.source, {}).get(origin.key)
        url = "" if item_pos is None else index.items[item_pos].url
    return {
        "kind": "key_result",
        "id": kr.id,
        "label": kr.title,
        "title": kr.title,
        "objective": index.kr_objective.get(kr.id, ""),
        "baseline": kr.baseline,
        "target": kr.target,
        "current": kr.current,
        "score": kr.score,
        "source": origin.source if origin else None,
        "url": url,
    }


def _item_attrs(item: WorkItem, position: int, index: LinkIndex) -> dict[str, Any]:
    return {
        "kind": "item",
        "source": item.source,
        "key": item.key,
        "label": f"{item.key} {item.title}",
        "title": item.title,
        "type": item.type,
        "status": item.status,
        "status_category": item.status_category.value,
        "project": item.project,
        "team": item.team,
        "url": item.url,
        "synced": True,
        "key_results": sorted(index.effective[position]),
    }


def _ghost_attrs(ref: ItemRef) -> dict[str, Any]:
    return {
        "kind": "item",
        "source": ref.source,
        "key": ref.key,
        "label": ref.key,
        "title": "",
        "type": "",
        "status": "",
        "status_category": None,
        "project": "",
        "team": None,
        "url": "",
        "synced": False,
        "key_results": [],
    }


# --- building ----------------------------------------------------------------------------------


def _index_items(
    items: list[WorkItem], warnings: _Warnings
) -> tuple[dict[str, dict[str, int]], bytearray]:
    lookup: dict[str, dict[str, int]] = {}
    live = bytearray(b"\x01") * len(items)
    for position, item in enumerate(items):
        keys = lookup.get(item.source)
        if keys is None:
            keys = lookup[item.source] = {}
        previous = keys.get(item.key)
        if previous is not None:
            live[previous] = 0
            warnings.add(
                "duplicate", f"item {item.source}:{item.key} was synced twice; kept the last"
            )
        keys[item.key] = position
    return lookup, live


def _work_parents(
    items: list[WorkItem],
    work: list[int],
    is_work: bytearray,
    lookup: Mapping[str, Mapping[str, int]],
) -> list[int]:
    parents = [-1] * len(items)
    for position in work:
        item = items[position]
        if item.parent is not None:
            parent = lookup[item.source].get(item.parent)
            if parent is not None and is_work[parent]:
                parents[position] = parent
    return parents


def _break_cycles(
    items: list[WorkItem], work: list[int], parents: list[int], warnings: _Warnings
) -> list[tuple[int, int]]:
    """Cut every parent cycle at its smallest member (by source and key); report each cycle."""
    state = bytearray(len(items))  # 0 unseen, 1 on the current path, 2 finished
    broken: list[tuple[int, int]] = []
    for start in work:
        if state[start]:
            continue
        path: list[int] = []
        node = start
        while node >= 0 and not state[node]:
            state[node] = 1
            path.append(node)
            node = parents[node]
        if node >= 0 and state[node] == 1:  # walked back into the current path: a cycle
            loop = path[path.index(node) :]
            cut = min(loop, key=lambda p: (items[p].source, items[p].key))
            broken.append((cut, parents[cut]))
            parents[cut] = -1
            names = " -> ".join(f"{items[p].source}:{items[p].key}" for p in [*loop, loop[0]])
            warnings.add(
                "parent cycle",
                f"parent cycle {names}: ignored the parent of {items[cut].source}:{items[cut].key}"
                " (fix the parent links in the tracker)",
            )
        for visited in path:
            state[visited] = 2
    return broken


def build_graph(
    objectives: Sequence[Objective],
    items: Iterable[WorkItem],
    *,
    settings: Settings,
    query_matches: QueryMatches | None = None,
    cycle: str = "",
) -> LineOfSightGraph:
    """Link every synced item to the key results it serves, by the rules switched on.

    Args:
        objectives: The objectives of the OKR file (every cycle; activity is decided later).
        items: Every synced item of every source.
        settings: Sources (prefixes, OKR types, link kinds) and ``links`` (rule switches).
        query_matches: For rule 5, the items the sync step found for each KR's queries:
            ``{kr_id: refs}`` or, as ``Store.query_matches()`` returns it,
            ``{kr_id: {query: refs}}``.
        cycle: The active cycle; objectives living in a tracker belong to it.
    """
    warnings = _Warnings()
    item_list = list(items)
    lookup, live = _index_items(item_list, warnings)
    profiles = rules.profiles_from_settings(settings)
    tracker = tracker_okrs(item_list, lookup, profiles, cycle=cycle)
    warnings.extend("tracker okr", tracker.warnings)

    okr_positions = tracker.objective_items.keys() | tracker.kr_items.keys()
    is_work = bytearray(len(item_list))
    work: list[int] = []
    removed = 0
    done = StatusCategory.DONE
    for position, item in enumerate(item_list):
        if not live[position] or position in okr_positions:
            continue
        if item.status_category is done and is_removed(item):
            removed += 1
            continue
        is_work[position] = 1
        work.append(position)

    all_objectives = (*objectives, *tracker.objectives)
    key_results: dict[str, KeyResult] = {}
    kr_objective: dict[str, str] = {}
    seen_objectives: set[str] = set()
    for objective in all_objectives:
        if objective.id in seen_objectives:
            warnings.add("duplicate", f"objective id '{objective.id}' is used twice")
        seen_objectives.add(objective.id)
        for kr in objective.key_results:
            if kr.id in key_results:
                warnings.add("duplicate", f"key result id '{kr.id}' is used twice; kept the first")
                continue
            key_results[kr.id] = kr
            kr_objective[kr.id] = objective.id
    for kr in tracker.unattached_krs:
        key_results.setdefault(kr.id, kr)

    direct: dict[int, dict[str, int]] = {}
    unknown: dict[int, list[str]] = {}
    ghosts: dict[ItemRef, dict[str, int]] = {}

    def link(position: int, kr_id: str, bit: int) -> None:
        links = direct.get(position)
        if links is None:
            direct[position] = {kr_id: bit}
        else:
            links[kr_id] = links.get(kr_id, 0) | bit

    def link_refs(pairs: Iterable[tuple[str, ItemRef]], bit: int) -> None:
        for kr_id, ref in pairs:
            position = lookup.get(ref.source, {}).get(ref.key)
            if position is None:
                links = ghosts.setdefault(ref, {})
                links[kr_id] = links.get(kr_id, 0) | bit
            elif is_work[position]:
                link(position, kr_id, bit)

    switches = settings.links
    if switches.explicit:
        pairs, problems = rules.explicit_links(key_results.values(), lookup, profiles)
        warnings.extend("work entry", problems)
        link_refs(pairs, RULE_BITS["explicit"])
    resolver = rules.KrResolver(key_results)
    named: list[tuple[int, Iterator[rules.NamedHit]]] = []
    if switches.label:
        named.append((RULE_BITS["label"], rules.label_links(item_list, work, profiles, resolver)))
    if switches.field:
        named.append((RULE_BITS["field"], rules.field_links(item_list, work, resolver)))
    for bit, hits in named:
        for position, kr_id, name in hits:
            if kr_id is None:
                unknown.setdefault(position, []).append(name)
            else:
                link(position, kr_id, bit)
    if switches.tracker_link and tracker.kr_items:
        work_set = frozenset(work)
        for position, kr_id in rules.tracker_links(
            item_list, work_set, lookup, tracker.kr_items, profiles
        ):
            link(position, kr_id, RULE_BITS["tracker_link"])
    if switches.query and query_matches:
        pairs, problems = rules.query_links(query_matches, key_results)
        warnings.extend("query", problems)
        link_refs(pairs, RULE_BITS["query"])

    parents = _work_parents(item_list, work, is_work, lookup)
    broken = _break_cycles(item_list, work, parents, warnings)

    ghost_children: dict[int, ItemRef] = {}
    if ghosts:
        for position in work:
            item = item_list[position]
            if item.parent is not None and item.parent not in lookup.get(item.source, {}):
                ref = ItemRef(source=item.source, key=item.parent)
                if ref in ghosts:
                    ghost_children[position] = ref
        adopted = set(ghost_children.values())
        for ref, links in ghosts.items():
            if ref not in adopted:
                for kr_id in sorted(links):
                    warnings.add(
                        "work entry",
                        f"key result {kr_id}: {ref} matches no synced item (is it outside the "
                        "sources' projects/area paths/types?)",
                    )

    direct_sets = {position: frozenset(links) for position, links in direct.items()}
    if switches.hierarchy:
        roots = {position: frozenset(ghosts[ref]) for position, ref in ghost_children.items()}
        effective = rules.inherit(direct_sets, parents, roots)
    else:
        effective = [direct_sets.get(position, _EMPTY) for position in range(len(item_list))]

    index = LinkIndex(
        cycle=cycle,
        items=item_list,
        lookup=lookup,
        work=work,
        is_work=is_work,
        parents=parents,
        objectives=all_objectives,
        key_results=key_results,
        kr_objective=kr_objective,
        direct=direct,
        unknown=unknown,
        ghosts=ghosts,
        ghost_children=ghost_children,
        effective=effective,
        tracker=tracker,
        removed=removed,
        broken_parents=broken,
        warnings=warnings.finish(),
    )
    return LineOfSightGraph(index)
