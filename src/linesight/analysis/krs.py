"""Support of each active key result: supported, unsupported or stalled.

A KR's *linked items* are the in-scope items that reach it by any rule, inherited links included
(a KR linked to an epic is served by the epic's stories too). Then:

- ``unsupported`` — no linked item;
- ``stalled`` — linked items, none in progress, and either all ``todo`` (nothing has started) or
  all ``done`` (the work is finished), while the score is below target: below 1.0, or unknown
  (no baseline/target/current — a tracker KR, say — cannot show that its target was met);
- ``supported`` — anything else: some item is in progress, or finished work sits next to queued
  work (``done`` and ``todo`` mixed), or all work is done and the score has reached the target.

``unsupported_kr_count`` counts the unsupported and the stalled.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence

from linesight.analysis.kr_kind import classify_kr
from linesight.analysis.result import KeyResultResult, KrStatus
from linesight.graph.build import LinkIndex
from linesight.model import KeyResult, StatusCategory

__all__ = ["kr_results"]

_TODO, _IN_PROGRESS, _DONE = StatusCategory.TODO, StatusCategory.IN_PROGRESS, StatusCategory.DONE


def _count_links(
    index: LinkIndex, active_kr: Mapping[str, str]
) -> dict[str, Counter[StatusCategory]]:
    # count (KR set, status) pairs first: a million items share a few thousand KR sets
    pairs: Counter[tuple[frozenset[str], StatusCategory]] = Counter()
    items, effective = index.items, index.effective
    for position in index.work:
        reached = effective[position]
        if reached:
            pairs[reached, items[position].status_category] += 1
    counts: dict[str, Counter[StatusCategory]] = {kr: Counter() for kr in active_kr}
    for (reached, category), number in pairs.items():
        for kr_id in reached:
            if kr_id in counts:
                counts[kr_id][category] += number
    return counts


def _status(kr: KeyResult, counts: Counter[StatusCategory]) -> tuple[KrStatus, str]:
    total = counts.total()
    todo, doing, done = counts[_TODO], counts[_IN_PROGRESS], counts[_DONE]
    if total == 0:
        return "unsupported", "no in-scope item links to it by any rule"
    score = kr.score
    below = score is None or score < 1.0
    where = "unknown" if score is None else f"{score:.2f}"
    if doing == 0 and below and todo == total:
        return "stalled", f"all {total} linked items are todo (nothing started); score {where}"
    if doing == 0 and below and done == total:
        return (
            "stalled",
            f"all {total} linked items are done but the score is {where}, below target",
        )
    if doing:
        return "supported", f"{doing} of {total} linked items in progress"
    if done == total:
        return "supported", f"all {total} linked items done and the target is reached"
    return "supported", f"{done} linked items done and {todo} to do"


def kr_results(
    index: LinkIndex,
    active_krs: Sequence[KeyResult],
    active_kr: Mapping[str, str],
) -> list[KeyResultResult]:
    """One result per active KR (``active_kr`` maps each to its objective), in given order."""
    counts = _count_links(index, active_kr)
    results: list[KeyResultResult] = []
    for kr in active_krs:
        tally = counts.get(kr.id, Counter())
        status, why = _status(kr, tally)
        verdict = classify_kr(kr.title, baseline=kr.baseline, target=kr.target)
        score = kr.score
        results.append(
            KeyResultResult(
                id=kr.id,
                objective=active_kr[kr.id],
                title=kr.title,
                status=status,
                supporting_items=tally.total(),
                in_progress_items=tally[_IN_PROGRESS],
                score=None if score is None else round(score, 4),
                kind=verdict.kind.value,
                kind_reason=verdict.reason,
                status_reason=why,
                todo_items=tally[_TODO],
                done_items=tally[_DONE],
                baseline=kr.baseline,
                target=kr.target,
                current=kr.current,
                source=kr.origin.source if kr.origin else None,
            )
        )
    return results
