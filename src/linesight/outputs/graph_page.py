"""The graph as one self-contained interactive HTML page (``linesight export --format html``).

Pan and zoom, click a node to open the item in its tracker, filter by objective, orphans in red.
The page needs no network when it is viewed: the drawing library (vis-network) is read at run
time from the ``pyvis`` package, which ships it, and inlined; the graph travels as JSON inside
``<script type="application/json">`` and is read with ``JSON.parse`` — no data is ever written
into JavaScript source.
"""

from __future__ import annotations

import importlib.util
import re
from collections import deque
from functools import cache
from pathlib import Path
from typing import Any

import networkx as nx
from markupsafe import Markup

from linesight.errors import UserError
from linesight.outputs import escape
from linesight.outputs.graph_export import DIAGRAM_NODE_LIMIT
from linesight.outputs.templating import environment

__all__ = ["to_html", "vis_network_js"]

_MAX_LEVEL = 12
_SOURCE_MAP = re.compile(r"^//# sourceMappingURL=.*$", re.MULTILINE)


@cache
def vis_network_js() -> str:
    """vis-network's standalone build, from the installed ``pyvis`` package (newest copy)."""
    spec = importlib.util.find_spec("pyvis")  # finds the folder without importing pyvis/IPython
    folders = list(spec.submodule_search_locations or []) if spec else []
    candidates = sorted(
        (p for folder in folders for p in Path(folder).glob("lib/vis-*/vis-network.min.js")),
        key=lambda p: tuple(int(x) for x in re.findall(r"\d+", p.parent.name)),
    )
    if not candidates:
        raise UserError(
            "the html graph export needs the vis-network library, which the 'pyvis' package "
            "ships: pip install pyvis"
        )
    script = candidates[-1].read_text(encoding="utf-8")
    # a source map would make DevTools fetch a file that is not there; `</script` cannot occur in
    # the minified source, but if a future build had it inside a string this keeps the page whole
    return _SOURCE_MAP.sub("", script).replace("</script", "<\\/script")


def _levels(graph: nx.DiGraph) -> dict[str, int]:
    """Columns for the left-to-right layout: objectives 0, KRs 1, work 2 and deeper by parent."""
    level: dict[str, int] = {}
    queue: deque[str] = deque()
    for node, attrs in graph.nodes(data=True):
        kind = attrs.get("kind")
        if kind in ("objective", "key_result"):
            level[node] = 0 if kind == "objective" else 1
        elif not any(
            graph.edges[p, node].get("kind") == "parent"
            and not graph.edges[p, node].get("broken_cycle")
            for p in graph.predecessors(node)
        ):
            level[node] = 2
            queue.append(node)
    while queue:
        node = queue.popleft()
        for _, child, attrs in graph.out_edges(node, data=True):
            if attrs.get("kind") == "parent" and child not in level:
                level[child] = min(level[node] + 1, _MAX_LEVEL)
                queue.append(child)
    for node in graph.nodes:  # whatever a parent cycle left unplaced
        level.setdefault(node, 2)
    return level


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    return str(value)


def page_data(graph: nx.DiGraph) -> dict[str, Any]:
    """What the page's script reads: nodes, edges, objectives, counts (all plain JSON)."""
    levels = _levels(graph)
    ids = {node: number for number, node in enumerate(graph.nodes)}
    nodes = []
    for node, attrs in graph.nodes(data=True):
        kind = str(attrs.get("kind", "item"))
        nodes.append(
            {
                "id": ids[node],
                "node": node,
                "kind": kind,
                "key": _text(attrs.get("key")),
                "label": _text(attrs.get("label")),
                "title": _text(attrs.get("title")),
                "url": escape.safe_url(attrs.get("url")) or "",
                "level": levels[node],
                "type": _text(attrs.get("type")),
                "status": _text(attrs.get("status")),
                "status_category": _text(attrs.get("status_category")),
                "team": _text(attrs.get("team")),
                "source": _text(attrs.get("source")),
                "orphan": bool(attrs.get("orphan")),
                "orphan_reason": _text(attrs.get("orphan_reason")),
                "unsupported": bool(attrs.get("unsupported")),
                "objectives": _text(attrs.get("objectives") or attrs.get("objective")),
            }
        )
    edges = [
        {
            "from": ids[head],
            "to": ids[tail],
            "kind": _text(attrs.get("kind")),
            "rules": _text(attrs.get("rules")),
            "broken": bool(attrs.get("broken_cycle")),
        }
        for head, tail, attrs in graph.edges(data=True)
    ]
    objectives = [
        {"id": ids[node], "key": _text(attrs.get("key")), "title": _text(attrs.get("title"))}
        for node, attrs in graph.nodes(data=True)
        if attrs.get("kind") == "objective"
    ]
    kinds = [str(a.get("kind")) for _, a in graph.nodes(data=True)]
    return {
        "cycle": _text(graph.graph.get("cycle")),
        "nodes": nodes,
        "edges": edges,
        "objectives": objectives,
        "counts": {
            "objectives": kinds.count("objective"),
            "key_results": kinds.count("key_result"),
            "work_items": kinds.count("item"),
            "orphans": sum(1 for n in nodes if n["orphan"]),
            "unsupported": sum(1 for n in nodes if n["unsupported"]),
        },
    }


def to_html(graph: nx.DiGraph) -> str:
    """The interactive page for a graph already passed through ``normalized``."""
    data = page_data(graph)
    template = environment().get_template("graph.html.j2")
    return template.render(
        data=data,
        data_json=Markup(escape.json_script(data)),  # noqa: S704 - escaped for <script> by json_script
        vis_js=Markup(vis_network_js()),  # noqa: S704 - a packaged library, not data
        too_big=graph.number_of_nodes() > DIAGRAM_NODE_LIMIT,
        limit=DIAGRAM_NODE_LIMIT,
    )
