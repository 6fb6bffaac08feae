from __future__ import annotations

from pathlib import Path

import jsonschema
import pytest
import yaml

from linesight.errors import OkrFileError
from linesight.okrs import load_okrs, okrs_json_schema, parse_okrs

VALID = """\
cycle: 2026-Q4
objectives:
  - id: O1
    title: Make checkout effortless
    owner: Payments
    wip_limit: 12
    key_results:
      - id: KR1.1
        title: Raise checkout conversion from 2.1% to 3.0%
        baseline: 2.1
        target: 3.0
        current: 2.4
        work:
          - jira:PAY-12
          - ado:4711
          - jql: project = PAY AND labels = checkout
          - wiql: "[System.AreaPath] UNDER 'Fabrikam\\\\Checkout'"
  - id: O0
    cycle: 2026-Q3
    title: Old objective
    status: closed
key_results:
  - id: KR1.2
    objective: O1
    title: Cut payment failures from 4% to 1.5%
    baseline: 4
    target: 1.5
"""


def test_valid_file_loads_with_nested_and_flat_krs() -> None:
    okrs = parse_okrs(VALID)
    assert okrs.cycle == "2026-Q4"
    o1, o0 = okrs.objectives
    assert [kr.id for kr in o1.key_results] == ["KR1.1", "KR1.2"]
    kr = o1.key_results[0]
    assert kr.work == (
        "jira:PAY-12",
        "ado:4711",
        "jql:project = PAY AND labels = checkout",
        "wiql:[System.AreaPath] UNDER 'Fabrikam\\Checkout'",
    )
    assert kr.score == pytest.approx((2.4 - 2.1) / (3.0 - 2.1))
    assert o1.wip_limit == 12 and o1.cycle == "2026-Q4" and not o1.closed
    assert o0.cycle == "2026-Q3" and o0.closed
    assert [o.id for o in okrs.active_objectives()] == ["O1"]


def test_example_okr_file_validates_against_printed_schema(repo: Path) -> None:
    schema = okrs_json_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    data = yaml.safe_load((repo / "config/okrs.yaml").read_text())
    jsonschema.validate(data, schema)
    assert load_okrs(repo / "config/okrs.yaml").cycle == "2026-Q4"


def _error(text: str) -> str:
    with pytest.raises(OkrFileError) as info:
        parse_okrs(text, name="config/okrs.yaml")
    return str(info.value)


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            "target: 3.0",
            "target: lots",
            "config/okrs.yaml:11: objectives[0].key_results[0].target: must be a number",
        ),
        (
            "baseline: 2.1",
            "baseline: 3.0",
            "config/okrs.yaml:11: objectives[0].key_results[0].target: equals the baseline",
        ),
        (
            "owner: Payments",
            "ownr: Payments",
            "config/okrs.yaml:5: objectives[0].ownr: unknown field",
        ),
        ("id: O0", "id: O1", "config/okrs.yaml:18: objectives[1].id: duplicate objective id 'O1'"),
        (
            "id: KR1.2",
            "id: KR1.1",
            "config/okrs.yaml:23: key_results[0].id: duplicate key result id 'KR1.1'",
        ),
        (
            "objective: O1",
            "objective: O7",
            "config/okrs.yaml:24: key_results[0].objective: unknown objective 'O7' (known: O1, O0)",
        ),
        (
            "- jira:PAY-12",
            "- PAY12",
            "config/okrs.yaml:13: objectives[0].key_results[0].work: 'PAY12' is not 'source:KEY'",
        ),
        (
            "wip_limit: 12",
            "wip_limit: -1",
            "config/okrs.yaml:6: objectives[0].wip_limit: must be 0 or more",
        ),
        (
            "wip_limit: 12\n",
            "wip_limit: 12\n    wip_limit: 3\n",
            "config/okrs.yaml:7: objectives[0].wip_limit: duplicate key (first at line 6)",
        ),
        ("cycle: 2026-Q4", "cycle: [2026", "config/okrs.yaml:2: invalid YAML"),
        (
            "    title: Make checkout effortless\n",
            "",
            "config/okrs.yaml:3: objectives[0].title: is required",
        ),
        (
            "jql: project",
            "jqlx: project",
            "config/okrs.yaml:16: objectives[0].key_results[0].work[2].jqlx: unknown field",
        ),
        (
            "current: 2.4",
            "current: 2.4\n        unit: [x]",
            "config/okrs.yaml:13: objectives[0].key_results[0].unit: must be text",
        ),
    ],
)
def test_bad_input_gives_file_line_field(old: str, new: str, expected: str) -> None:
    assert old in VALID
    message = _error(VALID.replace(old, new, 1))
    assert expected in message, message
    assert "Traceback" not in message


def test_empty_and_non_mapping_files() -> None:
    assert _error("") == "config/okrs.yaml:1: the file is empty; it needs 'cycle' and 'objectives'"
    assert "must be a mapping" in _error("- just\n- a list\n")


def test_missing_file_names_the_path(tmp_path: Path) -> None:
    with pytest.raises(OkrFileError, match=r"okrs.yaml: no such OKR file"):
        load_okrs(tmp_path / "okrs.yaml")
