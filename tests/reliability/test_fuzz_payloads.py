"""Untrusted tracker payloads: the connectors' mappers map an item or skip it with a warning,
never raise anything else; and a sandbox serving a garbage issue among good ones still gives
a finished sync that stores the good ones and names the bad one.
"""

from __future__ import annotations

import copy
import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from linesight.model import WorkItem
from linesight.sandbox.generator import generate_dataset, write_org
from linesight_azure_devops.mapping import MappingContext, map_work_item
from linesight_azure_devops.states import StateCatalog
from linesight_jira.mapping import IssueMapper, MappingError
from tests.reliability.conftest import (
    NOW,
    OrgDir,
    cli,
    explain,
    free_port,
    fuzz_examples,
    stored_items,
)

FUZZ = settings(
    max_examples=fuzz_examples(200),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)

_SAMPLE = generate_dataset(120, 4, now=NOW)
JIRA_ISSUES: list[dict[str, Any]] = json.loads(
    json.dumps(_SAMPLE.dataset["jira"][1]["issues"][:15])
)
ADO_ITEMS: list[dict[str, Any]] = json.loads(
    json.dumps(_SAMPLE.dataset["azure_devops"][0]["work_items"][:15])
)

JIRA = IssueMapper(
    source="dc",
    site="https://jira.example.com",
    kr_field="customfield_10100",
    team_field="customfield_10001",
    epic_link_field="customfield_10014",
)
_STATES = {
    "New": "Proposed",
    "Active": "InProgress",
    "Resolved": "Resolved",
    "Closed": "Completed",
    "Removed": "Removed",
}
ADO = MappingContext(
    source="contoso",
    org_url="https://dev.azure.com/contoso",
    category=StateCatalog(
        lambda _type: [{"name": n, "category": c} for n, c in _STATES.items()]
    ).category,
    kr_field="Custom.KeyResults",
    team_field=None,
)

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats()
    | st.text(max_size=20)
    | st.just("z" * 100_000)
    | st.just("ABC-1\nWARNING forged log line")
    | st.just("9999-12-31T23:59:59.999+0000")
    | st.just("0001-01-01T00:00:00Z")
    | st.just("2026-13-45T99:99:99Z")
    | st.just("\x00\u202e🚀")
)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=10,
)


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield prefix
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _paths(value, (*prefix, index))


@st.composite
def mutated(draw: st.DrawFn, samples: list[dict[str, Any]]) -> Any:
    """A real payload with one to three places replaced by junk or removed."""
    payload: Any = copy.deepcopy(draw(st.sampled_from(samples)))
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        path = draw(st.sampled_from(list(_paths(payload))))
        if not path:
            return draw(values)
        parent = payload
        for part in path[:-1]:
            parent = parent[part]
        if isinstance(parent, dict) and draw(st.booleans()):
            del parent[path[-1]]
        else:
            parent[path[-1]] = draw(values)
    return payload


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def logs() -> Iterator[_Records]:
    handler = _Records()
    root = logging.getLogger("linesight")
    old = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    yield handler
    root.removeHandler(handler)
    root.setLevel(old)


def _one_line_each(records: list[logging.LogRecord]) -> None:
    # tracker text goes into warnings; a newline in it must not forge a second log line
    for record in records:
        message = record.getMessage()
        assert "\n" not in message and "\r" not in message, message[:200]
        assert len(message) < 2000, f"a {len(message)}-character log line"


def test_the_samples_map() -> None:
    assert all(isinstance(JIRA.to_item(issue), WorkItem) for issue in JIRA_ISSUES)
    assert all(isinstance(map_work_item(item, ADO), WorkItem) for item in ADO_ITEMS)


@FUZZ
@given(issue=mutated(JIRA_ISSUES) | values)
@example(issue={"key": "ABC-1\n", "fields": {}})
@example(issue={**JIRA_ISSUES[0], "key": "ABC-1\nWARNING forged"})
def test_jira_issue_maps_or_is_skipped_with_a_warning(issue: Any, logs: _Records) -> None:
    logs.records.clear()
    try:
        item = JIRA.to_item(issue)
    except MappingError as exc:
        assert str(exc)
        # the page mapper skips it, warning once with the key, and never raises
        assert list(JIRA.iter_page([issue], where="search page 1")) == []
        warnings = [r for r in logs.records if r.levelno == logging.WARNING]
        assert len(warnings) == 1
    else:
        assert isinstance(item, WorkItem)
        assert item.key == issue["key"]
        assert "\n" not in item.key
    _one_line_each(logs.records)


@FUZZ
@given(item=mutated(ADO_ITEMS) | values)
@example(item={"id": True, "fields": {}})
@example(item={**ADO_ITEMS[0], "relations": [{"rel": "x", "url": 5}, None, "junk"]})
def test_ado_work_item_maps_or_is_skipped_with_a_warning(item: Any, logs: _Records) -> None:
    logs.records.clear()
    mapped = map_work_item(item, ADO)
    if mapped is None:
        removed = (
            isinstance(item, dict)
            and isinstance(item.get("fields"), dict)
            and (item["fields"].get("System.State") == "Removed")
        )
        warnings = [r for r in logs.records if r.levelno == logging.WARNING]
        assert removed or warnings, "skipped without saying so"
    else:
        assert isinstance(mapped, WorkItem)
        assert mapped.key == str(item["id"])
    _one_line_each(logs.records)


def test_a_page_with_only_garbage_is_a_payload_error() -> None:
    from linesight.errors import PayloadError

    with pytest.raises(PayloadError, match="none of the 2 issues"):
        JIRA.map_page([{"key": 5}, "junk"], where="search page 1")


# --- a sandbox serving garbage among good items --------------------------------------------


def test_a_garbage_issue_among_good_ones(tmp_path: Path) -> None:
    port = free_port()
    org = generate_dataset(200, 8, now=NOW, base_url=f"http://127.0.0.1:{port}")
    dataset = json.loads(json.dumps(org.dataset))
    dc = next(i for i in dataset["jira"] if i["name"] == "dc")
    template = dc["issues"][0]
    project = template["fields"]["project"]["key"]
    bad = []
    for n, change in enumerate(
        [
            {"summary": ["not", "text"]},
            {"created": "yesterday"},
            {"status": {"name": 5, "statusCategory": {"key": "done"}}},
            {"resolutiondate": {"nested": True}},
        ]
    ):
        issue = copy.deepcopy(template)
        issue["id"] = str(90000 + n)
        issue["key"] = f"{project}-{9000 + n}"
        issue["self"] = issue["self"].rsplit("/", 1)[0] + f"/{90000 + n}"
        issue["fields"].update(change)
        bad.append(issue["key"])
        dc["issues"].append(issue)
    # odd but readable: must be stored, not skipped
    odd = copy.deepcopy(template)
    odd["id"], odd["key"] = "90100", f"{project}-9100"
    odd["self"] = odd["self"].rsplit("/", 1)[0] + "/90100"
    odd["fields"].update(
        {
            "summary": "‮ <script>alert(1)</script> 🚀 " + "é" * 5000,
            "labels": ["kr-", "x" * 255, "ünï"],
            "customfield_10100": [{"value": 7}, None, "KR9.9; ;;"],
            "customfield_10001": [[], {"id": 3}],
            "issuelinks": [
                {"id": "x", "type": {}},
                {"type": {"inward": 5}, "inwardIssue": {"key": "../../etc"}},
            ],
        }
    )
    dc["issues"].append(odd)
    contoso = dataset["azure_devops"][0]["work_items"]
    odd_ado = copy.deepcopy(contoso[0])
    odd_ado["id"] = 99001
    odd_ado["fields"].update(
        {
            "System.Title": "\x00 title with a NUL and ‮ bidi",
            "System.Tags": ";;; KR:; ;",
            "Custom.KeyResults": "KR1.1;;KR9.9",
        }
    )
    contoso.append(odd_ado)

    root = tmp_path / "org"
    write_org(org, root)
    target = OrgDir(root=root, org=org, port=port)
    target.org = type(org)(dataset, org.okrs_yaml, org.settings_toml, org.facts)
    with target.sandbox():
        result = cli("run", "--config", target.config, cwd=root)
    assert result.returncode == 0, explain(result)
    assert "Traceback" not in result.stderr
    for key in bad:
        assert f"skipping {key}" in result.stderr, (key, result.stderr[-2000:])
    stored = stored_items(target.state_dir)  # also PRAGMA integrity_check
    good = len(org.dataset["jira"][0]["issues"]) + len(org.dataset["jira"][1]["issues"])
    good += len(org.dataset["azure_devops"][0]["work_items"])
    assert len(stored) == good + 2
    assert ("dc", odd["key"]) in stored and ("contoso", "99001") in stored
    assert not any(("dc", key) in stored for key in bad)
    assert "<script>" not in (target.output_dir / "report.html").read_text(encoding="utf-8")
