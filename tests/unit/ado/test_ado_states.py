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


def test_every_type_comes_from_one_list_and_a_missing_one_is_read_alone() -> None:
    lists: list[str] = []
    singles: list[str] = []

    def load_every() -> dict[str, list[dict[str, Any]]]:
        lists.append("all")
        return {
            "Epic": [{"name": "Doing", "category": "InProgress"}],
            "Bug": [
                {"name": "Gone", "category": "Removed"},
                {"name": "Fixed", "category": "Completed"},
            ],
        }

    def load(name: str) -> list[dict[str, Any]]:
        singles.append(name)
        return [{"name": "Later", "category": "Proposed"}]

    catalog = StateCatalog(load, load_every)
    assert catalog.category("epic", "Doing") is StatusCategory.IN_PROGRESS
    assert catalog.category("Bug", "Fixed") is StatusCategory.DONE
    assert catalog.removed_states(["Bug"]) == {"Removed", "Gone"}
    assert catalog.category("Spike", "Later") is StatusCategory.TODO  # not in the list
    assert lists == ["all"]
    assert singles == ["Spike"]


def test_a_failed_list_is_tried_again_by_the_next_caller() -> None:
    attempts: list[int] = []

    def load_every() -> dict[str, list[dict[str, Any]]]:
        attempts.append(1)
        if len(attempts) == 1:
            raise ConnectionError("dropped")
        return {"Epic": [{"name": "Done", "category": "Completed"}]}

    catalog = StateCatalog(lambda name: None, load_every)
    with pytest.raises(ConnectionError):
        catalog.category("Epic", "Done")
    assert catalog.category("Epic", "Done") is StatusCategory.DONE
    catalog.load_every_type()  # already read: no third attempt
    assert len(attempts) == 2


def test_racing_callers_share_one_list_read() -> None:
    started = threading.Event()
    release = threading.Event()
    calls: list[int] = []

    def load_every() -> dict[str, list[dict[str, Any]]]:
        calls.append(1)
        started.set()
        assert release.wait(5)
        return {"Epic": [{"name": "Doing", "category": "InProgress"}]}

    catalog = StateCatalog(lambda name: pytest.fail(f"{name} read alone"), load_every)
    with ThreadPoolExecutor(4) as pool:
        futures = [pool.submit(catalog.category, "Epic", "Doing") for _ in range(4)]
        assert started.wait(5)
        release.set()
        assert [f.result() for f in futures] == [StatusCategory.IN_PROGRESS] * 4
    assert calls == [1]
