"""The outcome/output key result classifier: hand-written cases, properties and the dev set."""

from __future__ import annotations

import csv
import dataclasses
import math
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from linesight.analysis.kr_kind import KrClassification, KrKind, classify_kr

# tests/unit/analysis/test_kr_kind.py -> parents[3] is the repo root; shared/ is its sibling.
DEV_SET = (Path(__file__).resolve().parents[3] / "../shared/kr_dev.csv").resolve()
ACCURACY_FLOOR = 0.90

OUTCOME, OUTPUT = KrKind.OUTCOME, KrKind.OUTPUT

# Written for this test, not taken from the dev set: (title, kind, evidence the reason must name).
CASES = [
    ("Raise checkout conversion from 2.1% to 3.0%", OUTCOME, "from 2.1% to 3.0%"),
    ("Reduce cost per ticket from €8 to €5", OUTCOME, "from €8 to €5"),
    ("Churn drops from 4% to 2.5% per month", OUTCOME, "from 4% to 2.5%"),
    ("Reduce time to hire from 45 days to 30 days", OUTCOME, "from 45 days to 30 days"),
    ("Lift weekly active teams by 15 percent", OUTCOME, "by 15 percent"),
    ("Cut onboarding drop-off by a third", OUTCOME, "by a third"),
    ("Cut churn in half", OUTCOME, "in half"),
    ("Make checkout 2x faster", OUTCOME, "2x faster"),
    ("Customer complaints about billing fall by 30%", OUTCOME, "by 30%"),
    ("Keep p95 API latency under 300 ms", OUTCOME, "under 300"),
    ("Grow ARR to $4M", OUTCOME, "arr"),
    ("Lower p99 latency", OUTCOME, "latency"),
    ("Boost repeat purchase rate", OUTCOME, "rate"),
    ("Increase average order value to $85", OUTCOME, "order value"),
    ("Improve employee eNPS to +30", OUTCOME, "enps"),
    ("Net revenue retention above 110%", OUTCOME, "above 110%"),
    ("At least 40% of admins use the new reporting weekly", OUTCOME, "at least 40%"),
    ("Customers rate onboarding 4.5/5 or higher", OUTCOME, "4.5/5 or higher"),
    ("Mobile crash-free sessions ≥ 99.8%", OUTCOME, "99.8%"),
    ("Reach 10k paying subscribers", OUTCOME, "10k paying subscribers"),
    ("Gain 2,000 newsletter subscribers", OUTCOME, "2,000 newsletter subscribers"),
    ("90% of invoices paid on time", OUTCOME, "90%"),
    ("Run-rate revenue reaches $2M", OUTCOME, "$2m"),
    ("Zero data-loss incidents", OUTCOME, "zero data-loss incidents"),
    ("Exceed $1.2M in quarterly bookings", OUTCOME, "$1.2m"),
    ("KR2: grow organic traffic 25% quarter over quarter", OUTCOME, "traffic"),
    ("Launch the partner portal", OUTPUT, "launch"),
    ("Successfully launch the referral programme", OUTPUT, "launch"),
    ("Build a churn prediction dashboard", OUTPUT, "build"),
    ("Roll out SSO to all customers", OUTPUT, "roll out"),
    ("Set up a customer advisory board", OUTPUT, "set up"),
    ("Kick off the data warehouse project", OUTPUT, "kick off"),
    ("We will ship the new onboarding flow by Q3", OUTPUT, "ship"),
    ("Migrate the billing service to Kubernetes", OUTPUT, "migrate"),
    ("Hire 4 backend engineers", OUTPUT, "hire"),
    ("Publish 12 blog posts about pricing", OUTPUT, "12 blog posts"),
    ("Hold two customer workshops", OUTPUT, "two customer workshops"),
    ("Running 5 A/B tests on the pricing page", OUTPUT, "running"),
    ("Make 50 sales calls per week", OUTPUT, "make"),
    ("Complete the GDPR audit by 2025", OUTPUT, "complete"),
    ("Upgrade all services to Python 3.12", OUTPUT, "upgrade"),
    ("6 new integrations in the marketplace", OUTPUT, "6 new integrations"),
    ("Raise unit test coverage to 85%", OUTPUT, "test coverage"),
    ("Close 200 story points per sprint", OUTPUT, "story points"),
    ("Improve the onboarding flow", OUTPUT, "improve"),
    ("Move reporting to the new data warehouse", OUTPUT, "no metric"),
    ("", OUTPUT, "no text"),
    ("  ...  ", OUTPUT, "no text"),
]


@pytest.mark.parametrize(("title", "kind", "evidence"), CASES)
def test_hand_written_examples(title: str, kind: KrKind, evidence: str) -> None:
    result = classify_kr(title)
    assert result.kind is kind, result.reason
    assert evidence in result.reason
    assert result.reason == result.reason.lower()


def test_classification_is_a_frozen_value() -> None:
    result = classify_kr("Launch the partner portal")
    assert result == KrClassification(OUTPUT, "activity verb 'launch' and no metric change")
    assert result.kind == "output"
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.kind = OUTCOME  # type: ignore[misc]


def test_rules_are_case_and_punctuation_insensitive() -> None:
    assert classify_kr("  LAUNCH — the partner portal!!! ").kind is OUTPUT
    assert classify_kr("- increase NPS among SMB customers.").kind is OUTCOME
    assert classify_kr("“Reduce churn from 4 % to 2 %”").kind is OUTCOME


def test_baseline_target_pair_makes_an_ambiguous_title_an_outcome() -> None:
    title = "Improve the onboarding flow"
    assert classify_kr(title).kind is OUTPUT
    result = classify_kr(title, baseline=40, target=60)
    assert result.kind is OUTCOME
    assert result.reason == "baseline/target pair 40 -> 60"


def test_baseline_target_pair_does_not_override_textual_evidence() -> None:
    # An activity verb still decides: a 0 -> 1 target only tracks that the work got done.
    assert classify_kr("Launch the partner portal", baseline=0, target=1).kind is OUTPUT
    # Half a pair, or a non-finite one, is no evidence.
    assert classify_kr("Improve the onboarding flow", baseline=40).kind is OUTPUT
    assert classify_kr("Improve the onboarding flow", baseline=math.nan, target=1).kind is OUTPUT


def test_very_long_titles_are_classified() -> None:
    assert classify_kr("Launch " + "the portal " * 100_000).kind is OUTPUT
    assert classify_kr("1" * 1_000_000).kind is OUTPUT
    assert classify_kr("ﷺ" * 100_000).reason


@settings(database=None, max_examples=300)
@given(
    title=st.text(),
    baseline=st.none() | st.floats(),
    target=st.none() | st.floats(),
)
def test_never_raises_and_always_explains(
    title: str, baseline: float | None, target: float | None
) -> None:
    result = classify_kr(title, baseline=baseline, target=target)
    assert result.kind in (OUTCOME, OUTPUT)
    assert result.reason.strip()


KR_TOKENS = [
    *["0", "1", "25", "1,000", "2.5", "$4m", "30%", "x", "y", "n"],
    *["/", "-", ".", ",", "(", ")", "%", "≥", "<"],
    *["from", "to", "by", "at", "least", "under", "or", "higher", "in", "half"],
    *["launch", "increase", "reach", "new", "users", "pages"],
]


@settings(database=None)
@given(st.lists(st.sampled_from(KR_TOKENS), max_size=60).map(" ".join))
def test_never_raises_on_kr_like_text(title: str) -> None:
    result = classify_kr(title)
    assert result.kind in (OUTCOME, OUTPUT)
    assert result.reason.strip()


def test_dev_set_accuracy() -> None:
    if not DEV_SET.is_file():
        pytest.fail(f"dev set not found at {DEV_SET}; it lives in shared/ next to the repo root")
    with DEV_SET.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert rows, f"{DEV_SET} has no rows"
    misses = []
    for row in rows:
        result = classify_kr(row["text"])
        if result.kind != row["label"]:
            got = f"got {result.kind} ({result.reason})"
            misses.append(f"  expected {row['label']}, {got}: {row['text']}")
    correct, total = len(rows) - len(misses), len(rows)
    acc = correct / total
    print(f"kr_kind accuracy on kr_dev.csv: {acc:.1%} ({correct}/{total})")
    print("\n".join(misses))
    assert acc >= ACCURACY_FLOOR, "\n".join(misses)
