"""The graph: hierarchy inheritance, parent cycles, duplicates, nodes, edges and subgraphs."""

from __future__ import annotations

import pytest

from linesight.analysis import Analysis
from linesight.graph import build_graph, item_node, kr_node, objective_node
from linesight.graph.rules import inherit
from linesight.model import ItemRef
from tests.unit.analysis.org import CYCLE, item, kr, objective, run, settings

OKRS = [objective("O1", kr("KR1.1")), objective("O2", kr("KR2.1"))]


def test_grandchildren_inherit_every_ancestor_kr() -> None:
    graph = build_graph(
        OKRS,
        [
            item("E-1", type="Epic", labels=["kr-KR1.1"]),
            item("F-1", type="Feature", parent="E-1", labels=["kr-KR2.1"]),
            item("S-1", parent="F-1"),
            item("T-1", type="Sub-task", parent="S-1"),
        ],
        settings=settings(),
        cycle=CYCLE,
    )
    assert graph.key_results_of(ItemRef(source="jira", key="T-1")) == {"KR1.1", "KR2.1"}
    assert graph.key_results_of(ItemRef(source="jira", key="E-1")) == {"KR1.1"}
    assert graph.key_results_of(ItemRef(source="jira", key="missing")) == frozenset()


def test_inherit_shares_the_parent_set_when_a_child_adds_nothing() -> None:
    own = frozenset({"KR1"})
    effective = inherit({0: own}, [-1, 0, 1])
    assert effective[2] is effective[0]
    assert inherit({1: frozenset({"KR2"})}, [-1, 0])[1] == {"KR2"}


def test_parent_cycles_are_cut_reported_and_never_loop() -> None:
    items = [
        item("A-2", "in_progress", parent="A-1"),
        item("A-1", "in_progress", parent="A-3", labels=["kr-KR1.1"]),
        item("A-3", "in_progress", parent="A-2"),
        item("B-1", "in_progress", parent="B-1"),  # its own parent
        item("C-1", "in_progress", parent="A-2"),
    ]
    analysis = run(OKRS, items)
    warnings = analysis.result.graph_warnings
    assert any(
        w.startswith("parent cycle") and "ignored the parent of jira:A-1" in w for w in warnings
    )
    # A-1 (the smallest key) lost its parent: A-1 -> A-2 -> A-3 all reach KR1.1, and so does C-1
    assert [o.key for o in analysis.result.orphans] == ["B-1"]
    broken = [(h, t) for h, t, a in analysis.graph.edges("parent") if a.get("broken_cycle")]
    assert sorted(broken) == [
        (item_node("jira", "A-3"), item_node("jira", "A-1")),
        (item_node("jira", "B-1"), item_node("jira", "B-1")),
    ]
    assert any("parent cycle jira:B-1 -> jira:B-1" in w for w in warnings)
    # leaf WIP on the cut hierarchy: C-1 and A-3 are leaves (A-1 -> A-2 -> {A-3, C-1})
    assert analysis.result.summary.wip == 3  # A-3, C-1, B-1


def test_a_parent_that_was_not_synced_ends_the_chain() -> None:
    analysis = run(OKRS, [item("S-1", "in_progress", parent="E-404")])
    assert [(o.key, o.reason) for o in analysis.result.orphans] == [("S-1", "no_link")]
    assert analysis.result.graph_warnings == []


def test_items_of_another_source_are_not_parents() -> None:
    analysis = run(
        OKRS,
        [item("1", source="ado", labels=["KR:KR1.1"]), item("S-1", "in_progress", parent="1")],
    )
    assert [o.key for o in analysis.result.orphans] == ["S-1"]


def test_an_item_synced_twice_counts_once_the_last_copy_wins() -> None:
    analysis = run(OKRS, [item("PAY-1", "todo"), item("PAY-1", "in_progress", labels=["kr-KR1.1"])])
    assert analysis.result.summary.in_scope == 1
    assert analysis.result.summary.aligned_wip == 1
    assert any("synced twice" in w for w in analysis.result.graph_warnings)


def test_duplicate_kr_ids_are_reported_and_the_first_wins() -> None:
    analysis = run(
        [objective("O1", kr("K1")), objective("O2", kr("K1"))], [item("A-1", labels=["kr-K1"])]
    )
    assert [(k.id, k.objective) for k in analysis.result.key_results] == [("K1", "O1")]
    assert any("'K1' is used twice" in w for w in analysis.result.graph_warnings)


def test_warnings_of_one_kind_are_capped() -> None:
    items = [item(f"X-{n}", parent=f"X-{n}") for n in range(60)]
    warnings = run(OKRS, items).result.graph_warnings
    assert len(warnings) == 51
    assert warnings[-1] == "... and 10 more parent cycle warnings"


# --- the networkx view -------------------------------------------------------------------------
def _org() -> Analysis:
    return run(
        OKRS,
        [
            item("E-1", "in_progress", type="Epic", labels=["kr-KR1.1"]),
            item("S-1", "in_progress", parent="E-1"),
            item("T-1", "in_progress", parent="S-1"),
            item("7", "in_progress", source="ado", labels=["KR:KR2.1"]),
            item("O-1", "in_progress"),
        ],
    )


def test_nodes_are_typed_and_carry_the_analysis() -> None:
    graph = _org().graph
    assert {a["kind"] for _, a in graph.nodes()} == {"objective", "key_result", "item"}
    objective_attrs = graph.nx.nodes[objective_node("O1")]
    assert (objective_attrs["active"], objective_attrs["effective_wip"]) == (True, 1.0)
    kr_attrs = graph.nx.nodes[kr_node("KR1.1")]
    assert (kr_attrs["status"], kr_attrs["unsupported"], kr_attrs["kr_kind"]) == (
        "supported",
        False,
        "outcome",
    )
    story = graph.nx.nodes[item_node("jira", "T-1")]
    assert story["objectives"] == ["O1"]
    assert story["key_results"] == ["KR1.1"]
    assert (story["state"], story["wip"], story["orphan"]) == ("aligned", True, False)
    orphan = graph.nx.nodes[item_node("jira", "O-1")]
    assert (orphan["orphan"], orphan["orphan_reason"]) == (True, "no_link")
    assert graph.nx.nodes[item_node("jira", "E-1")]["wip"] is False


def test_edges_are_typed() -> None:
    graph = _org().graph
    kinds = sorted((h, t, a["kind"]) for h, t, a in graph.edges())
    assert kinds == [
        ("item:jira:E-1", "item:jira:S-1", "parent"),
        ("item:jira:S-1", "item:jira:T-1", "parent"),
        ("kr:KR1.1", "item:jira:E-1", "serves"),
        ("kr:KR2.1", "item:ado:7", "serves"),
        ("objective:O1", "kr:KR1.1", "has_kr"),
        ("objective:O2", "kr:KR2.1", "has_kr"),
    ]
    assert next(a for _, _, a in graph.edges("serves"))["rules"] == ["label"]


def test_subgraphs_by_objective_depth_and_source() -> None:
    graph = _org().graph
    assert set(graph.subgraph(objective="O1")) == {
        "objective:O1",
        "kr:KR1.1",
        "item:jira:E-1",
        "item:jira:S-1",
        "item:jira:T-1",
    }
    assert set(graph.subgraph(objective="O1", depth=2)) == {
        "objective:O1",
        "kr:KR1.1",
        "item:jira:E-1",
    }
    every_objective = set(graph.subgraph(depth=2))
    assert "item:jira:O-1" not in every_objective  # orphans hang under no objective
    assert "item:ado:7" in every_objective
    ado_only = graph.subgraph(source="ado")
    assert {n for n, a in ado_only.nodes(data=True) if a["kind"] == "item"} == {"item:ado:7"}
    with pytest.raises(KeyError, match="no objective 'O9'"):
        graph.subgraph(objective="O9")


def test_the_networkx_graph_is_built_once_and_lazily() -> None:
    graph = _org().graph
    assert graph._nx is None
    assert graph.nx is graph.nx
