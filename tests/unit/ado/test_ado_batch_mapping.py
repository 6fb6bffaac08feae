"""Whole ``workitemsbatch`` bodies: the typed fast path maps exactly as :func:`map_work_item`.

:class:`BatchMapper` decodes a body straight into structs holding only the fields linesight
reads and falls back to :func:`map_work_item` for any batch that is not well-formed
throughout. These tests hold the two paths to the same items and the same warnings, on the
recorded examples and on payloads bent every way hypothesis can think of.
"""

from __future__ import annotations

import copy
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from linesight.errors import PayloadError
from linesight.model import StatusCategory, WorkItem
from linesight_azure_devops import mapping
from linesight_azure_devops.mapping import BatchMapper, MappingContext, map_work_item
from linesight_azure_devops.transport import Body

EXAMPLES = Path(__file__).resolve().parents[4] / "shared/specs/azure-devops/wit-7.1/httpExamples"
ROOT = "https://dev.azure.com/fabrikam/_apis/wit/workItems"
CATEGORIES = {
    "New": StatusCategory.TODO,
    "Active": StatusCategory.IN_PROGRESS,
    "Closed": StatusCategory.DONE,
    "Removed": None,
}


def category(type_name: str, state: str) -> StatusCategory | None:
    return CATEGORIES.get(state, StatusCategory.IN_PROGRESS)


def context(**overrides: Any) -> MappingContext:
    values: dict[str, Any] = {
        "source": "boards",
        "org_url": "https://dev.azure.com/fabrikam",
        "category": category,
        "kr_field": "Custom.KeyResults",
        "team_field": None,
    }
    values.update(overrides)
    return MappingContext(**values)


def body(value: Any) -> Body:
    return Body(json.dumps(value).encode(), "utf-8")


def one_by_one(batch: Any, ctx: MappingContext) -> list[WorkItem | None]:
    """What the tolerant path makes of a batch: the reference."""
    return [map_work_item(p, ctx) if p is not None else None for p in batch["value"]]


@contextmanager
def warnings() -> Iterator[list[str]]:
    """The linesight.azure_devops warnings logged inside the block."""
    seen: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            seen.append(record.getMessage())

    logger = logging.getLogger("linesight.azure_devops")
    handler = Collect(logging.WARNING)
    logger.addHandler(handler)
    try:
        yield seen
    finally:
        logger.removeHandler(handler)


def well_formed(number: int, **fields: Any) -> dict[str, Any]:
    """A work item as ``workitemsbatch`` returns it with ``$expand=Relations``."""
    base: dict[str, Any] = {
        "System.Id": number,
        "System.AreaPath": "Fabrikam\\Web",
        "System.TeamProject": "Fabrikam",
        "System.WorkItemType": "User Story",
        "System.State": "Active",
        "System.Title": f"Story {number}",
        "System.Rev": 4,
        "System.CreatedDate": "2024-04-01T09:00:00.123Z",
        "System.ChangedDate": "2024-05-01T10:00:00Z",
        "System.CreatedBy": {"displayName": "Ann", "_links": {"avatar": {"href": "x"}}},
        "Microsoft.VSTS.Common.ActivatedDate": "2024-04-02T09:00:00Z",
        "Microsoft.VSTS.Common.ClosedDate": "2024-04-20T09:00:00.1234567Z",
        "System.Tags": "KR:KR1.1; customer-x",
        "Custom.KeyResults": "KR1.1, KR2.1",
    }
    base.update(fields)
    return {
        "id": number,
        "rev": 4,
        "fields": base,
        "relations": [
            {"rel": "System.LinkTypes.Hierarchy-Reverse", "url": f"{ROOT}/1", "attributes": {}},
            {"rel": "System.LinkTypes.Hierarchy-Forward", "url": f"{ROOT}/9", "attributes": {}},
            {"rel": "System.LinkTypes.Related", "url": f"{ROOT}/7", "attributes": {}},
            {"rel": "AttachedFile", "url": "https://dev.azure.com/f/_apis/wit/attachments/1"},
        ],
        "url": f"{ROOT}/{number}",
        "_links": {"self": {"href": f"{ROOT}/{number}"}},
    }


@pytest.mark.parametrize(
    "name",
    sorted(p.name for p in (EXAMPLES / "workItems").glob("GET__wit_WorkItems_ids-*.json")),
)
def test_recorded_batches_map_as_item_by_item(name: str) -> None:
    recorded = json.loads((EXAMPLES / "workItems" / name).read_text(encoding="utf-8-sig"))
    batch = recorded["responses"]["200"]["body"]
    ctx = context()
    with warnings() as fast_warnings:
        got = BatchMapper(ctx).map_body(body(batch), "read 3 work items")
    with warnings() as reference_warnings:
        expected = one_by_one(batch, ctx)
    assert got == expected
    assert fast_warnings == reference_warnings


def test_well_formed_batches_take_the_typed_path(monkeypatch: pytest.MonkeyPatch) -> None:
    def not_expected(payload: Any, ctx: MappingContext) -> WorkItem | None:
        raise AssertionError("a well-formed batch was mapped item by item")

    batch = {"count": 3, "value": [well_formed(2), None, well_formed(3)]}
    reference = one_by_one(batch, context())
    monkeypatch.setattr(mapping, "map_work_item", not_expected)
    items = BatchMapper(context()).map_body(body(batch), "read 3 work items")
    assert items == reference
    story = items[0]
    assert story is not None and items[1] is None
    assert story.parent == "1"
    assert [(link.kind, link.target) for link in story.links] == [("System.LinkTypes.Related", "7")]
    assert story.kr_refs == ("KR1.1", "KR2.1")
    assert story.team == "Fabrikam\\Web"
    assert story.url == "https://dev.azure.com/fabrikam/Fabrikam/_workitems/edit/2"


def test_one_garbage_payload_is_skipped_with_its_warning_and_the_rest_kept() -> None:
    batch = {"value": [well_formed(2), well_formed(3, **{"System.Title": ["t"]}), well_formed(4)]}
    with warnings() as seen:
        items = BatchMapper(context()).map_body(body(batch), "read 3 work items")
    assert [i.key if i is not None else None for i in items] == ["2", None, "4"]
    assert seen == ["boards: skipping work item 3: no 'System.Title'"]


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        (Body(b"<html>busy</html>", "utf-8"), "read 2 work items: Azure DevOps answered with a"),
        (body({"count": 0}), "expected an object with a 'value' list"),
        (body([1, 2]), "expected an object with a 'value' list"),
        (None, "expected an object with a 'value' list"),
    ],
)
def test_a_body_that_is_no_batch_is_one_payload_error(answer: Body | None, message: str) -> None:
    with pytest.raises(PayloadError, match=message):
        BatchMapper(context()).map_body(answer, "read 2 work items")


def test_a_body_with_a_byte_order_mark_but_no_charset_is_read() -> None:
    raw = b"\xef\xbb\xbf" + json.dumps({"value": [well_formed(5)]}).encode()
    items = BatchMapper(context()).map_body(Body(raw, None), "read 1 work item")
    assert [i.key for i in items if i is not None] == ["5"]


@pytest.mark.parametrize(
    ("kr_field", "team_field"),
    [("System.Tags", None), ("Custom.KeyResults", "System.AreaPath"), ("Custom.X", "Custom.X")],
)
def test_configured_fields_that_clash_with_read_ones_still_map(
    kr_field: str, team_field: str | None
) -> None:
    ctx = context(kr_field=kr_field, team_field=team_field)
    batch = {"value": [well_formed(2, **{"Custom.X": "Team X"}), well_formed(3)]}
    assert BatchMapper(ctx).map_body(body(batch), "read 2 work items") == one_by_one(batch, ctx)


# -- every odd value hypothesis can think of ---------------------------------------------------

ODD_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-3, max_value=3),
    st.integers(min_value=2**63, max_value=2**65),
    st.floats(allow_nan=False, allow_infinity=False, width=32),
    st.sampled_from(["", "  ", "New", "Closed", "Removed", "x; ;y", "KR1.1,KR1.2"]),
    st.sampled_from(["2024-01-02T03:04:05Z", "2024-01-02T03:04:05", "9999-01-01T00:00:00Z"]),
    st.sampled_from(["not a date", "2024-13-01T00:00:00Z", f"{ROOT}/12", "http://x/y"]),
    st.just({"displayName": "Team Y"}),
    st.just({"uniqueName": 5}),
    st.lists(st.sampled_from(["KR1", 3, True, None]), max_size=3),
)
FIELD_NAMES = [
    "System.WorkItemType",
    "System.State",
    "System.Title",
    "System.TeamProject",
    "System.AreaPath",
    "System.Parent",
    "System.Rev",
    "System.Tags",
    "System.CreatedDate",
    "System.ChangedDate",
    "Microsoft.VSTS.Common.ActivatedDate",
    "Microsoft.VSTS.Common.StateChangeDate",
    "Microsoft.VSTS.Common.ResolvedDate",
    "Microsoft.VSTS.Common.ClosedDate",
    "Custom.KeyResults",
    "Custom.Team",
]
RELATION = st.fixed_dictionaries(
    {},
    optional={
        "rel": st.one_of(
            st.sampled_from(
                [
                    "System.LinkTypes.Hierarchy-Reverse",
                    "System.LinkTypes.Hierarchy-Forward",
                    "System.LinkTypes.Related",
                    "ArtifactLink",
                ]
            ),
            ODD_VALUES,
        ),
        "url": st.one_of(
            st.sampled_from([f"{ROOT}/3", f"{ROOT}/44/", "https://x/_apis/wit/workitems/abc"]),
            ODD_VALUES,
        ),
    },
)
# One change to a payload: (where, key, value). "drop" removes the key.
CHANGE = st.one_of(
    st.tuples(st.just("fields"), st.sampled_from(FIELD_NAMES), ODD_VALUES),
    st.tuples(st.just("fields"), st.sampled_from(FIELD_NAMES), st.just("drop")),
    st.tuples(st.just("item"), st.sampled_from(["id", "rev", "fields"]), ODD_VALUES),
    st.tuples(st.just("item"), st.sampled_from(["rev", "relations"]), st.just("drop")),
    st.tuples(
        st.just("item"),
        st.just("relations"),
        st.one_of(ODD_VALUES, st.lists(st.one_of(RELATION, ODD_VALUES), max_size=3)),
    ),
)


def bend(payload: dict[str, Any], changes: list[tuple[str, str, Any]]) -> dict[str, Any]:
    bent = copy.deepcopy(payload)
    for where, key, value in changes:
        target = bent["fields"] if where == "fields" and isinstance(bent["fields"], dict) else bent
        if value == "drop":
            target.pop(key, None)
        else:
            target[key] = copy.deepcopy(value)
    return bent


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.one_of(st.none(), st.lists(CHANGE, max_size=3)),
        min_size=1,
        max_size=4,
    ),
    st.sampled_from([None, "Custom.Team"]),
)
def test_any_batch_maps_exactly_as_item_by_item(
    bends: list[list[tuple[str, str, Any]] | None], team_field: str | None
) -> None:
    batch = {
        "value": [
            None if changes is None else bend(well_formed(number), changes)
            for number, changes in enumerate(bends, start=2)
        ]
    }
    ctx = context(team_field=team_field)
    with warnings() as fast_warnings:
        got = BatchMapper(ctx).map_body(body(batch), "read work items")
    with warnings() as reference_warnings:
        expected = one_by_one(batch, ctx)
    assert got == expected
    assert fast_warnings == reference_warnings
