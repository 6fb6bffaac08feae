"""Every diagnostic, firing and not firing, with its value and threshold."""

from __future__ import annotations

from typing import Any

from linesight.analysis import Analysis
from tests.unit.analysis.org import item, kr, objective, run, settings

SCORE_INPUTS: dict[str, Any] = {"baseline": 0.0, "target": 1.0}


def _codes(analysis: Analysis) -> dict[str, tuple[str, float, float]]:
    return {d.code: (d.severity, d.value, d.threshold) for d in analysis.result.diagnostics}


def _objectives(count: int) -> list:  # type: ignore[type-arg]
    return [objective(f"O{n}", kr(f"KR{n}.1", target=1.0, baseline=0.0)) for n in range(count)]


def test_too_many_objectives_warns_from_12_and_errors_above_15() -> None:
    assert "too_many_objectives" not in _codes(run(_objectives(11), []))
    assert _codes(run(_objectives(12), []))["too_many_objectives"] == ("warning", 12, 12)
    assert _codes(run(_objectives(15), []))["too_many_objectives"] == ("warning", 15, 12)
    assert _codes(run(_objectives(16), []))["too_many_objectives"] == ("error", 16, 15)


def test_closed_and_past_objectives_do_not_count_towards_too_many() -> None:
    okrs = [*_objectives(11), objective("C", closed=True), objective("P", cycle="2026-Q3")]
    assert "too_many_objectives" not in _codes(run(okrs, []))


def test_output_krs_fires_above_forty_percent() -> None:
    outcome = "Raise checkout conversion from 2% to 3%"
    output = "Launch the new checkout page"
    two_of_five = [objective("O1", *(kr(f"K{i}", output if i < 2 else outcome) for i in range(5)))]
    assert "output_krs" not in _codes(run(two_of_five, []))
    three = [objective("O1", *(kr(f"K{i}", output if i < 3 else outcome) for i in range(5)))]
    analysis = run(three, [])
    assert _codes(analysis)["output_krs"] == ("warning", 0.6, 0.4)
    (finding,) = [d for d in analysis.result.diagnostics if d.code == "output_krs"]
    assert finding.subjects == ["K0", "K1", "K2"]
    assert "outcome" in finding.message


def _scored(*scores: float | None) -> list:  # type: ignore[type-arg]
    return [
        objective(
            "O1",
            *(
                kr(f"K{i}", **SCORE_INPUTS, current=s) if s is not None else kr(f"K{i}", target=1.0)
                for i, s in enumerate(scores)
            ),
        )
    ]


def test_score_clustering_needs_a_bunch_with_little_variance() -> None:
    codes = _codes(run(_scored(0.75, 0.8, 0.85), []))
    assert codes["score_clustering"] == ("warning", 1.0, 0.6)
    assert "score_clustering" not in _codes(run(_scored(0.1, 0.8, 0.85), []))  # wide spread
    assert "score_clustering" not in _codes(run(_scored(0.8, 0.85), []))  # too few scores
    assert "score_clustering" not in _codes(run(_scored(0.3, 0.4, 0.5), []))  # not in the band


def test_all_green_when_every_kr_is_on_track() -> None:
    assert _codes(run(_scored(0.7, 0.95, 1.2), []))["all_green"] == ("info", 1.0, 0.7)
    assert "all_green" not in _codes(run(_scored(0.7, 0.95, 0.5), []))
    assert "all_green" not in _codes(run(_scored(0.7, 0.95, None), []))  # one unscored
    assert "all_green" not in _codes(run(_scored(0.9, 0.95), []))  # too few


def test_kr_without_target() -> None:
    analysis = run([objective("O1", kr("K1"), kr("K2", target=3.0, baseline=1.0))], [])
    assert _codes(analysis)["kr_without_target"] == ("warning", 1, 0)
    (finding,) = [d for d in analysis.result.diagnostics if d.code == "kr_without_target"]
    assert finding.subjects == ["K1"]
    assert "kr_without_target" not in _codes(run([objective("O1", kr("K2", target=3.0))], []))


def test_objective_without_krs() -> None:
    analysis = run([objective("O1"), objective("O2", kr("K1", target=1.0))], [])
    assert _codes(analysis)["objective_without_krs"] == ("warning", 1, 0)
    closed = run([objective("O1", closed=True), objective("O2", kr("K1", target=1.0))], [])
    assert "objective_without_krs" not in _codes(closed)


def test_wip_over_limit_one_finding_per_objective() -> None:
    okrs = [
        objective("O1", kr("K1", target=1.0), wip_limit=1),
        objective("O2", kr("K2", target=1.0), wip_limit=2),
    ]
    items = [
        item("A-1", "in_progress", labels=["kr-K1"]),
        item("A-2", "in_progress", labels=["kr-K1"]),
        item("B-1", "in_progress", labels=["kr-K2"]),
        item("B-2", "in_progress", labels=["kr-K2"]),
    ]
    analysis = run(okrs, items)
    findings = [d for d in analysis.result.diagnostics if d.code == "wip_over_limit"]
    assert [(d.subjects, d.value, d.threshold) for d in findings] == [(["O1"], 2.0, 1)]


def test_low_alignment_below_the_threshold() -> None:
    okrs = [objective("O1", kr("K1", target=1.0))]
    half = [item("A-1", "in_progress", labels=["kr-K1"]), item("A-2", "in_progress")]
    assert _codes(run(okrs, half))["low_alignment"] == ("warning", 0.5, 0.6)
    assert "low_alignment" not in _codes(run(okrs, half[:1]))
    assert "low_alignment" not in _codes(run(okrs, []))  # no WIP, no share
    lenient = settings(thresholds={"low_alignment": 0.5})
    assert "low_alignment" not in _codes(run(okrs, half, config=lenient))


def test_a_healthy_organisation_has_no_diagnostics() -> None:
    okrs = [
        objective(
            "O1",
            kr("K1", "Raise conversion from 2% to 3%", baseline=2.0, target=3.0, current=2.3),
            wip_limit=3,
        ),
    ]
    analysis = run(okrs, [item("A-1", "in_progress", labels=["kr-K1"])])
    assert analysis.result.diagnostics == []


def test_every_message_says_what_to_do() -> None:
    okrs = [*_objectives(16), objective("E")]
    analysis = run(okrs, [item("A-1", "in_progress")])
    for finding in analysis.result.diagnostics:
        assert len(finding.message) > 40, finding
