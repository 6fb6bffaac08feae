"""What a correct analysis of a generated organisation must find: the generator's answer key.

Computed from the planned links (rules 1, 2, 3, 5 and 6 of the SPEC) with the SPEC's definitions:
an orphan is an in-scope item not done that reaches no active KR, with one reason; a KR with no
linked item is ``unsupported``, one whose items are all todo or all done while below target is
``stalled``; effective WIP shares each leaf in-progress item among the objectives it serves.
The unit tests re-derive all of it from the rendered payloads alone.
"""

from __future__ import annotations

from dataclasses import dataclass

from linesight.sandbox.gen_org import DONE, IN_PROGRESS, TODO, Item, Org

__all__ = ["Truth", "truth"]


@dataclass(slots=True)
class Truth:
    """What a correct analysis of the org finds; every list in id order."""

    orphans: dict[str, list[str]]  # reason -> item refs
    kr_status: dict[str, str]  # active KR id -> supported | unsupported | stalled
    kr_items: dict[str, int]  # active KR id -> linked in-scope items
    kr_in_progress: dict[str, int]
    effective_wip: dict[str, float]  # objective -> sum of 1/n over its WIP-level items
    wip_count: dict[str, int]
    shared: dict[str, list[str]]  # item ref -> the active objectives it serves (>= 2)
    cross_tracker: list[str]  # active KRs served by Jira and Azure DevOps
    in_scope: int
    in_progress: int
    wip_items: int  # in-progress items at the leaf WIP level
    aligned_wip: int


def truth(org: Org) -> Truth:
    """Orphans, KR status and effective WIP, from the planned links (rules 1, 2, 3, 5 and 6)."""
    krs = {kr.id: kr for o in org.objectives for kr in o.key_results}
    active = {kid for kid, kr in krs.items() if kr.active}
    direct: dict[Item, set[str]] = {}  # KRs reached by explicit entries
    for kr in krs.values():
        for item in kr.explicit:
            direct.setdefault(item, set()).add(kr.id)
    queries = {kr.query_label: kr for kr in krs.values() if kr.query_label}
    eff: dict[Item, frozenset[str]] = {}
    empty: frozenset[str] = frozenset()
    for item in org.items:  # parents come before their children
        own = set(item.kr_labels) | set(item.kr_field) | direct.get(item, set())
        for label in item.labels:
            query = queries.get(label)
            if query is not None and item.container is query.home:
                own.add(query.id)
        inherited = eff[item.parent] if item.parent is not None else empty
        eff[item] = inherited | own if own else inherited

    orphans: dict[str, list[str]] = {"no_link": [], "unknown_kr": [], "inactive_kr": []}
    kr_items = dict.fromkeys(sorted(active, key=_kr_order), 0)
    kr_ip = dict(kr_items)
    kr_cats: dict[str, set[str]] = {kid: set() for kid in kr_items}
    kr_sources: dict[str, set[str]] = {kid: set() for kid in kr_items}
    objectives_of = {kid: krs[kid].objective for kid in active}
    active_objectives = [o.id for o in org.objectives if o.cycle == org.cycle]
    effective = dict.fromkeys(active_objectives, 0.0)
    wip_count = dict.fromkeys(active_objectives, 0)
    shared: dict[str, list[str]] = {}
    in_scope = in_progress = wip_items = aligned = 0
    for source in ("cloud", "dc", "contoso"):
        for item in org.by_source[source]:
            if item.removed:
                continue
            in_scope += 1
            links = eff[item]
            live = [k for k in links if k in active]
            for kid in live:
                kr_items[kid] += 1
                kr_cats[kid].add(item.category)
                kr_sources[kid].add("jira" if source != "contoso" else "ado")
                if item.category == IN_PROGRESS:
                    kr_ip[kid] += 1
            if item.category == DONE:
                continue
            if not live:
                if not links:
                    orphans["no_link"].append(item.ref())
                elif all(k in krs for k in links):
                    orphans["inactive_kr"].append(item.ref())
                elif not any(k in krs for k in links):
                    orphans["unknown_kr"].append(item.ref())
                else:  # pragma: no cover - the planner never mixes unknown and inactive KRs
                    raise AssertionError(f"{item.ref()}: ambiguous orphan reason {sorted(links)}")
            if item.category != IN_PROGRESS:
                continue
            in_progress += 1
            if any(c.category == IN_PROGRESS and not c.removed for c in item.children or ()):
                continue
            wip_items += 1
            served = sorted({objectives_of[k] for k in live})
            if served:
                aligned += 1
            for objective in served:
                effective[objective] += 1 / len(served)
                wip_count[objective] += 1
            if len(served) > 1:
                shared[item.ref()] = served
    status = {}
    for kid in kr_items:
        kr = krs[kid]
        below = kr.current < kr.target if kr.target >= kr.baseline else kr.current > kr.target
        cats = kr_cats[kid]
        if not kr_items[kid]:
            status[kid] = "unsupported"
        elif below and (cats == {TODO} or cats == {DONE}):
            status[kid] = "stalled"
        else:
            status[kid] = "supported"
    return Truth(
        orphans=orphans,
        kr_status=status,
        kr_items=kr_items,
        kr_in_progress=kr_ip,
        effective_wip={k: round(v, 6) for k, v in effective.items()},
        wip_count=wip_count,
        shared=shared,
        cross_tracker=[k for k, s in kr_sources.items() if len(s) == 2],
        in_scope=in_scope,
        in_progress=in_progress,
        wip_items=wip_items,
        aligned_wip=aligned,
    )


def _kr_order(kid: str) -> tuple[int, int]:
    objective, _, number = kid[2:].partition(".")
    return int(objective), int(number)
