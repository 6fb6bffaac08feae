"""The JSON document has every key the SPEC names, and round-trips."""

from __future__ import annotations

import json

from linesight.analysis import AnalysisResult
from tests.unit.analysis.org import NOW, item, kr, objective, run

SPEC_KEYS = {
    "": {"generated_at", "cycle", "summary", "objectives", "key_results", "orphans", "diagnostics"},
    "summary": {
        "work_items",
        "in_scope",
        "in_progress",
        "aligned_wip",
        "orphan_count",
        "orphan_share",
        "unsupported_kr_count",
    },
    "objectives": {
        "id",
        "title",
        "effective_wip",
        "wip_count",
        "wip_limit",
        "over_limit",
        "throughput_per_week",
        "lead_time_days",
        "wip_age_p50_days",
        "wip_age_p85_days",
    },
    "key_results": {
        "id",
        "objective",
        "title",
        "status",
        "supporting_items",
        "in_progress_items",
        "score",
        "kind",
        "kind_reason",
    },
    "orphans": {"source", "key", "type", "title", "status", "reason", "age_days", "team", "url"},
    "diagnostics": {"code", "severity", "value", "threshold", "message"},
}


def _document() -> dict:  # type: ignore[type-arg]
    analysis = run(
        [objective("O1", kr("KR1.1"), kr("KR1.2", "Launch the app"), wip_limit=0)],
        [item("PAY-1", "in_progress", labels=["kr-KR1.1"]), item("PAY-2", "todo")],
    )
    return json.loads(json.dumps(analysis.result.model_dump(mode="json")))  # type: ignore[no-any-return]


def test_every_spec_key_is_present() -> None:
    document = _document()
    assert SPEC_KEYS[""] <= document.keys()
    assert SPEC_KEYS["summary"] <= document["summary"].keys()
    for section in ("objectives", "key_results", "orphans", "diagnostics"):
        assert document[section], section
        for entry in document[section]:
            assert SPEC_KEYS[section] <= entry.keys(), section


def test_values_use_the_spec_vocabulary() -> None:
    document = _document()
    assert document["cycle"] == "2026-Q4"
    assert document["generated_at"] == NOW.isoformat().replace("+00:00", "Z")
    assert {k["status"] for k in document["key_results"]} == {"supported", "unsupported"}
    assert {k["kind"] for k in document["key_results"]} == {"outcome", "output"}
    assert document["orphans"][0]["reason"] == "no_link"
    assert {d["severity"] for d in document["diagnostics"]} <= {"info", "warning", "error"}


def test_the_document_validates_back_into_the_model() -> None:
    document = _document()
    assert AnalysisResult.model_validate(document).model_dump(mode="json") == document
