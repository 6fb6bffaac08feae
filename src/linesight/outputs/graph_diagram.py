"""The graph as a diagram in text: Graphviz DOT and a Mermaid flowchart.

Both take a graph already passed through :func:`linesight.outputs.graph_export.normalized`. Every
tracker-supplied string goes through :mod:`linesight.outputs.escape`; node ids in Mermaid are
generated (``n1``, ``n2`` ...) so no key ever reaches Mermaid's syntax.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import networkx as nx

from linesight.outputs import escape
from linesight.outputs.graph_export import node_classes

__all__ = ["MERMAID_EDGE_LIMIT", "to_dot", "to_mermaid"]

MERMAID_EDGE_LIMIT = 500
"""Mermaid's default ``maxEdges`` (GitHub and Azure DevOps keep it): more edges do not render."""

# (fill, border, text) per style class; the same palette as the HTML page and the report
_PALETTE: Mapping[str, tuple[str, str, str]] = {
    "objective": ("#1f3b73", "#1f3b73", "#ffffff"),
    "key_result": ("#e3ecfa", "#3a6ea5", "#14233c"),
    "item": ("#ffffff", "#9aa5b1", "#1f2933"),
    "done": ("#eef2f5", "#c5ccd3", "#6b7785"),
    "unsupported": ("#fff1d0", "#d68910", "#6e4a0b"),
    "orphan": ("#fde2e1", "#c0392b", "#7b1d14"),
}
_PRECEDENCE = ("orphan", "unsupported", "done", "objective", "key_result", "item")


def _style(attrs: Mapping[str, Any]) -> str:
    """The one style class that wins for a node (an orphan is shown as an orphan first)."""
    classes = set(node_classes(attrs))
    return next((c for c in _PRECEDENCE if c in classes), "item")


def _joined(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _tooltip(attrs: Mapping[str, Any]) -> str:
    lines = [str(attrs.get("label", ""))]
    kind = attrs.get("kind")
    if kind == "item":
        lines.append(
            " · ".join(p for p in (_joined(attrs.get("type")), _joined(attrs.get("status"))) if p)
        )
        if attrs.get("orphan"):
            lines.append(f"orphan: {_joined(attrs.get('orphan_reason'))}")
    elif kind == "key_result" and attrs.get("status"):
        lines.append(f"status: {attrs['status']}")
    return "\n".join(line for line in lines if line)


# --- DOT -----------------------------------------------------------------------------------------
_DOT_SHAPES = {"objective": "box", "key_result": "hexagon", "item": "box"}
_DOT_DATA = (
    "kind",
    "key",
    "title",
    "source",
    "type",
    "status",
    "status_category",
    "team",
    "objective",
    "objectives",
    "orphan",
    "orphan_reason",
    "unsupported",
)


def to_dot(graph: nx.DiGraph) -> str:
    """Graphviz DOT: objectives on the left, KRs, then the work; orphans red, unsupported amber.

    Besides the drawing attributes, every node carries its data (``kind``, ``key``, ``source``,
    ``orphan`` ...) as extra attributes, which Graphviz keeps and ignores.
    """
    out = [
        "digraph linesight {",
        '  graph [rankdir=LR, fontname="Helvetica", ranksep=1.1, nodesep=0.25, '
        f"label={escape.dot_label(_caption(graph))}, labelloc=t, fontsize=14];",
        '  node [fontname="Helvetica", fontsize=10, style="rounded,filled", penwidth=1.2];',
        '  edge [color="#8795a1", arrowsize=0.6];',
    ]
    for node, attrs in graph.nodes(data=True):
        fill, border, text = _PALETTE[_style(attrs)]
        fields = [
            f"label={escape.dot_label(attrs.get('label', node))}",
            f"shape={_DOT_SHAPES.get(str(attrs.get('kind')), 'box')}",
            f'fillcolor="{fill}"',
            f'color="{border}"',
            f'fontcolor="{text}"',
            f"tooltip={escape.dot_label(_tooltip(attrs))}",
        ]
        url = escape.safe_url(attrs.get("url"))
        if url:
            fields += [f"URL={escape.dot_label(url)}", 'target="_blank"']
        fields += [
            f"{name}={escape.dot_label(_joined(attrs[name]))}"
            for name in _DOT_DATA
            if attrs.get(name) not in (None, "", [])
        ]
        out.append(f"  {escape.dot_id(node)} [{', '.join(fields)}];")
    for head, tail, attrs in graph.edges(data=True):
        fields = [f"kind={escape.dot_label(_joined(attrs.get('kind')))}"]
        if attrs.get("rules"):
            rules = _joined(attrs["rules"])
            fields += [f"rules={escape.dot_label(rules)}", f"tooltip={escape.dot_label(rules)}"]
        if attrs.get("kind") == "parent":
            fields.append("style=dashed")
        if attrs.get("broken_cycle"):
            fields.append('color="#c0392b"')
        out.append(f"  {escape.dot_id(head)} -> {escape.dot_id(tail)} [{', '.join(fields)}];")
    out.append("}")
    return "\n".join(out) + "\n"


def _caption(graph: nx.DiGraph) -> str:
    cycle = graph.graph.get("cycle")
    counts = f"{graph.number_of_nodes()} nodes, {graph.number_of_edges()} links"
    return f"linesight — {cycle} — {counts}" if cycle else f"linesight — {counts}"


# --- Mermaid -------------------------------------------------------------------------------------
_MERMAID_SHAPES = {"objective": ('(["', '"])'), "key_result": ('{{"', '"}}'), "item": ('["', '"]')}


def to_mermaid(graph: nx.DiGraph) -> str:
    """A Mermaid ``flowchart LR`` (GitHub, Azure DevOps and GitLab wikis render it).

    Node ids are generated; labels use Mermaid entity codes (``#quot;``, ``#lt;`` ...) for
    anything that is syntax. Items link to the tracker with ``click ... href`` where the wiki
    allows it.
    """
    ids = {node: f"n{number}" for number, node in enumerate(graph.nodes, start=1)}
    out = ["flowchart LR", f"  %% linesight: {escape.mermaid_label(_caption(graph))}"]
    if graph.number_of_edges() > MERMAID_EDGE_LIMIT:
        out.append(
            f"  %% {graph.number_of_edges()} links: Mermaid draws at most {MERMAID_EDGE_LIMIT} "
            "by default; export with --objective or --only for a smaller picture"
        )
    styles: dict[str, list[str]] = {}
    clicks: list[str] = []
    for node, attrs in graph.nodes(data=True):
        opening, closing = _MERMAID_SHAPES.get(str(attrs.get("kind")), _MERMAID_SHAPES["item"])
        label = escape.mermaid_label(attrs.get("label", node))
        out.append(f"  {ids[node]}{opening}{label}{closing}")
        styles.setdefault(_style(attrs), []).append(ids[node])
        url = escape.safe_url(attrs.get("url"))
        if url:
            clicks.append(f'  click {ids[node]} href "{url}" _blank')
    for head, tail, attrs in graph.edges(data=True):
        arrow = "-.->" if attrs.get("kind") == "parent" else "-->"
        out.append(f"  {ids[head]} {arrow} {ids[tail]}")
    for name, (fill, border, text) in _PALETTE.items():
        if name in styles:
            out.append(f"  classDef {name} fill:{fill},stroke:{border},color:{text}")
    for name, members in styles.items():
        # `class a,b,c name` lines stay short enough for every renderer
        for start in range(0, len(members), 50):
            out.append(f"  class {','.join(members[start : start + 50])} {name}")
    out.extend(clicks)
    return "\n".join(out) + "\n"
