"""``linesight export``: the line-of-sight graph as a file for Gephi, yEd, Graphviz, Mermaid,
Cytoscape or a browser.

:func:`export_graph` takes the analysed graph (a :class:`~linesight.graph.LineOfSightGraph` or
its networkx form), optionally focuses it (:func:`focus`), and writes one format:

=============== ======================================================================
format          what it is
=============== ======================================================================
``graphml``     GraphML for yEd / Gephi / networkx (list attributes joined with ``, ``)
``gexf``        GEXF 1.2 for Gephi (same attributes)
``json``        networkx node-link JSON (``nx.node_link_graph`` reads it back)
``cytoscape``   Cytoscape.js elements JSON (also opens in Cytoscape desktop)
``dot``         Graphviz (``dot -Tsvg graph.dot > graph.svg``)
``mermaid``     a Mermaid ``flowchart LR`` for GitHub / Azure DevOps wikis
``html``        one self-contained interactive page (see :mod:`.graph_page`)
=============== ======================================================================

Every node carries ``kind`` (objective / key_result / item), ``key`` (``O1``, ``KR1.1``,
``PAY-12``), ``label``, ``title``, ``url`` and, where known, ``type``, ``status``,
``status_category``, ``source``, ``project``, ``team``, ``orphan``, ``orphan_reason``,
``unsupported``, ``status`` of a KR, ``objective`` (a KR's), ``objectives`` (the active
objectives an item serves) and ``key_results``. Edges carry ``kind`` (has_kr / serves / parent)
and, for ``serves``, ``rules`` (the link rules that made it).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any, Literal, get_args

import networkx as nx

from linesight.errors import UserError
from linesight.graph.build import LineOfSightGraph, objective_node, reachable_within

__all__ = ["DIAGRAM_NODE_LIMIT", "GraphFormat", "Only", "export_graph", "focus", "normalized"]

GraphFormat = Literal["graphml", "gexf", "json", "dot", "mermaid", "cytoscape", "html"]
Only = Literal["orphans", "unsupported"]

DIAGRAM_NODE_LIMIT = 2000
"""Above this many nodes, DOT / Mermaid / HTML still come out but a warning says to focus."""

log = logging.getLogger(__name__)

_LIST_SEPARATOR = ", "


def export_graph(
    graph: LineOfSightGraph | nx.DiGraph,
    fmt: GraphFormat,
    *,
    objective: str | None = None,
    source: str | None = None,
    only: Only | None = None,
    depth: int | None = None,
) -> str:
    """The graph (or the focused part of it) in ``fmt``, as text.

    Args:
        graph: The analysed graph; a plain ``nx.DiGraph`` with the same node/edge attributes
            also works.
        fmt: One of :data:`GraphFormat`.
        objective: Keep that objective, its KRs, the items serving them and their descendants.
        source: Keep only the items of that source (objectives and KRs stay).
        only: ``orphans`` (orphaned items and the parent links between them) or
            ``unsupported`` (unsupported / stalled KRs, their objectives and their items).
        depth: Keep at most that many levels below the objectives (1 = KRs, 2 = items linked
            to them, 3 = their children ...).

    Raises:
        UserError: an unknown format, objective or filter value.
    """
    if fmt not in get_args(GraphFormat):
        raise UserError(
            f"unknown export format '{fmt}' (choose one of: {', '.join(get_args(GraphFormat))})"
        )
    base = graph.nx if isinstance(graph, LineOfSightGraph) else graph
    view = normalized(focus(base, objective=objective, source=source, only=only, depth=depth))
    if fmt in ("dot", "mermaid", "html") and view.number_of_nodes() > DIAGRAM_NODE_LIMIT:
        log.warning(
            "the graph has %d nodes: a %s picture of more than %d is hard to read and slow to "
            "draw; focus it with --objective, --source, --only or --depth, or export graphml/"
            "gexf for Gephi",
            view.number_of_nodes(),
            fmt,
            DIAGRAM_NODE_LIMIT,
        )
    if fmt == "graphml":
        # no pretty-printing: it doubles the time on big graphs and no reader needs it
        return "\n".join(nx.generate_graphml(flat(view), prettyprint=False)) + "\n"
    if fmt == "gexf":
        return "\n".join(nx.generate_gexf(flat(view), prettyprint=False)) + "\n"
    if fmt == "json":
        data = nx.node_link_data(view, edges="edges")
        return _json(data)
    if fmt == "cytoscape":
        return _json(cytoscape_elements(view))
    # the diagram writers import what they need lazily: most exports never use them
    if fmt == "dot":
        from linesight.outputs.graph_diagram import to_dot

        return to_dot(view)
    if fmt == "mermaid":
        from linesight.outputs.graph_diagram import to_mermaid

        return to_mermaid(view)
    from linesight.outputs.graph_page import to_html

    return to_html(view)


def _json(data: Any) -> str:
    # compact on purpose: with `indent` the json module falls back to its pure-Python encoder,
    # several times slower on a 100k-node graph
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"), default=str) + "\n"


# --- focus ---------------------------------------------------------------------------------------
def focus(
    graph: nx.DiGraph,
    *,
    objective: str | None = None,
    source: str | None = None,
    only: Only | None = None,
    depth: int | None = None,
) -> nx.DiGraph:
    """The part of ``graph`` the filters keep (``graph`` itself when there are no filters; it is
    never changed)."""
    if depth is not None and depth < 0:
        raise UserError(f"--depth must be 0 or more, not {depth}")
    if only is not None and only not in get_args(Only):
        raise UserError(f"unknown --only '{only}' (choose one of: {', '.join(get_args(Only))})")
    if objective is None and depth is None and source is None and only is None:
        return graph  # nothing to filter: no copy
    keep: set[str]
    if objective is None and depth is None:
        keep = set(graph.nodes)
    else:
        if objective is not None:
            start = objective_node(objective)
            if start not in graph:
                known = sorted(
                    str(a.get("id", n))
                    for n, a in graph.nodes(data=True)
                    if _kind(a) == "objective"
                )
                raise UserError(
                    f"no objective '{objective}' in the graph (known: {', '.join(known) or 'none'})"
                )
            roots = [start]
        else:
            roots = [n for n, a in graph.nodes(data=True) if _kind(a) == "objective"]
        keep = reachable_within(graph, roots, depth)
    if source is not None:
        known_sources = {a.get("source") for _, a in graph.nodes(data=True) if _kind(a) == "item"}
        if source not in known_sources:
            names = ", ".join(sorted(str(s) for s in known_sources if s)) or "none"
            raise UserError(f"no items from source '{source}' in the graph (sources: {names})")
        keep = {
            n
            for n in keep
            if _kind(graph.nodes[n]) != "item" or graph.nodes[n].get("source") == source
        }
    if only == "orphans":
        keep = {n for n in keep if _kind(graph.nodes[n]) == "item" and graph.nodes[n].get("orphan")}
    elif only == "unsupported":
        krs = [
            n
            for n in keep
            if _kind(graph.nodes[n]) == "key_result" and graph.nodes[n].get("unsupported")
        ]
        owners = {
            p for kr in krs for p in graph.predecessors(kr) if _kind(graph.nodes[p]) == "objective"
        }
        keep &= reachable_within(graph, krs, None) | owners
    return graph.subgraph(keep).copy()


def _kind(attrs: Mapping[str, Any]) -> str:
    return str(attrs.get("kind", ""))


# --- attributes ----------------------------------------------------------------------------------
def display_label(attrs: Mapping[str, Any]) -> str:
    """What a picture shows on a node: ``KR1.1 Raise conversion ...`` (60 characters at most)."""
    key = str(attrs.get("key") or attrs.get("id") or "")
    title = str(attrs.get("title") or "")
    text = f"{key} {title}".strip() if title != key else key
    return text if len(text) <= 60 else text[:59].rstrip() + "…"


def normalized(graph: nx.DiGraph) -> nx.DiGraph:
    """A copy with the export attributes: ``key`` instead of ``id``, a display ``label``."""
    out = nx.DiGraph(**{k: v for k, v in graph.graph.items() if _scalar(v)})
    for node, attrs in graph.nodes(data=True):
        record = {k: v for k, v in attrs.items() if k not in ("id", "label")}
        record["key"] = attrs.get("key", attrs.get("id", node))
        record["kind"] = _kind(attrs) or "item"
        record.setdefault("title", "")
        record.setdefault("url", "")
        record["label"] = display_label(record)
        out.add_node(node, **record)
    for head, tail, attrs in graph.edges(data=True):
        out.add_edge(head, tail, **attrs)
    return out


def _scalar(value: object) -> bool:
    return isinstance(value, str | int | float | bool)


def _flat_value(value: object) -> str | int | float | bool | None:
    if value is None or _scalar(value):
        return value  # type: ignore[return-value]
    if isinstance(value, list | tuple | set | frozenset):
        items = sorted(value, key=str) if isinstance(value, set | frozenset) else value
        return _LIST_SEPARATOR.join(str(v) for v in items)
    return json.dumps(value, default=str, ensure_ascii=False)


def _unify(records: list[dict[str, Any]]) -> None:
    """One type per attribute name (GraphML and GEXF declare it once): int+float -> float,
    anything mixed with text -> text. ``None`` values are left out."""
    types: dict[str, set[type]] = {}
    for record in records:
        for key, value in list(record.items()):
            if value is None:
                del record[key]
            else:
                types.setdefault(key, set()).add(type(value))
    for key, seen in types.items():
        if len(seen) < 2:
            continue
        target: type = float if seen <= {int, float} else str
        for record in records:
            if key in record:
                value = record[key]
                if target is str and isinstance(value, bool):
                    record[key] = "true" if value else "false"
                else:
                    record[key] = target(value)


def flat(graph: nx.DiGraph) -> nx.DiGraph:
    """A copy whose attributes are GraphML/GEXF scalars (lists joined, ``None`` left out)."""
    nodes = [(n, {k: _flat_value(v) for k, v in a.items()}) for n, a in graph.nodes(data=True)]
    edges = [
        (u, v, {k: _flat_value(x) for k, x in a.items()}) for u, v, a in graph.edges(data=True)
    ]
    _unify([a for _, a in nodes])
    _unify([a for _, _, a in edges])
    out = nx.DiGraph(**{k: v for k, v in graph.graph.items() if _scalar(v)})
    out.add_nodes_from(nodes)
    out.add_edges_from(edges)
    return out


def node_classes(attrs: Mapping[str, Any]) -> list[str]:
    """Style classes of a node: its kind, plus ``orphan`` / ``unsupported`` / ``done``."""
    classes = [_kind(attrs)]
    if attrs.get("orphan"):
        classes.append("orphan")
    if attrs.get("unsupported"):
        classes.append("unsupported")
    if attrs.get("status_category") == "done":
        classes.append("done")
    return classes


def cytoscape_elements(graph: nx.DiGraph) -> dict[str, Any]:
    """Cytoscape.js elements JSON: ``{"elements": {"nodes": [...], "edges": [...]}}``."""
    nodes = [
        {"data": {**attrs, "id": node}, "classes": " ".join(node_classes(attrs))}
        for node, attrs in graph.nodes(data=True)
    ]
    edges = [
        {"data": {**attrs, "id": f"e{number}", "source": head, "target": tail}}
        for number, (head, tail, attrs) in enumerate(graph.edges(data=True), start=1)
    ]
    return {
        "format_version": "1.0",
        "generated_by": "linesight",
        "data": {k: v for k, v in graph.graph.items() if _scalar(v)},
        "elements": {"nodes": nodes, "edges": edges},
    }
