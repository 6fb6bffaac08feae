"""State categories for every process, read once per type."""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from linesight.model import StatusCategory
from linesight_azure_devops.states import StateCatalog, category_for

EXAMPLE = (
    Path(__file__).resolve().parents[4]
    / "shared/specs/azure-devops/wit-7.1/httpExamples"
    / "workItemTypeStates/GET__workitem_type_states.json"
)


@pytest.mark.parametrize(
    ("category", "expected"),
    [
        ("Proposed", StatusCategory.TODO),
        ("InProgress", StatusCategory.IN_PROGRESS),
        ("Resolved", StatusCategory.IN_PROGRESS),
        ("Completed", StatusCategory.DONE),
        ("Removed", None),
        ("SomethingNew", StatusCategory.IN_PROGRESS),
    ],
)
def test_category_mapping(category: str, expected: StatusCategory | None) -> None:
    assert category_for(category) == expected


def test_catalog_reads_each_type_once_and_uses_categories_not_names() -> None:
    states = json.loads(EXAMPLE.read_text(encoding="utf-8-sig"))["responses"]["200"]["body"]
    calls: list[str] = []

    def load(name: str) -> list[dict[str, Any]]:
        calls.append(name)
        return list(states["value"])

    catalog = StateCatalog(load)
    assert catalog.category("Bug", "CustomState") is StatusCategory.IN_PROGRESS
    assert catalog.category("Bug", "resolved") is StatusCategory.IN_PROGRESS
    assert catalog.category("bug", "Closed") is StatusCategory.DONE
    assert catalog.category("Bug", "New") is StatusCategory.TODO
    assert calls == ["Bug"]


def test_custom_removed_states_are_found_for_the_scope_query() -> None:
    custom = [
        {"name": "Idea", "category": "Proposed"},
        {"name": "Binned", "category": "Removed"},
    ]
    catalog = StateCatalog(lambda name: custom)
    assert catalog.removed_states(["Idea Type"]) == {"Removed", "Binned"}
    assert catalog.category("Idea Type", "Binned") is None


def test_unknown_types_fall_back_to_names_with_one_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    catalog = StateCatalog(lambda name: None)
    assert catalog.category("Mystery", "Done") is StatusCategory.DONE
    assert catalog.category("Mystery", "Done") is StatusCategory.DONE
    assert catalog.category("Mystery", "Doing") is StatusCategory.IN_PROGRESS
    assert catalog.category("Mystery", "Removed") is None
    assert caplog.text.count("'Done'") == 1


def test_two_types_load_side_by_side_and_each_once() -> None:
    # Both loads must be under way at once to pass the barrier: a catalog reading one type at
    # a time would time out here.
    barrier = threading.Barrier(2, timeout=5)
    calls: list[str] = []

    def load(name: str) -> list[dict[str, Any]]:
        calls.append(name)
        barrier.wait()
        return [{"name": "Doing", "category": "InProgress"}]

    catalog = StateCatalog(load)
    with ThreadPoolExecutor(4) as pool:
        found = list(pool.map(catalog.category, ["Bug", "Epic", "Bug", "Epic"], ["Doing"] * 4))
    assert found == [StatusCategory.IN_PROGRESS] * 4
    assert sorted(calls) == ["Bug", "Epic"]
