"""Saving a new revision: the process rules, the stamps, and the other end of every link."""

from __future__ import annotations

from typing import Any

from linesight.sandbox.ado.errors import bad_request
from linesight.sandbox.ado.store import (
    LINK_TYPES,
    PARENT,
    Item,
    Relation,
    Store,
    check_writable,
    iso,
)

__all__ = ["check_fields", "commit"]


def check_fields(store: Store, item: Item, fields: dict[str, Any]) -> None:
    """Refuse what the process rules forbid; spell the state as they do."""
    project = item.project
    kind = project.type(str(fields.get("System.WorkItemType", "")))
    if kind is None:
        raise bad_request(
            f"TF401320: Rule Error for field Work Item Type. Error code: LimitedToValues. "
            f"{fields.get('System.WorkItemType')!r} is not a type of the {project.process} "
            "process."
        )
    state = fields.get("System.State")
    if not isinstance(state, str) or kind.state(state) is None:
        raise bad_request(
            "TF401320: Rule Error for field State. Error code: Required, HasValues, "
            f"LimitedToValues, AllowsOldValue, InvalidEmpty. {state!r} is not a state of "
            f"{kind.name} (states: {', '.join(s.name for s in kind.states)})."
        )
    fields["System.State"] = kind.state(state).name  # type: ignore[union-attr]
    if not isinstance(fields.get("System.Title"), str) or not fields["System.Title"].strip():
        raise bad_request("TF401320: Rule Error for field Title. Error code: Required.")
    for ref, paths, noun in (
        ("System.AreaPath", project.area_paths, "area"),
        ("System.IterationPath", project.iteration_paths, "iteration"),
    ):
        path = fields.get(ref)
        if not isinstance(path, str) or path.strip("\\").casefold() not in paths:
            raise bad_request(
                f"TF401347: Invalid tree name given for work item {item.id}, field "
                f"'{ref}'. The {noun} path {path!r} does not exist in project {project.name}.",
                "WorkItemFieldInvalidTreeNameException",
            )
    if project.is_forbidden(fields.get("System.AreaPath")):
        check_writable(Item(item.id, item.rev, fields, [], project))


def commit(
    store: Store,
    item: Item,
    fields: dict[str, Any],
    relations: list[Relation],
    caller: dict[str, Any],
    *,
    bypass: bool,
    history: str | None,
) -> None:
    """Save the item's next revision, stamped; update the far end of changed links."""
    before = item.fields
    moment = store.now(before.get("System.ChangedDate"))
    stamp = iso(moment)
    if not (bypass and fields.get("System.ChangedDate") != before.get("System.ChangedDate")):
        fields["System.ChangedDate"] = stamp
    if not (
        bypass
        and "System.ChangedBy" in fields
        and fields["System.ChangedBy"] != before.get("System.ChangedBy")
    ):
        fields["System.ChangedBy"] = caller
    fields["System.AuthorizedDate"] = stamp
    if fields.get("System.State") != before.get("System.State"):
        _state_changed(item, fields, stamp)
    if history is not None:
        fields["System.History"] = history
        item.comments.append(store.new_comment(history, "html", caller, stamp))
        fields["System.CommentCount"] = sum(not c.deleted for c in item.comments)
    else:
        fields.pop("System.History", None)
    old_links = {(r.rel, r.target) for r in item.relations if r.target is not None}
    new_links = {(r.rel, r.target) for r in relations if r.target is not None}
    parent = next((r.target for r in relations if r.rel == PARENT), None)
    if parent is None:
        fields.pop("System.Parent", None)
    else:
        fields["System.Parent"] = parent
    item.rev += 1
    fields["System.Rev"] = item.rev
    item.fields = fields
    item.relations = relations
    store.changed(item)
    # The other end of every added or removed link changes too (a new revision there).
    touched: dict[int, Item] = {}
    for relation in relations:
        if (relation.rel, relation.target) not in old_links:
            target = store.ensure_opposite(item, relation)
            if target is not None:
                touched[target.id] = target
    for rel, target_id in old_links - new_links:
        target = store.items.get(target_id) if target_id is not None else None
        opposite = LINK_TYPES[rel.casefold()]["attributes"].get("oppositeEndReferenceName")
        if target is None or opposite is None:
            continue
        target.relations = [
            r for r in target.relations if not (r.rel == opposite and r.target == item.id)
        ]
        if opposite == PARENT:
            target.fields = {k: v for k, v in target.fields.items() if k != "System.Parent"}
        touched[target.id] = target
    for target in touched.values():
        store.bump(target, caller)


def _state_changed(item: Item, fields: dict[str, Any], stamp: str) -> None:
    kind = item.project.type(fields["System.WorkItemType"])
    state = kind.state(fields["System.State"]) if kind is not None else None
    if state is None:
        return
    fields["Microsoft.VSTS.Common.StateChangeDate"] = stamp
    if fields.get("System.Reason") == item.fields.get("System.Reason"):
        fields["System.Reason"] = f"Moved to state {state.name}"
    # The process rules that stamp (and clear) the activation / resolution / closing dates.
    dates = {
        "InProgress": "Microsoft.VSTS.Common.ActivatedDate",
        "Resolved": "Microsoft.VSTS.Common.ResolvedDate",
        "Completed": "Microsoft.VSTS.Common.ClosedDate",
    }
    order = ["Proposed", "InProgress", "Resolved", "Completed"]
    if state.category in order:
        reached = order.index(state.category)
        for category, ref in dates.items():
            if order.index(category) > reached:
                fields.pop(ref, None)
        if state.category in dates and state.category != "Proposed":
            fields.setdefault(dates[state.category], stamp)
            if state.category != "InProgress":
                fields.setdefault(dates["InProgress"], stamp)
