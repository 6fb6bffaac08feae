"""Properties of the analysis over random organisations (Hypothesis)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from linesight.analysis import Analysis
from linesight.model import KeyResult, Objective, WorkItem
from tests.unit.analysis.org import CYCLE, item, objective, run, settings

CATEGORIES = ("todo", "in_progress", "done")


@dataclass(frozen=True)
class Org:
    objectives: list[Objective]
    items: list[WorkItem]
    kr_ids: list[str]


@st.composite
def orgs(draw: st.DrawFn) -> Org:
    objectives: list[Objective] = []
    kr_ids: list[str] = []
    for o in range(draw(st.integers(1, 4))):
        krs = []
        for k in range(draw(st.integers(0, 3))):
            kr_id = f"KR{o}.{k}"
            kr_ids.append(kr_id)
            krs.append(KeyResult(id=kr_id, objective=f"O{o}", title=f"Raise {kr_id} from 1 to 2"))
        objectives.append(
            objective(
                f"O{o}",
                *krs,
                cycle=draw(st.sampled_from([CYCLE, CYCLE, "2026-Q3"])),
                closed=draw(st.booleans()),
            )
        )
    names = [*kr_ids, "KR-unknown"]
    n_items = draw(st.integers(0, 25))
    items = []
    for n in range(n_items):
        # parents point anywhere: cycles and dangling parents happen
        parent = draw(st.one_of(st.none(), st.integers(0, n_items)))
        labels = draw(st.lists(st.sampled_from(names), max_size=2)) if names else []
        items.append(
            item(
                f"I-{n}",
                draw(st.sampled_from(CATEGORIES)),
                parent=None if parent is None else f"I-{parent}",
                labels=[f"kr-{name}" for name in labels],
                team=draw(st.sampled_from([None, "a", "b"])),
            )
        )
    return Org(objectives, items, kr_ids)


def _analyse(org: Org, level: str = "leaf") -> Analysis:
    return run(org.objectives, org.items, config=settings(wip_level=level))


@hypothesis_settings(max_examples=100, deadline=None)
@given(orgs(), st.sampled_from(["leaf", "epic"]))
def test_effective_wip_sums_to_aligned_wip(org: Org, level: str) -> None:
    result = _analyse(org, level).result
    total = math.fsum(o.effective_wip for o in result.objectives)
    assert math.isclose(total, result.summary.aligned_wip, abs_tol=1e-9)
    assert result.summary.aligned_wip <= result.summary.wip <= result.summary.in_progress


@hypothesis_settings(max_examples=100, deadline=None)
@given(orgs())
def test_every_in_scope_item_is_exactly_one_of_aligned_orphan_done(org: Org) -> None:
    analysis = _analyse(org)
    summary = analysis.result.summary
    assert summary.aligned + summary.orphan_count + summary.done == summary.in_scope
    states = [a["state"] for _, a in analysis.graph.nodes("item")]
    assert sorted(states) == sorted(
        ["aligned"] * summary.aligned + ["orphan"] * summary.orphan_count + ["done"] * summary.done
    )
    orphan_keys = {o.key for o in analysis.result.orphans}
    for node, attrs in analysis.graph.nodes("item"):
        assert (attrs["state"] == "orphan") == (attrs["key"] in orphan_keys), node


@hypothesis_settings(max_examples=100, deadline=None)
@given(orgs(), st.data())
def test_adding_a_link_never_creates_an_orphan(org: Org, data: st.DataObject) -> None:
    before = _analyse(org).result
    if not org.items or not org.kr_ids:
        return
    position = data.draw(st.integers(0, len(org.items) - 1))
    kr_id = data.draw(st.sampled_from(org.kr_ids))
    target = org.items[position]
    how = data.draw(st.sampled_from(["label", "field", "explicit"]))
    items, objectives = list(org.items), list(org.objectives)
    if how == "label":
        items[position] = target.model_copy(update={"labels": (*target.labels, f"kr-{kr_id}")})
    elif how == "field":
        items[position] = target.model_copy(update={"kr_refs": (kr_id,)})
    else:
        objectives = [
            o.model_copy(
                update={
                    "key_results": tuple(
                        k.model_copy(update={"work": (*k.work, f"jira:{target.key}")})
                        if k.id == kr_id
                        else k
                        for k in o.key_results
                    )
                }
            )
            for o in objectives
        ]
    after = _analyse(Org(objectives, items, org.kr_ids)).result
    assert {o.key for o in after.orphans} <= {o.key for o in before.orphans}
    assert after.summary.orphan_count <= before.summary.orphan_count
