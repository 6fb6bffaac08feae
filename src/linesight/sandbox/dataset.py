"""Sandbox datasets: native tracker payloads in one JSON document.

Shape::

    {
      "jira": [
        {"name": "cloud", "flavour": "cloud", "issues": [<issue as REST returns it>, ...],
         "fields": [<optional /field entries for custom fields>],
         "forbidden_projects": ["SEC"]},
        {"name": "dc", "flavour": "datacenter", "issues": [...]}
      ],
      "azure_devops": [
        {"organization": "contoso", "project": "Fabrikam", "process": "Agile",
         "work_items": [<work item as REST returns it>, ...]}
      ]
    }

:func:`load_dataset` checks the envelope and every Jira issue's skeleton (what the sandbox itself
relies on: ``id``, ``key``, ``fields.project.key``, ...). Azure DevOps work items are checked by
the ADO app, which raises :class:`DatasetError` the same way. Every message names the place:
``dataset.json: jira[0].issues[17]: missing 'key'``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

__all__ = ["JIRA_FLAVOURS", "DatasetError", "load_dataset"]

JIRA_FLAVOURS = ("cloud", "datacenter")
_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.")


class DatasetError(ValueError):
    """The dataset is not one the sandbox can serve. ``str(e)`` names the place and the problem."""


def load_dataset(source: Path | str | Mapping[str, Any]) -> dict[str, Any]:
    """Read (if a path) and check a dataset; return it as a plain dict.

    Raises :class:`DatasetError` with ``<origin>: <place>: <problem>`` on any shape error.
    """
    if isinstance(source, Mapping):
        origin, data = "dataset", dict(source)
    else:
        path = Path(source)
        origin = path.name
        try:
            text = path.read_text(encoding="utf-8-sig")
        except OSError as exc:
            raise DatasetError(f"{path}: cannot read dataset ({exc.strerror or exc})") from None
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise DatasetError(
                f"{origin}:{exc.lineno}:{exc.colno}: not valid JSON ({exc.msg})"
            ) from None
    check_dataset(data, origin)
    return data  # type: ignore[no-any-return,unused-ignore]


def check_dataset(data: Any, origin: str = "dataset") -> None:
    """Raise :class:`DatasetError` unless ``data`` has the dataset shape."""
    if not isinstance(data, dict):
        raise DatasetError(f"{origin}: expected a JSON object, got {_kind(data)}")
    # Other top-level keys (a generator's "okrs", "meta", ...) are the caller's business; only
    # near-misses of ours are almost certainly typos.
    for typo in ("ado", "azure-devops", "azuredevops", "azure_dev_ops", "Jira", "JIRA"):
        if typo in data:
            wanted = "jira" if typo.lower() == "jira" else "azure_devops"
            raise DatasetError(
                f"{origin}: unknown top-level key {typo!r} (did you mean {wanted!r}?)"
            )
    jira = data.get("jira", [])
    if not isinstance(jira, list):
        raise DatasetError(f"{origin}: jira: expected a list of instances, got {_kind(jira)}")
    names: set[str] = set()
    for index, instance in enumerate(jira):
        where = f"{origin}: jira[{index}]"
        _check_jira_instance(instance, where)
        if instance["name"] in names:
            raise DatasetError(f"{where}: duplicate instance name {instance['name']!r}")
        names.add(instance["name"])
    ado = data.get("azure_devops", [])
    if not isinstance(ado, list):
        raise DatasetError(f"{origin}: azure_devops: expected a list of projects, got {_kind(ado)}")
    for index, entry in enumerate(ado):
        where = f"{origin}: azure_devops[{index}]"
        if not isinstance(entry, dict):
            raise DatasetError(f"{where}: expected an object, got {_kind(entry)}")
        for key in ("organization", "project"):
            value = entry.get(key)
            if not isinstance(value, str) or not value:
                raise DatasetError(f"{where}: missing {key!r} (a non-empty string)")
        _check_name(entry["organization"], f"{where}.organization")
        if not isinstance(entry.get("work_items", []), list):
            raise DatasetError(f"{where}.work_items: expected a list")


def _check_jira_instance(instance: Any, where: str) -> None:
    if not isinstance(instance, dict):
        raise DatasetError(f"{where}: expected an object, got {_kind(instance)}")
    name = instance.get("name")
    if not isinstance(name, str) or not name:
        raise DatasetError(f"{where}: missing 'name' (a non-empty string such as \"cloud\")")
    _check_name(name, f"{where}.name")
    flavour = instance.get("flavour")
    if flavour not in JIRA_FLAVOURS:
        raise DatasetError(
            f"{where}.flavour: expected one of {list(JIRA_FLAVOURS)}, got {flavour!r}"
        )
    issues = instance.get("issues", [])
    if not isinstance(issues, list):
        raise DatasetError(f"{where}.issues: expected a list, got {_kind(issues)}")
    ids: set[str] = set()
    keys: set[str] = set()
    for index, issue in enumerate(issues):
        spot = f"{where}.issues[{index}]"
        check_jira_issue(issue, spot)
        if issue["id"] in ids:
            raise DatasetError(f"{spot}: duplicate id {issue['id']!r}")
        if issue["key"] in keys:
            raise DatasetError(f"{spot}: duplicate key {issue['key']!r}")
        ids.add(issue["id"])
        keys.add(issue["key"])
    fields = instance.get("fields", [])
    if not isinstance(fields, list):
        raise DatasetError(f"{where}.fields: expected a list of /field entries")
    for index, entry in enumerate(fields):
        if not isinstance(entry, dict) or not isinstance(entry.get("id"), str):
            raise DatasetError(f"{where}.fields[{index}]: expected an object with a string 'id'")
        if not isinstance(entry.get("name"), str):
            raise DatasetError(f"{where}.fields[{index}]: missing 'name'")
    forbidden = instance.get("forbidden_projects", [])
    if not isinstance(forbidden, list) or not all(isinstance(p, str) for p in forbidden):
        raise DatasetError(f"{where}.forbidden_projects: expected a list of project keys")


def check_jira_issue(issue: Any, where: str) -> None:
    """The skeleton the sandbox relies on; everything else is served as stored."""
    if not isinstance(issue, dict):
        raise DatasetError(f"{where}: expected an issue object, got {_kind(issue)}")
    issue_id = issue.get("id")
    if not isinstance(issue_id, str) or not issue_id.isdigit():
        raise DatasetError(f"{where}: missing 'id' (a numeric string such as \"10001\")")
    key = issue.get("key")
    if not isinstance(key, str) or "-" not in key:
        raise DatasetError(f"{where}: missing 'key' (such as \"PAY-12\")")
    fields = issue.get("fields")
    if not isinstance(fields, dict):
        raise DatasetError(f"{where}: missing 'fields' (an object)")
    for name in ("project", "issuetype", "status"):
        if not isinstance(fields.get(name), dict):
            raise DatasetError(f"{where}.fields: missing {name!r} (an object)")
    if not isinstance(fields["project"].get("key"), str):
        raise DatasetError(f"{where}.fields.project: missing 'key'")
    if not isinstance(fields["issuetype"].get("name"), str):
        raise DatasetError(f"{where}.fields.issuetype: missing 'name'")
    category = fields["status"].get("statusCategory")
    if not isinstance(category, dict) or category.get("key") not in (
        "new",
        "indeterminate",
        "done",
    ):
        raise DatasetError(
            f"{where}.fields.status.statusCategory: missing 'key' (new, indeterminate or done)"
        )
    for name in ("created", "updated"):
        if not isinstance(fields.get(name), str):
            raise DatasetError(
                f'{where}.fields: missing {name!r} (such as "2026-10-01T09:00:00.000+0000")'
            )
    labels = fields.get("labels", [])
    if not isinstance(labels, list) or not all(isinstance(x, str) for x in labels):
        raise DatasetError(f"{where}.fields.labels: expected a list of strings")


def _check_name(name: str, where: str) -> None:
    # Names become URL path segments (/jira/{name}, /ado/{organization}).
    if not set(name) <= _NAME_CHARS:
        raise DatasetError(f"{where}: {name!r} may only use letters, digits, '-', '_' and '.'")


def _kind(value: Any) -> str:
    return {dict: "an object", list: "a list", str: "a string", type(None): "null"}.get(
        type(value), type(value).__name__
    )
