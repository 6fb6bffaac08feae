"""Dataset entries -> the store: projects, work items, links at both ends, comments.

Every problem raises :class:`DatasetError` naming the place
(``azure_devops[contoso/Fabrikam].work_items[5]: missing 'fields'``).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from linesight.sandbox.ado import processes
from linesight.sandbox.ado.processes import ProcessError
from linesight.sandbox.ado.store import (
    LINK_TYPES,
    PARENT,
    WORK_ITEM_LINK,
    Comment,
    Item,
    Project,
    Relation,
    Store,
    iso,
)
from linesight.sandbox.wiql import FieldRegistry, parse_datetime

try:
    from linesight.sandbox.dataset import DatasetError
except ImportError:  # pragma: no cover - dataset.py ships with the sandbox

    class DatasetError(ValueError):  # type: ignore[no-redef]
        """The dataset is not one the sandbox can serve."""


__all__ = ["load"]


def load(store: Store, entries: Sequence[Mapping[str, Any]]) -> None:
    """Fill ``store`` afresh from this organization's dataset ``entries``."""
    store.projects = {}
    store.items = {}
    store.next_comment_id = 1
    store.registry = FieldRegistry()
    now = iso(store.clock())
    seen_fields: set[str] = set()
    for entry in entries:
        project = _load_project(store, entry)
        where = f"azure_devops[{store.organization}/{project.name}]"
        work_items = entry.get("work_items", [])
        if not isinstance(work_items, list):
            raise DatasetError(f"{where}.work_items: expected a list of work items")
        for index, raw in enumerate(work_items):
            item = _load_item(raw, project, f"{where}.work_items[{index}]", now)
            if item.id in store.items:
                raise DatasetError(
                    f"{where}.work_items[{index}]: duplicate id {item.id} "
                    "(work item ids are unique in an organization)"
                )
            store.items[item.id] = item
            new = item.fields.keys() - seen_fields
            if new:
                seen_fields |= new
                store.registry.observe({k: item.fields[k] for k in new})
        _load_comments(store, entry, project, where)
    store.ids = sorted(store.items)
    _link_both_ends(store)
    store.forget_indexes()


def _load_project(store: Store, entry: Mapping[str, Any]) -> Project:
    name = entry.get("project")
    if not isinstance(name, str) or not name.strip():
        raise DatasetError(f"azure_devops[{store.organization}]: missing 'project'")
    where = f"azure_devops[{store.organization}/{name}]"
    if name.casefold() in store.projects:
        raise DatasetError(f"{where}: project {name!r} appears twice in the dataset")
    process = entry.get("process", "Agile")
    custom = entry.get("custom_work_item_types")
    if custom is not None and not isinstance(custom, dict):
        raise DatasetError(f"{where}.custom_work_item_types: expected an object")
    try:
        types = processes.process_types(str(process), custom)
    except ProcessError as exc:
        raise DatasetError(f"{where}: {exc}") from None
    forbidden = entry.get("forbidden_area_paths", [])
    if not isinstance(forbidden, list) or not all(isinstance(p, str) for p in forbidden):
        raise DatasetError(f"{where}.forbidden_area_paths: expected a list of area paths")
    project_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"linesight-sandbox/{store.mount}/{name}"))
    project = Project(
        name,
        project_id,
        next(p for p in processes.PROCESSES if p.casefold() == str(process).casefold()),
        types,
        forbidden=tuple(p.strip("\\").casefold() for p in forbidden),
    )
    project.area_paths.add(name.casefold())
    project.iteration_paths.add(name.casefold())
    for key, paths in (
        ("area_paths", project.area_paths),
        ("iteration_paths", project.iteration_paths),
    ):
        extra = entry.get(key, [])
        if not isinstance(extra, list) or not all(isinstance(p, str) for p in extra):
            raise DatasetError(f"{where}.{key}: expected a list of paths")
        for path in extra:
            paths.update(_path_levels(path))
    store.projects[name.casefold()] = project
    return project


def _load_item(raw: Any, project: Project, where: str, now: str) -> Item:
    if not isinstance(raw, dict):
        raise DatasetError(f"{where}: expected a work item object")
    item_id = raw.get("id")
    if isinstance(item_id, bool) or not isinstance(item_id, int) or item_id < 1:
        raise DatasetError(f"{where}: missing 'id' (a positive integer such as 4711)")
    source = raw.get("fields")
    if not isinstance(source, dict):
        raise DatasetError(f"{where}: missing 'fields'")
    fields = dict(source)
    rev = raw.get("rev", fields.get("System.Rev", 1))
    if isinstance(rev, bool) or not isinstance(rev, int) or rev < 1:
        raise DatasetError(f"{where}: 'rev' must be a positive integer")
    for name in ("System.WorkItemType", "System.State", "System.Title"):
        if not isinstance(fields.get(name), str):
            raise DatasetError(f"{where}.fields: missing {name!r} (a string)")
    kind = project.type(fields["System.WorkItemType"])
    if kind is None:
        raise DatasetError(
            f"{where}.fields: 'System.WorkItemType' {fields['System.WorkItemType']!r} is not "
            f"a type of the {project.process} process (types: {', '.join(project.types)}); "
            "declare it under 'custom_work_item_types'"
        )
    if kind.state(fields["System.State"]) is None:
        raise DatasetError(
            f"{where}.fields: 'System.State' {fields['System.State']!r} is not a state of "
            f"{kind.name!r} in the {project.process} process "
            f"(states: {', '.join(s.name for s in kind.states)})"
        )
    team_project = fields.setdefault("System.TeamProject", project.name)
    if not isinstance(team_project, str) or team_project.casefold() != project.name.casefold():
        raise DatasetError(
            f"{where}.fields: 'System.TeamProject' {team_project!r} does not match the "
            f"entry's project {project.name!r}"
        )
    for name, paths in (
        ("System.AreaPath", project.area_paths),
        ("System.IterationPath", project.iteration_paths),
    ):
        path = fields.setdefault(name, project.name)
        if not isinstance(path, str) or not (
            path.casefold() == project.name.casefold()
            or path.casefold().startswith(project.name.casefold() + "\\")
        ):
            raise DatasetError(
                f"{where}.fields: {name!r} {path!r} must start with the project name "
                f'{project.name!r} (e.g. "{project.name}\\\\Checkout")'
            )
        if path.casefold() not in paths:
            paths.update(_path_levels(path))
    created = fields.setdefault("System.CreatedDate", now)
    fields.setdefault("System.ChangedDate", created)
    for name, value in fields.items():
        if name.endswith("Date") and isinstance(value, str) and parse_datetime(value) is None:
            raise DatasetError(
                f"{where}.fields: {name!r} {value!r} is not an ISO 8601 date-time "
                '(such as "2026-10-01T09:00:00.123Z")'
            )
    if "System.Tags" in fields and not isinstance(fields["System.Tags"], str):
        raise DatasetError(f"{where}.fields: 'System.Tags' must be a '; '-separated string")
    fields["System.Id"] = item_id
    fields["System.Rev"] = rev
    relations = _load_relations(raw.get("relations", []), f"{where}.relations")
    parents = [r.target for r in relations if r.rel == PARENT]
    if parents and parents[0] is not None:
        fields["System.Parent"] = parents[0]
    elif isinstance(fields.get("System.Parent"), int):
        # A payload fetched without $expand=relations still names its parent.
        relations.append(
            Relation(PARENT, fields["System.Parent"], None, {"isLocked": False, "name": "Parent"})
        )
    return Item(item_id, rev, fields, relations, project)


def _load_relations(raw: Any, where: str) -> list[Relation]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise DatasetError(f"{where}: expected a list of relations")
    relations: list[Relation] = []
    for index, relation in enumerate(raw):
        spot = f"{where}[{index}]"
        if not isinstance(relation, dict) or not isinstance(relation.get("rel"), str):
            raise DatasetError(f"{spot}: expected an object with a string 'rel'")
        url = relation.get("url")
        if not isinstance(url, str):
            raise DatasetError(f"{spot}: missing 'url'")
        attributes = relation.get("attributes") or {}
        if not isinstance(attributes, dict):
            raise DatasetError(f"{spot}.attributes: expected an object")
        link_type = LINK_TYPES.get(relation["rel"].casefold())
        if link_type is not None and link_type["attributes"]["usage"] == "workItemLink":
            match = WORK_ITEM_LINK.search(url)
            if match is None:
                raise DatasetError(
                    f"{spot}.url: a {relation['rel']} link must end in /workItems/<id>, got {url!r}"
                )
            rel = link_type["referenceName"]
            attributes = {"isLocked": False, "name": link_type["name"], **attributes}
            relations.append(Relation(rel, int(match.group(1)), None, attributes))
        else:
            relations.append(Relation(relation["rel"], None, url, dict(attributes)))
    return relations


def _link_both_ends(store: Store) -> None:
    # Azure DevOps stores a link at both ends; a dataset may list one end only. (A set of
    # the links present keeps this linear: an epic may have thousands of children.)
    present = {
        (item.id, r.rel, r.target)
        for item in store.items.values()
        for r in item.relations
        if r.target is not None
    }
    for item in store.items.values():
        for relation in list(item.relations):
            if relation.target is None or relation.target not in store.items:
                continue
            opposite = LINK_TYPES[relation.rel.casefold()]["attributes"].get(
                "oppositeEndReferenceName"
            )
            if opposite is not None and (relation.target, opposite, item.id) not in present:
                store.ensure_opposite(item, relation, check=False)
                present.add((relation.target, opposite, item.id))


def _load_comments(store: Store, entry: Mapping[str, Any], project: Project, where: str) -> None:
    comments = entry.get("comments", {})
    if not isinstance(comments, dict):
        raise DatasetError(f"{where}.comments: expected an object of work item id -> list")
    for key, listed in comments.items():
        spot = f"{where}.comments[{key!r}]"
        item = store.items.get(int(key)) if str(key).isdigit() else None
        if item is None or item.project is not project:
            raise DatasetError(f"{spot}: no work item {key} in project {project.name!r}")
        if not isinstance(listed, list):
            raise DatasetError(f"{spot}: expected a list of comments")
        for index, raw in enumerate(listed):
            if not isinstance(raw, dict) or not isinstance(raw.get("text"), str):
                raise DatasetError(f"{spot}[{index}]: expected an object with a string 'text'")
            author = raw.get("createdBy")
            author = author if isinstance(author, dict) else store.identity(store.user)
            created = raw.get("createdDate", item.fields["System.CreatedDate"])
            comment_format = "markdown" if raw.get("format") == "markdown" else "html"
            item.comments.append(
                Comment(
                    store.next_comment_id,
                    raw["text"],
                    comment_format,
                    author,
                    created,
                    raw.get("modifiedBy", author),
                    raw.get("modifiedDate", created),
                )
            )
            store.next_comment_id += 1
        item.fields["System.CommentCount"] = len(item.comments)


def _path_levels(path: str) -> Iterable[str]:
    parts = path.strip("\\").split("\\")
    for depth in range(1, len(parts) + 1):
        yield "\\".join(parts[:depth]).casefold()
