"""The work item fields a WIQL query may name: the known ones and those seen in the data."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["ISO_DATE", "KNOWN_FIELDS", "Field", "FieldRegistry"]


@dataclass(frozen=True, slots=True)
class Field:
    """A work item field: reference name, friendly name and Azure DevOps field type."""

    ref: str
    name: str
    # integer | double | dateTime | string | treePath | identity | html | plainText | boolean
    kind: str


def _fields(*spec: tuple[str, str, str]) -> dict[str, Field]:
    return {ref: Field(ref, name, kind) for ref, name, kind in spec}


KNOWN_FIELDS: Mapping[str, Field] = _fields(
    ("System.Id", "ID", "integer"),
    ("System.Rev", "Rev", "integer"),
    ("System.Title", "Title", "string"),
    ("System.State", "State", "string"),
    ("System.Reason", "Reason", "string"),
    ("System.WorkItemType", "Work Item Type", "string"),
    ("System.TeamProject", "Team Project", "string"),
    ("System.AreaPath", "Area Path", "treePath"),
    ("System.IterationPath", "Iteration Path", "treePath"),
    ("System.AreaId", "Area ID", "integer"),
    ("System.IterationId", "Iteration ID", "integer"),
    ("System.Tags", "Tags", "plainText"),
    ("System.CreatedDate", "Created Date", "dateTime"),
    ("System.ChangedDate", "Changed Date", "dateTime"),
    ("System.AuthorizedDate", "Authorized Date", "dateTime"),
    ("System.RevisedDate", "Revised Date", "dateTime"),
    ("System.CreatedBy", "Created By", "identity"),
    ("System.ChangedBy", "Changed By", "identity"),
    ("System.AuthorizedAs", "Authorized As", "identity"),
    ("System.AssignedTo", "Assigned To", "identity"),
    ("System.Parent", "Parent", "integer"),
    ("System.Description", "Description", "html"),
    ("System.History", "History", "html"),
    ("System.CommentCount", "Comment Count", "integer"),
    ("System.BoardColumn", "Board Column", "string"),
    ("System.BoardColumnDone", "Board Column Done", "boolean"),
    ("System.BoardLane", "Board Lane", "string"),
    ("Microsoft.VSTS.Common.ActivatedDate", "Activated Date", "dateTime"),
    ("Microsoft.VSTS.Common.ActivatedBy", "Activated By", "identity"),
    ("Microsoft.VSTS.Common.ResolvedDate", "Resolved Date", "dateTime"),
    ("Microsoft.VSTS.Common.ResolvedBy", "Resolved By", "identity"),
    ("Microsoft.VSTS.Common.ResolvedReason", "Resolved Reason", "string"),
    ("Microsoft.VSTS.Common.ClosedDate", "Closed Date", "dateTime"),
    ("Microsoft.VSTS.Common.ClosedBy", "Closed By", "identity"),
    ("Microsoft.VSTS.Common.StateChangeDate", "State Change Date", "dateTime"),
    ("Microsoft.VSTS.Common.Priority", "Priority", "integer"),
    ("Microsoft.VSTS.Common.Severity", "Severity", "string"),
    ("Microsoft.VSTS.Common.ValueArea", "Value Area", "string"),
    ("Microsoft.VSTS.Common.Risk", "Risk", "string"),
    ("Microsoft.VSTS.Common.BusinessValue", "Business Value", "integer"),
    ("Microsoft.VSTS.Common.TimeCriticality", "Time Criticality", "double"),
    ("Microsoft.VSTS.Common.BacklogPriority", "Backlog Priority", "double"),
    ("Microsoft.VSTS.Common.StackRank", "Stack Rank", "double"),
    ("Microsoft.VSTS.Common.AcceptanceCriteria", "Acceptance Criteria", "html"),
    ("Microsoft.VSTS.Scheduling.StoryPoints", "Story Points", "double"),
    ("Microsoft.VSTS.Scheduling.Effort", "Effort", "double"),
    ("Microsoft.VSTS.Scheduling.Size", "Size", "double"),
    ("Microsoft.VSTS.Scheduling.OriginalEstimate", "Original Estimate", "double"),
    ("Microsoft.VSTS.Scheduling.RemainingWork", "Remaining Work", "double"),
    ("Microsoft.VSTS.Scheduling.CompletedWork", "Completed Work", "double"),
    ("Microsoft.VSTS.Scheduling.StartDate", "Start Date", "dateTime"),
    ("Microsoft.VSTS.Scheduling.TargetDate", "Target Date", "dateTime"),
    ("Microsoft.VSTS.Scheduling.FinishDate", "Finish Date", "dateTime"),
    ("Microsoft.VSTS.Scheduling.DueDate", "Due Date", "dateTime"),
)


ISO_DATE = re.compile(
    r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}:?\d{2})?$"
)


class FieldRegistry:
    """The fields a query may name: :data:`KNOWN_FIELDS` plus every field seen in the data.

    Lookups accept reference names and friendly names, ignoring case, as WIQL does.
    """

    def __init__(self) -> None:
        self._by_key: dict[str, Field] = {}
        for known in KNOWN_FIELDS.values():
            self._add(known)

    def _add(self, entry: Field) -> None:
        self._by_key.setdefault(entry.ref.casefold(), entry)
        self._by_key.setdefault(entry.name.casefold(), entry)

    def observe(self, fields: Mapping[str, Any]) -> None:
        """Learn the custom fields of one work item (their type is inferred from the value)."""
        by_key = self._by_key
        for ref, value in fields.items():
            if ref.casefold() not in by_key:
                self._add(Field(ref, ref.rsplit(".", 1)[-1], _infer_kind(ref, value)))

    def resolve(self, name: str) -> Field | None:
        return self._by_key.get(name.strip().casefold())

    def all(self) -> list[Field]:
        """Every distinct field, by reference name."""
        unique = {f.ref: f for f in self._by_key.values()}
        return [unique[ref] for ref in sorted(unique)]


def _infer_kind(ref: str, value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "double"
    if isinstance(value, dict):
        return "identity" if "displayName" in value or "uniqueName" in value else "string"
    if isinstance(value, str) and ISO_DATE.match(value) and "T" in value:
        return "dateTime"
    return "string"
