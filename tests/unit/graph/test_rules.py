"""Each link rule on its own, its matching rules, and its switch."""

from __future__ import annotations

import pytest

from linesight.analysis import Analysis
from linesight.graph.rules import KrResolver, parse_kr_refs
from linesight.model import ItemRef
from tests.unit.analysis.org import ADO, JIRA, item, kr, objective, run, settings

OKRS = [objective("O1", kr("KR1.1"), kr("KR2.1"), kr("KR3.1"))]


def _serves(analysis: Analysis) -> dict[str, list[str]]:
    """item node -> sorted KR ids it is directly linked to."""
    found: dict[str, list[str]] = {}
    for head, tail, _ in analysis.graph.edges("serves"):
        found.setdefault(tail, []).append(head.removeprefix("kr:"))
    return {node: sorted(krs) for node, krs in found.items()}


def _rules(analysis: Analysis, kr_id: str, node: str) -> list[str]:
    return analysis.graph.nx.edges[f"kr:{kr_id}", node]["rules"]  # type: ignore[no-any-return]


# --- rule 1: explicit work entries -------------------------------------------------------------
PAY = {**JIRA, "name": "pay"}
OPS = {**JIRA, "name": "ops", "projects": ["OPS"]}
FAB = {**ADO, "name": "fab"}
THREE_SOURCES = settings(sources=[PAY, OPS, FAB])


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        ("jira:X-1", ["item:ops:X-1", "item:pay:X-1"]),  # a kind: every Jira source
        ("ops:X-1", ["item:ops:X-1"]),  # a name: only that source
        ("ado:4711", ["item:fab:4711"]),
        ("azure-devops:4711", ["item:fab:4711"]),
        ("jira:x-1", ["item:ops:X-1", "item:pay:X-1"]),  # Jira keys upper-cased
    ],
)
def test_explicit_entries_match_a_source_name_first_else_every_source_of_that_kind(
    entry: str, expected: list[str]
) -> None:
    items = [
        item("X-1", source="pay"),
        item("X-1", source="ops"),
        item("4711", source="fab"),
    ]
    analysis = run([objective("O1", kr("KR1.1", work=(entry,)))], items, config=THREE_SOURCES)
    assert sorted(_serves(analysis)) == expected
    assert _rules(analysis, "KR1.1", expected[0]) == ["explicit"]


def test_explicit_entries_that_name_nothing_are_warned_about() -> None:
    entries = ("nope:X-1", "pay:X-404", "garbage", "jql: project = PAY")
    analysis = run(
        [objective("O1", kr("KR1.1", work=entries))],
        [item("X-1", source="pay")],
        config=THREE_SOURCES,
    )
    warnings = "\n".join(analysis.result.graph_warnings)
    assert "'nope:X-1' names no source" in warnings
    assert "pay:X-404 matches no synced item" in warnings
    assert "'garbage' is not '<source>:<key>'" in warnings
    assert "project = PAY" not in warnings  # queries are rule 5, resolved by the sync step
    assert len(analysis.result.graph_warnings) == 3


def test_an_explicitly_linked_epic_outside_the_sync_still_reaches_its_synced_children() -> None:
    analysis = run(
        [objective("O1", kr("KR1.1", work=("jira:PAY-12",)))],
        [item("PAY-13", "in_progress", parent="PAY-12"), item("PAY-14", "in_progress")],
    )
    assert [o.key for o in analysis.result.orphans] == ["PAY-14"]
    ghost = analysis.graph.nx.nodes["item:jira:PAY-12"]
    assert ghost["synced"] is False
    assert analysis.result.graph_warnings == []  # the entry found its children


# --- rule 2: labels and tags -------------------------------------------------------------------
def test_label_prefix_is_case_insensitive_and_tag_spacing_is_ignored() -> None:
    analysis = run(
        OKRS,
        [
            item("PAY-1", labels=["KR-KR1.1", "frontend"]),
            item("7", source="ado", labels=["kr: KR2.1"]),
            item("PAY-2", labels=["kr-kr3.1"]),  # id case-insensitively, when unambiguous
        ],
    )
    assert _serves(analysis) == {
        "item:jira:PAY-1": ["KR1.1"],
        "item:ado:7": ["KR2.1"],
        "item:jira:PAY-2": ["KR3.1"],
    }
    assert _rules(analysis, "KR2.1", "item:ado:7") == ["label"]


def test_each_source_uses_its_own_prefix() -> None:
    custom = settings(
        sources=[{**JIRA, "kr_label_prefix": "okr/"}, {**ADO, "kr_tag_prefix": "OKR "}]
    )
    analysis = run(
        OKRS,
        [
            item("PAY-1", labels=["okr/KR1.1", "kr-KR2.1"]),
            item("7", source="ado", labels=["OKR KR2.1", "KR:KR1.1"]),
        ],
        config=custom,
    )
    assert _serves(analysis) == {"item:jira:PAY-1": ["KR1.1"], "item:ado:7": ["KR2.1"]}


def test_unconfigured_sources_accept_both_default_prefixes() -> None:
    analysis = run(OKRS, [item("1", source="other", labels=["kr-KR1.1", "KR:KR2.1"])])
    assert _serves(analysis) == {"item:other:1": ["KR1.1", "KR2.1"]}


def test_resolver_prefers_exact_and_refuses_ambiguous_case() -> None:
    resolver = KrResolver(["KR1", "kr1", "Goal", "jira:PAY-7"])
    assert resolver.resolve("kr1", "jira") == "kr1"
    assert resolver.resolve("Kr1", "jira") is None  # two KRs differ only in case
    assert resolver.resolve("GOAL", "jira") == "Goal"
    assert resolver.resolve("PAY-7", "jira") == "jira:PAY-7"  # a tracker KR of the same source
    assert resolver.resolve("PAY-7", "ado") is None


# --- rule 3: the KR field ----------------------------------------------------------------------
def test_kr_field_holds_several_ids() -> None:
    assert parse_kr_refs(["KR1.1, KR2.1;KR3.1  KR9", ""]) == ["KR1.1", "KR2.1", "KR3.1", "KR9"]
    analysis = run(OKRS, [item("PAY-1", kr_refs=["KR1.1, KR2.1;KR3.1  KR9"])])
    assert _serves(analysis) == {"item:jira:PAY-1": ["KR1.1", "KR2.1", "KR3.1"]}
    assert _rules(analysis, "KR1.1", "item:jira:PAY-1") == ["field"]


# --- rule 5: queries ---------------------------------------------------------------------------
def test_query_matches_link_items() -> None:
    matches = {
        "KR1.1": [ItemRef(source="jira", key="PAY-1"), ItemRef(source="ado", key="7")],
        "KR9.9": [ItemRef(source="jira", key="PAY-1")],
    }
    analysis = run(OKRS, [item("PAY-1"), item("7", source="ado")], query_matches=matches)
    assert _serves(analysis) == {"item:jira:PAY-1": ["KR1.1"], "item:ado:7": ["KR1.1"]}
    assert _rules(analysis, "KR1.1", "item:ado:7") == ["query"]
    assert any("unknown key result 'KR9.9'" in w for w in analysis.result.graph_warnings)


# --- several rules, and the switches -----------------------------------------------------------
def test_an_edge_lists_every_rule_that_made_it() -> None:
    analysis = run(
        [objective("O1", kr("KR1.1", work=("jira:PAY-1",)))],
        [item("PAY-1", labels=["kr-KR1.1"], kr_refs=["KR1.1"])],
        query_matches={"KR1.1": [ItemRef(source="jira", key="PAY-1")]},
    )
    assert _rules(analysis, "KR1.1", "item:jira:PAY-1") == ["explicit", "label", "field", "query"]


@pytest.mark.parametrize("rule", ["explicit", "label", "field", "query"])
def test_each_rule_can_be_switched_off(rule: str) -> None:
    okrs = [objective("O1", kr("KR1.1", work=("jira:PAY-1",)))]
    items = [
        item("PAY-1", "in_progress"),
        item("PAY-2", "in_progress", labels=["kr-KR1.1"]),
        item("PAY-3", "in_progress", kr_refs=["KR1.1"]),
        item("PAY-4", "in_progress"),
    ]
    matches = {"KR1.1": [ItemRef(source="jira", key="PAY-4")]}
    which = {"explicit": "PAY-1", "label": "PAY-2", "field": "PAY-3", "query": "PAY-4"}
    on = run(okrs, items, query_matches=matches)
    off = run(okrs, items, query_matches=matches, config=settings(links={rule: False}))
    assert on.result.orphans == []
    assert [o.key for o in off.result.orphans] == [which[rule]]


def test_a_label_naming_an_unknown_kr_is_not_linked_when_labels_are_off() -> None:
    analysis = run(
        OKRS, [item("PAY-1", labels=["kr-KR9"])], config=settings(links={"label": False})
    )
    assert [(o.key, o.reason) for o in analysis.result.orphans] == [("PAY-1", "no_link")]


def test_query_matches_kept_per_query_as_the_store_returns_them() -> None:
    matches = {
        "KR1.1": {
            "jql:project = PAY": {ItemRef(source="jira", key="PAY-1")},
            "wiql:[System.AreaPath] UNDER 'Fabrikam'": {ItemRef(source="ado", key="7")},
        }
    }
    analysis = run(OKRS, [item("PAY-1"), item("7", source="ado")], query_matches=matches)
    assert _serves(analysis) == {"item:jira:PAY-1": ["KR1.1"], "item:ado:7": ["KR1.1"]}
