"""Azure DevOps process metadata the sandbox serves: work item types, states, link types.

The four system processes (Agile, Scrum, CMMI, Basic) as Azure DevOps Services ships them, with
each state's color and *state category* (``Proposed``, ``InProgress``, ``Resolved``,
``Completed``, ``Removed``) — the category is what linesight maps to todo / in progress / done.
A dataset entry may add custom types (an inherited process) through ``custom_work_item_types``;
see :func:`process_types`.

Reference: https://learn.microsoft.com/azure/devops/boards/work-items/workflow-and-state-categories
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = [
    "PROCESSES",
    "RELATION_TYPES",
    "STATE_CATEGORIES",
    "ProcessError",
    "State",
    "WorkItemType",
    "process_types",
]

STATE_CATEGORIES = ("Proposed", "InProgress", "Resolved", "Completed", "Removed")


@dataclass(frozen=True, slots=True)
class State:
    """One state of a work item type, as ``GET .../workitemtypes/{type}/states`` returns it."""

    name: str
    color: str
    category: str

    def to_json(self) -> dict[str, str]:
        return {"name": self.name, "color": self.color, "category": self.category}


@dataclass(frozen=True, slots=True)
class WorkItemType:
    """A work item type of a process: its name, reference name, card color and states."""

    name: str
    reference_name: str
    color: str
    icon: str
    states: tuple[State, ...]

    def state(self, name: str) -> State | None:
        """The state called ``name`` (case-insensitive, as Azure DevOps compares), or ``None``."""
        folded = name.casefold()
        return next((s for s in self.states if s.name.casefold() == folded), None)


def _states(*spec: tuple[str, str, str]) -> tuple[State, ...]:
    return tuple(State(name, color, category) for name, color, category in spec)


# The colors are the ones Azure DevOps Services uses for the inherited system processes.
_NEW = ("New", "b2b2b2", "Proposed")
_ACTIVE = ("Active", "007acc", "InProgress")
_RESOLVED = ("Resolved", "ff9d00", "Resolved")
_CLOSED = ("Closed", "339933", "Completed")
_REMOVED = ("Removed", "ffffff", "Removed")
_PROPOSED = ("Proposed", "b2b2b2", "Proposed")

_AGILE_PORTFOLIO = _states(_NEW, _ACTIVE, _RESOLVED, _CLOSED, _REMOVED)
_SCRUM_PORTFOLIO = _states(
    _NEW, ("In Progress", "007acc", "InProgress"), ("Done", "339933", "Completed"), _REMOVED
)
_SCRUM_BACKLOG = _states(
    _NEW,
    ("Approved", "b2b2b2", "Proposed"),
    ("Committed", "007acc", "InProgress"),
    ("Done", "339933", "Completed"),
    _REMOVED,
)
_CMMI_FULL = _states(_PROPOSED, _ACTIVE, _RESOLVED, _CLOSED)
_BASIC = _states(
    ("To Do", "b2b2b2", "Proposed"),
    ("Doing", "007acc", "InProgress"),
    ("Done", "339933", "Completed"),
)
_TEST_CASE = _states(("Design", "b2b2b2", "Proposed"), ("Ready", "007acc", "InProgress"), _CLOSED)


def _type(name: str, ref: str, color: str, icon: str, states: tuple[State, ...]) -> WorkItemType:
    return WorkItemType(name, f"Microsoft.VSTS.WorkItemTypes.{ref}", color, icon, states)


_EPIC_COLOR, _FEATURE_COLOR, _BACKLOG_COLOR = "FF7B00", "773B93", "009CCC"
_TASK_COLOR, _BUG_COLOR = "F2CB1D", "CC293D"

PROCESSES: Mapping[str, Mapping[str, WorkItemType]] = {
    "Agile": {
        t.name: t
        for t in (
            _type("Epic", "Epic", _EPIC_COLOR, "icon_crown", _AGILE_PORTFOLIO),
            _type("Feature", "Feature", _FEATURE_COLOR, "icon_trophy", _AGILE_PORTFOLIO),
            _type("User Story", "UserStory", _BACKLOG_COLOR, "icon_book", _AGILE_PORTFOLIO),
            _type(
                "Task",
                "Task",
                _TASK_COLOR,
                "icon_clipboard",
                _states(_NEW, _ACTIVE, _CLOSED, _REMOVED),
            ),
            _type(
                "Bug", "Bug", _BUG_COLOR, "icon_insect", _states(_NEW, _ACTIVE, _RESOLVED, _CLOSED)
            ),
            _type("Issue", "Issue", "B4009E", "icon_traffic_cone", _states(_ACTIVE, _CLOSED)),
            _type("Test Case", "TestCase", "004B50", "icon_test_case", _TEST_CASE),
        )
    },
    "Scrum": {
        t.name: t
        for t in (
            _type("Epic", "Epic", _EPIC_COLOR, "icon_crown", _SCRUM_PORTFOLIO),
            _type("Feature", "Feature", _FEATURE_COLOR, "icon_trophy", _SCRUM_PORTFOLIO),
            _type(
                "Product Backlog Item",
                "ProductBacklogItem",
                _BACKLOG_COLOR,
                "icon_list",
                _SCRUM_BACKLOG,
            ),
            _type("Bug", "Bug", _BUG_COLOR, "icon_insect", _SCRUM_BACKLOG),
            _type(
                "Task",
                "Task",
                _TASK_COLOR,
                "icon_clipboard",
                _states(
                    ("To Do", "b2b2b2", "Proposed"),
                    ("In Progress", "007acc", "InProgress"),
                    ("Done", "339933", "Completed"),
                    _REMOVED,
                ),
            ),
            _type(
                "Impediment",
                "Impediment",
                "B4009E",
                "icon_traffic_cone",
                _states(("Open", "007acc", "InProgress"), _CLOSED),
            ),
            _type("Test Case", "TestCase", "004B50", "icon_test_case", _TEST_CASE),
        )
    },
    "CMMI": {
        t.name: t
        for t in (
            _type("Epic", "Epic", _EPIC_COLOR, "icon_crown", _CMMI_FULL + _states(_REMOVED)),
            _type(
                "Feature", "Feature", _FEATURE_COLOR, "icon_trophy", _CMMI_FULL + _states(_REMOVED)
            ),
            _type("Requirement", "Requirement", _BACKLOG_COLOR, "icon_list", _CMMI_FULL),
            _type("Task", "Task", _TASK_COLOR, "icon_clipboard", _CMMI_FULL),
            _type("Bug", "Bug", _BUG_COLOR, "icon_insect", _CMMI_FULL),
            _type("Change Request", "ChangeRequest", "4B0082", "icon_review", _CMMI_FULL),
            _type("Issue", "Issue", "B4009E", "icon_traffic_cone", _CMMI_FULL),
            _type("Risk", "Risk", "5C197B", "icon_gear", _CMMI_FULL),
            _type("Review", "Review", "4B0082", "icon_review", _states(_ACTIVE, _CLOSED)),
            _type("Test Case", "TestCase", "004B50", "icon_test_case", _TEST_CASE),
        )
    },
    "Basic": {
        t.name: t
        for t in (
            _type("Epic", "Epic", _EPIC_COLOR, "icon_crown", _BASIC),
            _type("Issue", "Issue", "339947", "icon_clipboard", _BASIC),
            _type("Task", "Task", _TASK_COLOR, "icon_clipboard", _BASIC),
            _type("Test Case", "TestCase", "004B50", "icon_test_case", _TEST_CASE),
        )
    },
}


class ProcessError(ValueError):
    """A process name or a custom type definition is not valid. ``str(e)`` says why."""


def process_types(process: str, custom: Mapping[str, Any] | None = None) -> dict[str, WorkItemType]:
    """The work item types of ``process`` (case-insensitive name), plus ``custom`` types.

    ``custom`` maps a new type name to either the name of an existing type of the process whose
    states it copies (``{"Key Result": "Feature"}``) or a list of states
    (``[{"name": "Draft", "category": "Proposed", "color": "b2b2b2"}, ...]``; color optional).
    Raises :class:`ProcessError` with a one-line reason.
    """
    base = next((v for k, v in PROCESSES.items() if k.casefold() == process.casefold()), None)
    if base is None:
        raise ProcessError(f"unknown process {process!r} (known: {', '.join(PROCESSES)})")
    types = dict(base)
    for name, spec in (custom or {}).items():
        if not isinstance(name, str) or not name.strip():
            raise ProcessError("custom work item type names must be non-empty strings")
        if isinstance(spec, str):
            template = types.get(spec)
            if template is None:
                raise ProcessError(
                    f"custom type {name!r} copies unknown type {spec!r} "
                    f"(types of {process}: {', '.join(types)})"
                )
            states = template.states
        elif isinstance(spec, list) and spec:
            states = tuple(_custom_state(name, index, s) for index, s in enumerate(spec))
        else:
            raise ProcessError(
                f"custom type {name!r}: expected the name of a type to copy states from, "
                "or a non-empty list of {name, category[, color]} states"
            )
        reference = "Custom." + "".join(part.capitalize() for part in name.split())
        types[name] = WorkItemType(name, reference, "60AF49", "icon_star", states)
    return types


def _custom_state(type_name: str, index: int, spec: Any) -> State:
    where = f"custom type {type_name!r} state [{index}]"
    if not isinstance(spec, dict) or not isinstance(spec.get("name"), str):
        raise ProcessError(f"{where}: expected an object with a string 'name'")
    category = spec.get("category")
    if category not in STATE_CATEGORIES:
        raise ProcessError(
            f"{where}: 'category' must be one of {', '.join(STATE_CATEGORIES)}, got {category!r}"
        )
    color = spec.get("color", "b2b2b2")
    if not isinstance(color, str):
        raise ProcessError(f"{where}: 'color' must be a hex string such as \"007acc\"")
    return State(spec["name"], color, category)


def _link(
    ref: str,
    name: str,
    *,
    opposite: str | None,
    forward: bool,
    topology: str,
    usage: str = "workItemLink",
) -> dict[str, Any]:
    attributes: dict[str, Any] = {
        "usage": usage,
        "editable": usage == "workItemLink",
        "enabled": True,
    }
    if usage == "workItemLink":
        attributes.update(
            acyclic=topology in ("tree", "dependency"),
            directional=topology != "network",
            singleTarget=topology == "tree" and not forward,
            topology=topology,
        )
        if topology != "network":
            attributes["isForward"] = forward
        if opposite is not None:
            attributes["oppositeEndReferenceName"] = opposite
    return {"referenceName": ref, "name": name, "attributes": attributes}


def _pair(base: str, forward: str, reverse: str, topology: str) -> list[dict[str, Any]]:
    return [
        _link(
            f"{base}-Forward", forward, opposite=f"{base}-Reverse", forward=True, topology=topology
        ),
        _link(
            f"{base}-Reverse", reverse, opposite=f"{base}-Forward", forward=False, topology=topology
        ),
    ]


# What GET _apis/wit/workitemrelationtypes answers (without "url", added per request).
RELATION_TYPES: tuple[dict[str, Any], ...] = (
    *_pair("System.LinkTypes.Hierarchy", "Child", "Parent", "tree"),
    _link(
        "System.LinkTypes.Related",
        "Related",
        opposite="System.LinkTypes.Related",
        forward=True,
        topology="network",
    ),
    *_pair("System.LinkTypes.Dependency", "Successor", "Predecessor", "dependency"),
    *_pair("System.LinkTypes.Duplicate", "Duplicate", "Duplicate Of", "tree"),
    *_pair("Microsoft.VSTS.Common.Affects", "Affects", "Affected By", "dependency"),
    *_pair("Microsoft.VSTS.Common.TestedBy", "Tested By", "Tests", "dependency"),
    *_pair(
        "Microsoft.VSTS.TestCase.SharedStepReferencedBy", "Test Case", "Shared Steps", "dependency"
    ),
    _link(
        "ArtifactLink",
        "Artifact Link",
        opposite=None,
        forward=True,
        topology="",
        usage="resourceLink",
    ),
    _link(
        "AttachedFile",
        "Attached File",
        opposite=None,
        forward=True,
        topology="",
        usage="resourceLink",
    ),
    _link("Hyperlink", "Hyperlink", opposite=None, forward=True, topology="", usage="resourceLink"),
)
