"""Single issues: ``issue/{idOrKey}`` GET/PUT/DELETE, and ``issue/bulkfetch`` (Cloud).

An edit sets fields (``fields``) or applies operations (``update``: ``set`` for any editable
field, ``add``/``remove`` for labels); projects named in ``forbidden_projects`` answer 403.
"""

from __future__ import annotations

import copy
from typing import Any

from linesight.sandbox.jira.adf import ADF_REQUIRED, RICH_TEXT_FIELDS, is_adf, text_to_adf
from linesight.sandbox.jira.errors import HttpError
from linesight.sandbox.jira.payloads import FieldSpec, issue_bytes, page_bytes
from linesight.sandbox.jira.search import search_params
from linesight.sandbox.jira.site import Site
from linesight.sandbox.wire import Request, Response, json_response

__all__ = ["bulkfetch", "delete_issue", "edit_issue", "get_issue"]

_BULK_CAP = 100
_READ_ONLY_FIELDS = frozenset(
    {
        "created",
        "updated",
        "status",
        "project",
        "statuscategorychangedate",
        "resolutiondate",
        "issuelinks",
        "comment",
        "creator",
        "statusCategory",
        "issuekey",
        "key",
        "id",
        "issuetype",
        "parent",
    }
)


def bulkfetch(site: Site, request: Request, version: str) -> Response:
    """``POST issue/bulkfetch`` (Cloud): up to 100 issues by id or key, unknown ones left out."""
    params = search_params(
        request, frozenset({"issueIdsOrKeys", "fields", "expand", "properties", "fieldsByKeys"})
    )
    wanted = params.get("issueIdsOrKeys")
    if not isinstance(wanted, list) or not wanted:
        raise HttpError(400, ["issueIdsOrKeys must contain at least one issue id or key."])
    if len(wanted) > _BULK_CAP:
        raise HttpError(
            400,
            [
                f"The number of issue ids or keys must be at most {_BULK_CAP}, "
                f"but was {len(wanted)}."
            ],
        )
    spec = FieldSpec.parse(params.get("fields"), "*navigable")
    found: set[str] = set()
    for ref in wanted:
        text = str(ref)
        issue_id = text if text in site.issues else site.by_key.get(text.upper())
        if issue_id is not None and issue_id in site.issues:
            found.add(issue_id)  # unknown ones are silently left out, as on Cloud
    page = sorted(found, key=int)
    body = b'{"issues":[' + page_bytes(site, page, request, version, spec) + b'],"issueErrors":[]}'
    return json_response(200, None, raw=body)


def get_issue(site: Site, request: Request, version: str, issue: str) -> Response:
    """``GET issue/{idOrKey}`` (``fields``; every field by default)."""
    issue_id = site.find(issue)
    spec = FieldSpec.parse(request.query.get("fields"), "*all")
    return json_response(200, None, raw=issue_bytes(site, issue_id, request, version, spec))


def edit_issue(site: Site, request: Request, version: str, issue: str) -> Response:
    """``PUT issue/{idOrKey}``: ``fields`` and/or ``update``; 204, or the issue if asked."""
    issue_id = site.find(issue)
    notify = request.arg("notifyUsers", "true")
    if notify not in ("true", "false"):
        raise HttpError(400, ["notifyUsers must be true or false."])
    body = request.json()
    if not isinstance(body, dict):
        raise HttpError(400, ["Request body must be a JSON object with 'fields' and/or 'update'."])
    site.require_writable_project(
        issue_id, "You do not have permission to edit issues in this project."
    )
    sets = body.get("fields") or {}
    updates = body.get("update") or {}
    if not isinstance(sets, dict) or not isinstance(updates, dict):
        raise HttpError(400, ["'fields' and 'update' must be JSON objects."])
    both = sorted(set(sets) & set(updates))
    if both:
        raise HttpError(
            400, [], {both[0]: f"Field '{both[0]}' cannot be set in both fields and update."}
        )
    current = site.issues[issue_id]["fields"]
    new_values: dict[str, Any] = {}
    for name, value in sets.items():
        _check_editable(site, name)
        new_values[name] = _checked_value(site, name, value, version)
    for name, operations in updates.items():
        _check_editable(site, name)
        if not isinstance(operations, list):
            raise HttpError(400, [], {name: "Update operations must be a list of operations."})
        value = copy.deepcopy(current.get(name))
        for operation in operations:
            value = _apply_operation(site, name, value, operation, version)
        new_values[name] = value
    changed = {k: v for k, v in new_values.items() if current.get(k) != v}
    if changed:
        writable = site.writable(issue_id)
        writable["fields"].update(changed)
        site.touch(issue_id)
    if request.arg("returnIssue") == "true":
        spec = FieldSpec.parse(None, "*all")
        return json_response(200, None, raw=issue_bytes(site, issue_id, request, version, spec))
    return Response(204)


def _check_editable(site: Site, name: str) -> None:
    known = {f["id"] for f in site.field_list}
    if name in _READ_ONLY_FIELDS or name not in known:
        raise HttpError(
            400,
            [],
            {
                name: f"Field '{name}' cannot be set. It is not on the appropriate screen, "
                "or unknown."
            },
        )


def _checked_value(site: Site, name: str, value: Any, version: str) -> Any:
    if name == "labels":
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise HttpError(400, [], {"labels": "Labels must be a list of strings."})
        for label in value:
            _check_label(label)
        return list(dict.fromkeys(value))
    if name == "summary" and (not isinstance(value, str) or not value.strip() or "\n" in value):
        raise HttpError(400, [], {"summary": "You must specify a summary of the issue."})
    if name in RICH_TEXT_FIELDS and site.cloud:
        if version == "3" and value is not None and not is_adf(value):
            raise HttpError(
                400,
                [],
                {name: ADF_REQUIRED},
            )
        if version == "2" and isinstance(value, str):
            return text_to_adf(value)
    return value


def _apply_operation(site: Site, name: str, value: Any, operation: Any, version: str) -> Any:
    if not isinstance(operation, dict) or len(operation) != 1:
        raise HttpError(400, [], {name: "Each update operation must be an object with one verb."})
    verb, argument = next(iter(operation.items()))
    if verb == "set":
        return _checked_value(site, name, argument, version)
    if name != "labels" or verb not in ("add", "remove"):
        raise HttpError(400, [], {name: f"Operation '{verb}' is not supported for field '{name}'."})
    if not isinstance(argument, str):
        raise HttpError(400, [], {"labels": "Labels must be strings."})
    labels = list(value or [])
    if verb == "add":
        _check_label(argument)
        if argument not in labels:
            labels.append(argument)
    elif argument in labels:
        labels.remove(argument)
    return labels


def _check_label(label: str) -> None:
    if not label or " " in label:
        raise HttpError(
            400, [], {"labels": f"The label '{label}' contains spaces which is invalid."}
        )
    if len(label) > 255:
        raise HttpError(400, [], {"labels": "The label must not be longer than 255 characters."})


def delete_issue(site: Site, request: Request, version: str, issue: str) -> Response:
    """``DELETE issue/{idOrKey}`` (``deleteSubtasks``); its links go from the other ends too."""
    issue_id = site.find(issue)
    site.require_writable_project(
        issue_id, "You do not have permission to delete issues in this project."
    )
    children = [
        i
        for i, x in site.indexed.items()
        if x.parent_id == issue_id
        and (site.issues[i]["fields"]["issuetype"].get("subtask") is True)
    ]
    if children and request.arg("deleteSubtasks") != "true":
        raise HttpError(
            400, ["The issue has subtasks. Set deleteSubtasks=true to delete them too."]
        )
    for doomed in [*children, issue_id]:
        for link in site.issues[doomed]["fields"].get("issuelinks") or ():
            other = (link.get("inwardIssue") or link.get("outwardIssue") or {}).get("id")
            if other in site.issues and other not in children and other != issue_id:
                writable = site.writable(other)
                writable["fields"]["issuelinks"] = [
                    x
                    for x in writable["fields"].get("issuelinks") or ()
                    if x.get("id") != link.get("id")
                ]
                site.touch(other)
        del site.issues[doomed]
        del site.indexed[doomed]
        site.dirty.add(doomed)
    site.schema = None
    site.changed(*children, issue_id)
    return Response(204)
