"""Reading and deleting work items: by id, in batches of 200, with fields or ``$expand``."""

from __future__ import annotations

import bisect
from typing import Any

from linesight.sandbox.ado.errors import AdoError, bad_request, not_found_item
from linesight.sandbox.ado.params import check_as_of, parse_expand
from linesight.sandbox.ado.responses import JSON, ok
from linesight.sandbox.ado.store import Store, check_writable, iso
from linesight.sandbox.wire import Request, Response

__all__ = ["MAX_BATCH_SIZE", "batch", "delete", "get_one", "list_items"]


MAX_BATCH_SIZE = 200


def batch(store: Store, request: Request) -> Response:
    """``POST _apis/wit/workitemsbatch``: up to 200 ids, with fields or ``$expand``."""
    body = request.json()
    if not isinstance(body, dict):
        raise AdoError(
            400,
            "Value cannot be null.\r\nParameter name: workItemGetRequest",
            "ArgumentNullException",
            namespace="System",
        )
    ids = body.get("ids")
    if (
        not isinstance(ids, list)
        or not ids
        or not all(isinstance(i, int) and not isinstance(i, bool) for i in ids)
    ):
        raise bad_request(
            "VS403490: The ids parameter is required: a list of work item ids.",
            "ArgumentException",
        )
    fields = body.get("fields")
    if fields is not None and (
        not isinstance(fields, list) or not all(isinstance(f, str) for f in fields)
    ):
        raise bad_request("The fields parameter must be a list of field reference names.")
    expand = body.get("$expand")
    check_as_of(body.get("asOf"))
    policy = str(body.get("errorPolicy") or "fail")
    return _items_response(store, ids, fields, expand, policy)


def list_items(store: Store, request: Request) -> Response:
    """``GET _apis/wit/workitems?ids=...``: up to 200 ids."""
    raw_ids = request.arg("ids")
    if not raw_ids:
        raise AdoError(
            400,
            "Value cannot be null.\r\nParameter name: ids",
            "ArgumentNullException",
            namespace="System",
        )
    try:
        ids = [int(part) for part in raw_ids.split(",") if part.strip()]
    except ValueError:
        raise bad_request(
            f"The ids parameter {raw_ids!r} is not a list of work item ids.",
            "ArgumentException",
        ) from None
    raw_fields = request.arg("fields")
    fields = [f for f in raw_fields.split(",") if f.strip()] if raw_fields else None
    check_as_of(request.arg("asOf"))
    return _items_response(
        store, ids, fields, request.arg("$expand"), request.arg("errorPolicy") or "fail"
    )


def _items_response(
    store: Store, ids: list[int], fields: list[str] | None, expand: Any, policy: str
) -> Response:
    if len(ids) > MAX_BATCH_SIZE:
        raise bad_request(
            f"VS403474: You requested {len(ids)} work items which exceeds the limit of "
            f"{MAX_BATCH_SIZE}",
            "WorkItemTrackingBatchLimitExceededException",
        )
    relations, links = parse_expand(expand)
    if fields and (relations or links or str(expand).casefold() == "fields"):
        raise bad_request(
            "The expand parameter can not be used with the fields parameter.",
            "ConflictingParametersException",
        )
    if policy.casefold() not in ("fail", "omit"):
        raise bad_request(
            f"The errorPolicy {policy!r} is not valid (Fail or Omit).", "ArgumentException"
        )
    omit = policy.casefold() == "omit"
    refs = [store.field_ref(f) for f in fields] if fields else None
    parts: list[bytes] = []
    with store.lock:
        for item_id in ids:
            item = store.items.get(item_id)
            if item is None:
                if not omit:
                    raise not_found_item(item_id)
                parts.append(b"null")
            elif refs is not None:
                parts.append(store.render_fields(item, refs))
            else:
                parts.append(store.render(item, relations=relations, links=links))
    body = b'{"count":%d,"value":[' % len(parts) + b",".join(parts) + b"]}"
    return Response(200, body, {"Content-Type": JSON})


def get_one(store: Store, request: Request, item_id: int) -> Response:
    """``GET _apis/wit/workitems/{id}``, always with its ``_links``."""
    relations, _links = parse_expand(request.arg("$expand"))
    raw_fields = request.arg("fields")
    check_as_of(request.arg("asOf"))
    with store.lock:
        item = store.item(item_id)
        if raw_fields:
            if request.arg("$expand"):
                raise bad_request(
                    "The expand parameter can not be used with the fields parameter.",
                    "ConflictingParametersException",
                )
            refs = [store.field_ref(f) for f in raw_fields.split(",") if f.strip()]
            body = store.render_fields(item, refs)
        else:
            # A single work item always carries its _links, as the service sends them.
            body = store.render(item, relations=relations, links=True)
    return Response(200, body, {"Content-Type": JSON})


def delete(store: Store, request: Request, item_id: int) -> Response:
    """``DELETE _apis/wit/workitems/{id}``; its links leave the other ends too."""
    caller = store.caller(request)
    destroy = (request.arg("destroy") or "").casefold() == "true"
    with store.lock:
        item = store.item(item_id)
        check_writable(item)
        del store.items[item_id]
        store.ids.pop(bisect.bisect_left(store.ids, item_id))
        store.log.append(item_id)
        # Links to a deleted work item disappear from the other ends.
        for relation in item.relations:
            target = store.items.get(relation.target) if relation.target is not None else None
            if target is None:
                continue
            target.relations = [r for r in target.relations if r.target != item_id]
            if target.fields.get("System.Parent") == item_id:
                target.fields = {k: v for k, v in target.fields.items() if k != "System.Parent"}
            store.bump(target, caller)
    if destroy:
        return Response(204)
    return ok(
        {
            "id": item_id,
            "code": 200,
            "deletedBy": f"{caller['displayName']} <{caller['uniqueName']}>",
            "deletedDate": iso(store.now()),
            "name": item.fields.get("System.Title"),
            "project": item.project.name,
            "type": item.fields.get("System.WorkItemType"),
            "url": f"{store.app_url}/{item.project.id}/_apis/wit/recyclebin/{item_id}",
        }
    )
