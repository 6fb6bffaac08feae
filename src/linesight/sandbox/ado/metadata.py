"""Process metadata as the service answers it: work item types, relation types, fields."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from linesight.sandbox.ado.errors import AdoError
from linesight.sandbox.ado.processes import RELATION_TYPES, WorkItemType
from linesight.sandbox.ado.responses import ok
from linesight.sandbox.ado.store import LINK_TYPES, Project, Store
from linesight.sandbox.wire import Response

__all__ = ["BYPASS_ONLY", "READ_ONLY", "fields", "relation_types", "type_json"]


READ_ONLY = frozenset(
    f.casefold()
    for f in (
        "System.Id",
        "System.Rev",
        "System.TeamProject",
        "System.AreaId",
        "System.IterationId",
        "System.AuthorizedDate",
        "System.AuthorizedAs",
        "System.RevisedDate",
        "System.CommentCount",
        "System.Parent",
        "System.Watermark",
    )
)
# Writable only with ?bypassRules=true, as in Azure DevOps (used to import history).
BYPASS_ONLY = frozenset(
    f.casefold()
    for f in ("System.CreatedDate", "System.ChangedDate", "System.CreatedBy", "System.ChangedBy")
)


def type_json(store: Store, project: Project, kind: WorkItemType) -> dict[str, Any]:
    """Work item type ``kind`` as ``GET .../workitemtypes`` returns it."""
    base = f"{store.app_url}/{project.id}/_apis/wit/workItemTypes/{quote(kind.name)}"
    return {
        "name": kind.name,
        "referenceName": kind.reference_name,
        "description": "",
        "color": kind.color,
        "icon": {
            "id": kind.icon,
            "url": f"{store.app_url}/_apis/wit/workItemIcons/{kind.icon}?color={kind.color}&v=2",
        },
        "isDisabled": False,
        "states": [s.to_json() for s in kind.states],
        "url": base,
        "_links": {"self": {"href": base}},
    }


def relation_types(store: Store, name: str | None) -> Response:
    """``GET _apis/wit/workItemRelationTypes[/{name}]``."""

    def with_url(entry: Mapping[str, Any]) -> dict[str, Any]:
        ref = entry["referenceName"]
        return {**entry, "url": f"{store.app_url}/_apis/wit/workItemRelationTypes/{ref}"}

    if name is None:
        return ok({"count": len(RELATION_TYPES), "value": [with_url(t) for t in RELATION_TYPES]})
    found = LINK_TYPES.get(name.casefold())
    if found is None:
        raise AdoError(
            404,
            f"TF201040: The link type {name} does not exist.",
            "WorkItemLinkTypeNotFoundException",
        )
    return ok(with_url(found))


def fields(store: Store, name: str | None) -> Response:
    """``GET _apis/wit/fields[/{name}]``: every field known or seen in the data."""

    def describe(entry: Any) -> dict[str, Any]:
        return {
            "name": entry.name,
            "referenceName": entry.ref,
            "type": entry.kind,
            "usage": "workItem",
            "readOnly": entry.ref.casefold() in READ_ONLY,
            "canSortBy": entry.kind not in ("html", "plainText"),
            "isQueryable": True,
            "isIdentity": entry.kind == "identity",
            "isPicklist": False,
            "url": f"{store.app_url}/_apis/wit/fields/{entry.ref}",
        }

    if name is None:
        values = [describe(f) for f in store.registry.all()]
        return ok({"count": len(values), "value": values})
    found = store.registry.resolve(name)
    if found is None:
        raise AdoError(404, f"TF51535: Cannot find field {name}.", "FieldNotFoundException")
    return ok(describe(found))
