from __future__ import annotations

from datetime import timedelta

import pytest

from linesight.errors import UserError
from linesight.thresholds import breached, parse_thresholds
from linesight.trend import compute_trend
from tests.factories import NOW, objective, orphan, result


def test_trend_lists_new_and_resolved_orphans_and_wip_deltas() -> None:
    before = result(
        orphans=[orphan("pay", "PAY-1"), orphan("pay", "PAY-2")],
        objectives=[objective("O1", 4.0), objective("O2", 1.5)],
        aligned_wip=5,
        unsupported=2,
        generated_at=NOW - timedelta(days=1),
    )
    after = result(
        orphans=[orphan("pay", "PAY-2"), orphan("fab", "7"), orphan("fab", "8")],
        objectives=[objective("O1", 2.5), objective("O3", 1.0)],
        aligned_wip=3,
        unsupported=1,
    )
    trend = compute_trend(after, before)
    assert trend.new_orphans == ["fab:7", "fab:8"]
    assert trend.resolved_orphans == ["pay:PAY-1"]
    assert trend.orphan_count_delta == 1
    assert trend.orphan_share_delta == pytest.approx(0.3 - 0.2)
    assert trend.aligned_wip_delta == -2
    assert trend.unsupported_kr_count_delta == -1
    deltas = {o.id: (o.previous_effective_wip, o.delta) for o in trend.objectives}
    assert deltas == {"O1": (4.0, -1.5), "O3": (None, 1.0)}
    assert trend.previous_generated_at == NOW - timedelta(days=1)


def test_thresholds_parse_and_breach() -> None:
    res = result(
        orphans=[orphan("pay", "PAY-1")],
        in_scope_open=4,
        unsupported=3,
        diagnostics=[
            {
                "code": "low_alignment",
                "severity": "warning",
                "value": 0.4,
                "threshold": 0.6,
                "message": "m",
            }
        ],
    )
    thresholds = parse_thresholds(
        ["orphan_share>0.2, unsupported_kr_count>=3", "errors>0", "warnings>=1"]
    )
    assert [str(t) for t in thresholds] == [
        "orphan_share>0.2",
        "unsupported_kr_count>=3",
        "errors>0",
        "warnings>=1",
    ]
    assert breached(res, thresholds) == [
        "orphan_share>0.2: orphan_share is 0.25",
        "unsupported_kr_count>=3: unsupported_kr_count is 3",
        "warnings>=1: warnings is 1",
    ]
    assert breached(res, parse_thresholds(["orphan_share>0.3"])) == []


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("orphan_share", "expected METRIC OP NUMBER"),
        ("orphans>1", "unknown metric 'orphans'"),
        ("orphan_share=>0.1", "expected METRIC OP NUMBER"),
    ],
)
def test_bad_thresholds_are_user_errors(expression: str, message: str) -> None:
    with pytest.raises(UserError, match=message):
        parse_thresholds([expression])
