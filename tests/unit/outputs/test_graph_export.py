"""outputs.graph_export: every format read back by a real reader, hostile titles stay text."""

from __future__ import annotations

import io
import json
import logging
import re
import warnings
from html.parser import HTMLParser
from typing import Any

import networkx as nx
import pydot
import pytest

with warnings.catch_warnings():
    # pydot 4.0's parser still calls pyparsing's camelCase names, deprecated in pyparsing 3.3
    warnings.simplefilter("ignore", DeprecationWarning)
    import pydot.dot_parser

from linesight.errors import UserError
from linesight.outputs.graph_diagram import MERMAID_EDGE_LIMIT
from linesight.outputs.graph_export import DIAGRAM_NODE_LIMIT, export_graph, focus
from tests.unit.analysis import org
from tests.unit.outputs import sample
from tests.unit.outputs.sample import HOSTILE

HOSTILE_NODE = "item:jira:PAY-7"


@pytest.fixture
def graph() -> nx.DiGraph:
    return sample.graph()


# --- GraphML / GEXF / JSON / Cytoscape -----------------------------------------------------------
def test_graphml_round_trips_with_scalar_attributes(graph: nx.DiGraph) -> None:
    back = nx.read_graphml(io.BytesIO(export_graph(graph, "graphml").encode()))
    assert (back.number_of_nodes(), back.number_of_edges()) == (
        graph.number_of_nodes(),
        graph.number_of_edges(),
    )
    hostile = back.nodes[HOSTILE_NODE]
    assert hostile["title"] == HOSTILE
    assert hostile["orphan"] is True
    assert hostile["orphan_reason"] == "no_link"
    assert hostile["kind"] == "item" and hostile["source"] == "jira"
    assert hostile["url"] == sample.BASE + "PAY-7"
    assert back.nodes["item:jira:PAY-1"]["objectives"] == "O1"
    assert back.nodes["item:jira:PAY-1"]["key_results"] == "KR1.1"
    assert back.nodes["kr:KR1.2"]["unsupported"] is True
    assert back.nodes["kr:KR1.1"]["objective"] == "O1"
    assert back.nodes["kr:KR1.1"]["target"] == 3.0  # int and float under one name: float
    assert back.nodes["objective:O1"]["key"] == "O1"
    assert back.edges["kr:KR1.1", "item:jira:PAY-1"] == {
        "kind": "serves",
        "rules": "explicit, label",
    }
    assert back.edges["item:jira:PAY-1", "item:jira:PAY-2"]["kind"] == "parent"


def test_gexf_round_trips(graph: nx.DiGraph) -> None:
    back = nx.read_gexf(io.BytesIO(export_graph(graph, "gexf").encode()))
    assert back.number_of_nodes() == graph.number_of_nodes()
    assert back.number_of_edges() == graph.number_of_edges()
    hostile = back.nodes[HOSTILE_NODE]
    assert hostile["title"] == HOSTILE
    assert hostile["orphan"] is True
    assert hostile["label"].startswith("PAY-7 <img src=x")
    assert back.edges["kr:KR1.1", "item:jira:PAY-1"]["rules"] == "explicit, label"


def test_json_is_node_link_data(graph: nx.DiGraph) -> None:
    data = json.loads(export_graph(graph, "json"))
    back = nx.node_link_graph(data, edges="edges")
    assert set(back.nodes) == set(graph.nodes)
    assert back.number_of_edges() == graph.number_of_edges()
    assert back.nodes[HOSTILE_NODE]["title"] == HOSTILE
    assert back.nodes["item:jira:PAY-1"]["key_results"] == ["KR1.1"]  # lists stay lists in JSON
    assert back.edges["kr:KR1.1", "item:jira:PAY-1"]["rules"] == ["explicit", "label"]
    assert back.graph["cycle"] == "2026-Q4"


def test_cytoscape_elements(graph: nx.DiGraph) -> None:
    data = json.loads(export_graph(graph, "cytoscape"))
    nodes, edges = data["elements"]["nodes"], data["elements"]["edges"]
    assert len(nodes) == graph.number_of_nodes() and len(edges) == graph.number_of_edges()
    by_id = {n["data"]["id"]: n for n in nodes}
    assert set(by_id) == set(graph.nodes)
    assert by_id[HOSTILE_NODE]["data"]["title"] == HOSTILE
    assert by_id[HOSTILE_NODE]["classes"] == "item orphan"
    assert by_id["kr:KR1.2"]["classes"] == "key_result unsupported"
    assert all(e["data"]["source"] in by_id and e["data"]["target"] in by_id for e in edges)
    assert len({e["data"]["id"] for e in edges}) == len(edges)


# --- DOT -----------------------------------------------------------------------------------------
def _unquote(value: str) -> str:
    body = value[1:-1] if value.startswith('"') else value
    return re.sub(r"\\(.)", lambda m: "\n" if m.group(1) == "n" else m.group(1), body)


def test_dot_parses_with_pydot_and_keeps_titles_as_text(graph: nx.DiGraph) -> None:
    (parsed,) = pydot.graph_from_dot_data(export_graph(graph, "dot"))
    nodes = {
        _unquote(n.get_name()): n
        for n in parsed.get_nodes()
        if n.get_name() not in ("node", "graph", "edge")
    }
    assert set(nodes) == set(graph.nodes)
    assert len(parsed.get_edges()) == graph.number_of_edges()
    hostile = nodes[HOSTILE_NODE]
    assert _unquote(hostile.get("title")) == HOSTILE
    assert _unquote(hostile.get("label")).startswith('PAY-7 <img src=x onerror="window')
    assert _unquote(hostile.get("orphan")) == "true"
    assert _unquote(hostile.get("URL")) == sample.BASE + "PAY-7"
    # a javascript: URL never becomes a link
    assert nodes["item:ado:4711"].get("URL") is None
    (serves,) = [
        e for e in parsed.get_edges() if _unquote(e.get_destination()) == "item:jira:PAY-1"
    ]
    assert _unquote(serves.get("rules")) == "explicit, label"


# --- Mermaid -------------------------------------------------------------------------------------
_LABEL = r'(?:[^"\[\]{}()|<>;`\\#\n]|#(?:quot|lt|gt|amp|\d+);)*'
_MERMAID_LINES = {
    "node": re.compile(
        rf'^  (n\d+)(?:\(\["({_LABEL})"\]\)|\{{\{{"({_LABEL})"\}}\}}|\["({_LABEL})"\])$'
    ),
    "edge": re.compile(r"^  (n\d+) (?:-->|-\.->) (n\d+)$"),
    "comment": re.compile(r"^  %% [^\n]*$"),
    "classdef": re.compile(
        r"^  classDef (\w+) fill:#[0-9a-f]{6},stroke:#[0-9a-f]{6},color:#[0-9a-f]{6}$"
    ),
    "class": re.compile(r"^  class (n\d+(?:,n\d+)*) (\w+)$"),
    "click": re.compile(r'^  click (n\d+) href "(https?://[^"\s\\]+)" _blank$'),
}


def check_mermaid(text: str) -> dict[str, Any]:
    """A strict checker for the flowchart subset linesight writes: every line has one of the
    shapes above, node ids are defined once before use, classes are defined, labels are safe."""
    lines = text.rstrip("\n").split("\n")
    assert lines[0] == "flowchart LR"
    nodes: dict[str, str] = {}
    edges: list[tuple[str, str]] = []
    classdefs: set[str] = set()
    classes: dict[str, str] = {}
    clicks: dict[str, str] = {}
    for number, line in enumerate(lines[1:], start=2):
        kind, match = next(
            ((k, m) for k, p in _MERMAID_LINES.items() if (m := p.match(line))), (None, None)
        )
        assert match is not None, f"line {number} is not valid in our Mermaid subset: {line!r}"
        if kind == "node":
            node_id = match.group(1)
            assert node_id not in nodes, f"line {number}: {node_id} defined twice"
            nodes[node_id] = next(g for g in match.groups()[1:] if g is not None)
        elif kind == "edge":
            assert match.group(1) in nodes and match.group(2) in nodes, f"line {number}: {line}"
            edges.append((match.group(1), match.group(2)))
        elif kind == "classdef":
            classdefs.add(match.group(1))
        elif kind == "class":
            assert match.group(2) in classdefs, f"line {number}: class used before classDef"
            for node_id in match.group(1).split(","):
                assert node_id in nodes
                classes[node_id] = match.group(2)
        elif kind == "click":
            assert match.group(1) in nodes
            clicks[match.group(1)] = match.group(2)
    return {"nodes": nodes, "edges": edges, "classes": classes, "clicks": clicks}


def _mermaid_text(label: str) -> str:
    named = {"quot": '"', "lt": "<", "gt": ">", "amp": "&"}
    return re.sub(r"#(\w+);", lambda m: named.get(m.group(1)) or chr(int(m.group(1))), label)


def test_mermaid_is_valid_and_escapes_titles(graph: nx.DiGraph) -> None:
    checked = check_mermaid(export_graph(graph, "mermaid"))
    assert len(checked["nodes"]) == graph.number_of_nodes()
    assert len(checked["edges"]) == graph.number_of_edges()
    labels = {_mermaid_text(label): node_id for node_id, label in checked["nodes"].items()}
    (hostile,) = [label for label in labels if label.startswith("PAY-7 ")]
    assert hostile.startswith('PAY-7 <img src=x onerror="window.__pwned=1"><script>')
    assert checked["classes"][labels[hostile]] == "orphan"
    assert sample.BASE + "PAY-7" in checked["clicks"].values()
    assert not any("javascript" in url for url in checked["clicks"].values())


def test_mermaid_notes_when_the_picture_is_too_big_for_wikis() -> None:
    big = nx.DiGraph()
    big.add_node("objective:O1", kind="objective", id="O1", title="o")
    for number in range(MERMAID_EDGE_LIMIT + 1):
        big.add_node(f"item:j:{number}", kind="item", key=str(number), title="t")
        big.add_edge("objective:O1", f"item:j:{number}", kind="serves")
    text = export_graph(big, "mermaid")
    check_mermaid(text)
    assert f"Mermaid draws at most {MERMAID_EDGE_LIMIT}" in text


# --- HTML ----------------------------------------------------------------------------------------
class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.scripts: list[tuple[dict[str, str | None], str]] = []
        self._in_script: dict[str, str | None] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag == "script":
            self._in_script = dict(attrs)
            self.scripts.append((self._in_script, ""))

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = None

    def handle_data(self, data: str) -> None:
        if self._in_script is not None:
            attrs, text = self.scripts[-1]
            self.scripts[-1] = (attrs, text + data)


def test_html_page_is_self_contained_and_carries_data_only_as_json(graph: nx.DiGraph) -> None:
    page = _Page()
    page.feed(export_graph(graph, "html"))
    kinds = [attrs.get("type") for attrs, _ in page.scripts]
    assert kinds == ["application/json", None, None]  # data, vis-network, the page's script
    assert not any(attrs.get("src") for attrs, _ in page.scripts)
    assert not [t for t, a in page.tags if t in ("img", "iframe", "link", "object", "embed")]
    assert not [a for _, attrs in page.tags for a in attrs if a.startswith("on")]
    data = json.loads(page.scripts[0][1])
    (hostile,) = [n for n in data["nodes"] if n["key"] == "PAY-7"]
    assert hostile["title"] == HOSTILE
    assert hostile["orphan"] is True
    (ado,) = [n for n in data["nodes"] if n["key"] == "4711"]
    assert ado["url"] == ""  # javascript: dropped
    assert len(data["edges"]) == graph.number_of_edges()
    assert "vis-network" in page.scripts[1][1][:2000]
    assert "sourceMappingURL" not in page.scripts[1][1]
    assert "JSON.parse" in page.scripts[2][1]


def test_html_levels_put_objectives_left_and_children_right(graph: nx.DiGraph) -> None:
    page = _Page()
    page.feed(export_graph(graph, "html"))
    levels = {n["key"]: n["level"] for n in json.loads(page.scripts[0][1])["nodes"]}
    assert (levels["O1"], levels["KR1.1"], levels["PAY-1"], levels["PAY-2"]) == (0, 1, 2, 3)
    assert (levels["PAY-7"], levels["PAY-8"]) == (2, 3)


def test_big_pictures_warn(caplog: pytest.LogCaptureFixture) -> None:
    big = nx.DiGraph()
    for number in range(DIAGRAM_NODE_LIMIT + 1):
        big.add_node(f"item:j:{number}", kind="item", key=str(number), title="t")
    with caplog.at_level(logging.WARNING):
        export_graph(big, "dot")
    assert "focus it with --objective" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        export_graph(big, "graphml")
    assert caplog.text == ""


# --- filters -------------------------------------------------------------------------------------
def test_objective_filter_keeps_its_krs_items_and_descendants(graph: nx.DiGraph) -> None:
    kept = focus(graph, objective="O1")
    assert set(kept.nodes) == {
        "objective:O1",
        "kr:KR1.1",
        "kr:KR1.2",
        "item:jira:PAY-1",
        "item:jira:PAY-2",
        "item:jira:PAY-5",
    }


def test_depth_counts_levels_from_the_objectives(graph: nx.DiGraph) -> None:
    assert {a["kind"] for _, a in focus(graph, depth=1).nodes(data=True)} == {
        "objective",
        "key_result",
    }
    assert "item:jira:PAY-1" in focus(graph, objective="O1", depth=2)
    assert "item:jira:PAY-2" not in focus(graph, objective="O1", depth=2)
    assert set(focus(graph, depth=0).nodes) == {"objective:O1", "objective:O2"}


def test_source_and_only_filters(graph: nx.DiGraph) -> None:
    ado = focus(graph, source="ado")
    assert {n for n, a in ado.nodes(data=True) if a["kind"] == "item"} == {"item:ado:4711"}
    assert "objective:O1" in ado
    orphans = focus(graph, only="orphans")
    assert set(orphans.nodes) == {"item:jira:PAY-7", "item:jira:PAY-8", "item:ado:4711"}
    assert orphans.has_edge("item:jira:PAY-7", "item:jira:PAY-8")
    unsupported = focus(graph, only="unsupported")
    assert set(unsupported.nodes) == {"objective:O1", "kr:KR1.2", "objective:O2", "kr:KR2.1"}


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"objective": "O9"}, "no objective 'O9' in the graph (known: O1, O2)"),
        ({"source": "gitlab"}, "no items from source 'gitlab' in the graph (sources: ado, jira)"),
        ({"depth": -1}, "--depth must be 0 or more"),
        ({"only": "everything"}, "unknown --only 'everything'"),
    ],
)
def test_bad_filters_say_what_and_how(
    graph: nx.DiGraph, kwargs: dict[str, Any], message: str
) -> None:
    with pytest.raises(UserError, match=re.escape(message)):
        export_graph(graph, "json", **kwargs)


def test_unknown_format_lists_the_formats(graph: nx.DiGraph) -> None:
    with pytest.raises(UserError, match="choose one of: graphml, gexf, json, dot, mermaid"):
        export_graph(graph, "svg")  # type: ignore[arg-type]


# --- the real graph ------------------------------------------------------------------------------
def test_every_format_from_a_real_analysis() -> None:
    objectives = [org.objective("O1", org.kr("KR1.1"), wip_limit=1)]
    items = [
        org.item("PAY-1", "in_progress", labels=["kr-KR1.1"], type="Epic"),
        org.item("PAY-2", "in_progress", parent="PAY-1"),
        org.item("PAY-3", "in_progress", labels=["kr-KR9.9"]),
        org.item("7", "todo", source="ado", team="Fabrikam Team"),
    ]
    analysis = org.run(objectives, items)
    real = analysis.graph
    expected_nodes, expected_edges = real.nx.number_of_nodes(), real.nx.number_of_edges()
    back = nx.read_graphml(io.BytesIO(export_graph(real, "graphml").encode()))
    assert (back.number_of_nodes(), back.number_of_edges()) == (expected_nodes, expected_edges)
    assert back.nodes["item:jira:PAY-3"]["orphan"] is True
    assert back.nodes["item:jira:PAY-3"]["orphan_reason"] == "unknown_kr"
    assert back.nodes["item:jira:PAY-2"]["objectives"] == "O1"
    assert back.edges["kr:KR1.1", "item:jira:PAY-1"]["rules"] == "label"
    gexf = nx.read_gexf(io.BytesIO(export_graph(real, "gexf").encode()))
    assert gexf.number_of_nodes() == expected_nodes
    linked = nx.node_link_graph(json.loads(export_graph(real, "json")), edges="edges")
    assert linked.number_of_edges() == expected_edges
    check_mermaid(export_graph(real, "mermaid"))
    (dot,) = pydot.graph_from_dot_data(export_graph(real, "dot"))
    assert len(dot.get_edges()) == expected_edges
    assert "objective:O1" in export_graph(real, "html", objective="O1")
    only = json.loads(export_graph(real, "json", only="orphans"))
    assert {n["id"] for n in only["nodes"]} == {"item:jira:PAY-3", "item:ado:7"}
