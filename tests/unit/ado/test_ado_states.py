"""State categories for every process, read once per type."""

from __future__ import annotations

import json
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
