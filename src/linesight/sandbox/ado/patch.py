"""``PATCH _apis/wit/workItems/{id}``: a JSON Patch document applied to copies of the item.

``test /rev`` answers 412 on a stale revision; fields, tags and relations are validated as the
service does, then :func:`~linesight.sandbox.ado.commit.commit` saves the new revision.
"""

from __future__ import annotations

import re
from typing import Any

from linesight.sandbox.ado.commit import check_fields, commit
from linesight.sandbox.ado.errors import VSS, AdoError, bad_request
from linesight.sandbox.ado.metadata import BYPASS_ONLY, READ_ONLY
from linesight.sandbox.ado.responses import JSON
from linesight.sandbox.ado.store import (
    LINK_TYPES,
    PARENT,
    WORK_ITEM_LINK,
    Item,
    Relation,
    Store,
    check_writable,
)
from linesight.sandbox.wire import Request, Response

__all__ = ["patch_item"]


def patch_item(store: Store, request: Request, item_id: int) -> Response:
    """``PATCH _apis/wit/workitems/{id}``: apply a JSON Patch document."""
    content_type = request.headers.get("content-type", "")
    if not content_type.casefold().startswith("application/json-patch+json"):
        raise AdoError(
            415,
            f'The request indicated a Content-Type of "{content_type.split(";")[0]}" for '
            'method type "PATCH" which is not supported. Valid content types for this '
            "method are: application/json-patch+json.",
            "VssRequestContentTypeNotSupportedException",
            namespace=VSS,
        )
    operations = request.json()
    if not isinstance(operations, list) or not operations:
        raise bad_request(
            "You must pass a valid patch document in the body of the request.",
            "VssPropertyValidationException",
        )
    bypass = (request.arg("bypassRules") or "").casefold() == "true"
    validate_only = (request.arg("validateOnly") or "").casefold() == "true"
    caller = store.caller(request)
    with store.lock:
        item = store.item(item_id)
        check_writable(item)
        fields = dict(item.fields)
        relations = list(item.relations)
        history: str | None = None
        for index, operation in enumerate(operations):
            history = (
                _apply(store, item, fields, relations, operation, index, bypass=bypass) or history
            )
        check_fields(store, item, fields)
        if validate_only:
            preview = Item(item.id, item.rev, fields, relations, item.project)
            return Response(
                200, store.render(preview, relations=True, links=True), {"Content-Type": JSON}
            )
        if fields == item.fields and relations == item.relations and history is None:
            return Response(
                200, store.render(item, relations=True, links=True), {"Content-Type": JSON}
            )
        commit(store, item, fields, relations, caller, bypass=bypass, history=history)
        return Response(200, store.render(item, relations=True, links=True), {"Content-Type": JSON})


def _apply(
    store: Store,
    item: Item,
    fields: dict[str, Any],
    relations: list[Relation],
    operation: Any,
    index: int,
    *,
    bypass: bool,
) -> str | None:
    """Apply one JSON Patch operation to the copies; return a History text if it adds one."""
    if not isinstance(operation, dict):
        raise bad_request(f"Operation [{index}] of the patch document is not an object.")
    op = str(operation.get("op", "")).casefold()
    path = operation.get("path")
    value = operation.get("value")
    if op not in ("add", "replace", "remove", "test") or not isinstance(path, str):
        raise bad_request(
            f"Operation [{index}]: the linesight sandbox supports the JSON Patch operations "
            f"add, replace, remove and test with a string 'path'; got op {op!r}.",
            "VssPropertyValidationException",
        )
    if op == "test":
        _test(store, item, fields, path, value)
        return None
    if path.casefold().startswith("/fields/"):
        return _apply_field(store, fields, op, path[len("/fields/") :], value, bypass=bypass)
    if path.casefold().startswith("/relations/"):
        _apply_relation(store, item, relations, op, path[len("/relations/") :], value)
        return None
    raise bad_request(
        f"Operation [{index}]: invalid path {path!r} (expected /fields/<reference name>, "
        "/relations/- or /relations/<index>).",
        "InvalidPatchPathException",
    )


def _test(store: Store, item: Item, fields: dict[str, Any], path: str, value: Any) -> None:
    if path.casefold() == "/rev":
        if value != item.rev:
            raise AdoError(
                412,
                "TF26071: This work item has been changed by someone else since you opened "
                "it. You will need to refresh it and discard your changes.",
                "WorkItemRevisionMismatchException",
            )
        return
    if path.casefold() == "/id":
        if value != item.id:
            raise bad_request(
                f"The test operation on /id failed: the id is {item.id}.",
                "TestOperationFailedException",
            )
        return
    if path.casefold().startswith("/fields/"):
        ref = store.field_ref(path[len("/fields/") :])
        if fields.get(ref) != value:
            raise bad_request(
                f"The test operation on {path} failed: the current value differs.",
                "TestOperationFailedException",
            )
        return
    raise bad_request(f"The sandbox cannot test the path {path!r}.", "InvalidPatchPathException")


def _apply_field(
    store: Store, fields: dict[str, Any], op: str, name: str, value: Any, *, bypass: bool
) -> str | None:
    ref = store.field_ref(name)
    folded = ref.casefold()
    if folded in READ_ONLY or (folded in BYPASS_ONLY and not bypass):
        raise bad_request(
            f"TF401326: Invalid field status 'ReadOnly' for field '{ref}'.",
            "WorkItemFieldInvalidException",
        )
    if ref == "System.History":
        if op == "remove" or not isinstance(value, str) or not value:
            raise bad_request("System.History can only be added to, with a text value.")
        return value
    if op == "remove" or value is None or value == "":
        fields.pop(ref, None)
        return None
    if ref == "System.Tags":
        if not isinstance(value, str):
            raise bad_request("System.Tags takes a '; '-separated string of tags.")
        # "add" appends to the list (ignoring case, like the service); "replace" sets it.
        tags = (_split_tags(fields.get(ref)) if op == "add" else []) + _split_tags(value)
        merged = "; ".join(_split_tags("; ".join(tags)))
        if merged:
            fields[ref] = merged
        else:
            fields.pop(ref, None)
        return None
    kind = store.registry.resolve(ref)
    if kind is not None and kind.kind in ("integer", "double"):
        if isinstance(value, str):
            try:
                value = float(value) if kind.kind == "double" else int(value)
            except ValueError:
                raise bad_request(
                    f"TF401320: Rule Error for field {kind.name}. Error code: InvalidType. "
                    f"The value {value!r} is not a number."
                ) from None
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise bad_request(f"The value of {ref} must be a number.")
    elif kind is not None and kind.kind == "identity" and isinstance(value, str):
        match = re.match(r"^(.*?)\s*<([^>]+)>$", value)
        value = store.identity(match.group(2) if match else value)
        if match:
            value["displayName"] = match.group(1)
    fields[ref] = value
    return None


def _apply_relation(
    store: Store, item: Item, relations: list[Relation], op: str, where: str, value: Any
) -> None:
    if where == "-":
        if op != "add":
            raise bad_request(
                "/relations/- can only be used with 'add'.", "InvalidPatchPathException"
            )
        relations.append(_relation(store, item, relations, value))
        return
    if not where.isdigit() or int(where) >= len(relations):
        raise bad_request(
            f"The relation index {where!r} does not exist on work item {item.id} "
            f"(it has {len(relations)} relations).",
            "InvalidPatchPathException",
        )
    index = int(where)
    if op == "remove":
        relations.pop(index)
        return
    others = relations[:index] + relations[index + 1 :]
    replacement = _relation(store, item, others, value)
    if op == "add":
        relations.insert(index, replacement)
    else:
        relations[index] = replacement


def _relation(store: Store, item: Item, relations: list[Relation], value: Any) -> Relation:
    """A validated new relation of ``item`` (whose other relations are ``relations``)."""
    if not isinstance(value, dict) or not isinstance(value.get("rel"), str):
        raise bad_request("A relation value needs a string 'rel' and 'url'.")
    url = value.get("url")
    if not isinstance(url, str):
        raise bad_request("A relation value needs a string 'rel' and 'url'.")
    attributes = value.get("attributes") or {}
    if not isinstance(attributes, dict):
        raise bad_request("A relation's 'attributes' must be an object.")
    link_type = LINK_TYPES.get(value["rel"].casefold())
    if link_type is None or link_type["attributes"]["usage"] != "workItemLink":
        return Relation(value["rel"], None, url, dict(attributes))
    match = WORK_ITEM_LINK.search(url)
    target = int(match.group(1)) if match else None
    if target is None or target not in store.items:
        raise bad_request(
            f"TF201063: The link target {url!r} is not a work item of this organization.",
            "WorkItemLinkInvalidException",
        )
    rel = link_type["referenceName"]
    if target == item.id:
        raise bad_request(
            f"TF201036: Work item {item.id} cannot be linked to itself.",
            "WorkItemLinkInvalidException",
        )
    if any(r.rel == rel and r.target == target for r in relations):
        raise bad_request(
            f"TF201035: The link {rel} from work item {item.id} to {target} already exists.",
            "WorkItemLinkAlreadyExistsException",
        )
    if rel == PARENT and any(r.rel == PARENT for r in relations):
        raise bad_request(
            f"TF201036: You cannot add a Parent link to work item {item.id} because a work "
            "item can have only one Parent link.",
            "WorkItemLinkInvalidException",
        )
    name = link_type["name"]
    return Relation(rel, target, None, {"isLocked": False, "name": name, **attributes})


def _split_tags(value: Any) -> list[str]:
    if not isinstance(value, str):
        return []
    seen: set[str] = set()
    tags: list[str] = []
    for raw in value.split(";"):
        tag = raw.strip()
        if tag and tag.casefold() not in seen:
            seen.add(tag.casefold())
            tags.append(tag)
    return tags
