"""Azure DevOps work item JSON -> :class:`~linesight.model.WorkItem`. Tracker JSON stops here.

Input is a work item exactly as ``workitemsbatch`` / ``workitems`` return it with
``$expand=Relations`` (``id``, ``rev``, ``fields``, ``relations``, ``url``). Everything in it is
untrusted: a payload that lacks what linesight needs is skipped with a warning naming its id,
never a crash.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote

from linesight.model import Link, StatusCategory, WorkItem

__all__ = ["CHILD_REL", "PARENT_REL", "MappingContext", "map_work_item", "split_tags"]

log = logging.getLogger("linesight.azure_devops")

PARENT_REL = "System.LinkTypes.Hierarchy-Reverse"
CHILD_REL = "System.LinkTypes.Hierarchy-Forward"
_WORK_ITEM_URL = re.compile(r"/_apis/wit/workitems/(\d+)/?$", re.IGNORECASE)
_KR_SEPARATORS = re.compile(r"[;,]")


@dataclass(frozen=True, slots=True)
class MappingContext:
    """What mapping needs besides the payload.

    ``category(type, state)`` gives the status category, or ``None`` for a Removed state.
    """

    source: str
    org_url: str  # https://dev.azure.com/<org>, no trailing slash
    category: Callable[[str, str], StatusCategory | None]
    kr_field: str | None = None
    team_field: str | None = None


class _SkipError(Exception):
    """The payload cannot be used; the message says why."""


def split_tags(value: Any) -> tuple[str, ...]:
    """``System.Tags`` (``"a; b"``) as a tuple of tags, stripped, empties dropped, order kept."""
    if not isinstance(value, str):
        return ()
    return tuple(tag for tag in (part.strip() for part in value.split(";")) if tag)


def map_work_item(payload: Any, ctx: MappingContext) -> WorkItem | None:
    """The :class:`WorkItem` for ``payload``; ``None`` for a Removed item or a garbage payload."""
    item_id = payload.get("id") if isinstance(payload, Mapping) else None
    try:
        return _map(payload, ctx)
    except _SkipError as reason:
        log.warning("%s: skipping work item %s: %s", ctx.source, _show_id(item_id), reason)
    except (TypeError, ValueError, AttributeError, KeyError) as exc:
        log.warning(
            "%s: skipping work item %s: unexpected shape (%s)",
            ctx.source,
            _show_id(item_id),
            type(exc).__name__,
        )
    return None


def _map(payload: Any, ctx: MappingContext) -> WorkItem | None:
    if not isinstance(payload, Mapping):
        raise _SkipError(f"expected a work item object, got {type(payload).__name__}")
    item_id = payload.get("id")
    if isinstance(item_id, bool) or not isinstance(item_id, int) or item_id <= 0:
        raise _SkipError("no numeric 'id'")
    fields = payload.get("fields")
    if not isinstance(fields, Mapping):
        raise _SkipError("no 'fields' object")
    item_type = _text(fields, "System.WorkItemType")
    state = _text(fields, "System.State")
    title = fields.get("System.Title")
    if not isinstance(title, str):
        raise _SkipError("no 'System.Title'")
    category = ctx.category(item_type, state)
    if category is None:
        return None  # a Removed state: out of scope
    project = fields.get("System.TeamProject")
    project = project if isinstance(project, str) else ""
    area = fields.get("System.AreaPath")
    team = _team(fields.get(ctx.team_field)) if ctx.team_field else None
    if team is None and isinstance(area, str) and area:
        team = area

    parent: str | None = None
    links: list[Link] = []
    relations = payload.get("relations") or ()
    if isinstance(relations, list):
        for relation in relations:
            if not isinstance(relation, Mapping):
                continue
            rel = relation.get("rel")
            target = _target_id(relation.get("url"))
            if not isinstance(rel, str) or target is None:
                continue  # attachments, hyperlinks, artifact links
            if rel == PARENT_REL:
                parent = parent or target
            elif rel != CHILD_REL:
                links.append(Link(kind=rel, target=target))
    if parent is None:
        fallback = fields.get("System.Parent")
        if isinstance(fallback, int) and not isinstance(fallback, bool) and fallback > 0:
            parent = str(fallback)

    rev = payload.get("rev", fields.get("System.Rev"))
    started = _date(fields.get("Microsoft.VSTS.Common.ActivatedDate"))
    if started is None and category is StatusCategory.IN_PROGRESS:
        started = _date(fields.get("Microsoft.VSTS.Common.StateChangeDate"))
    resolved = None
    if category is StatusCategory.DONE:
        resolved = (
            _date(fields.get("Microsoft.VSTS.Common.ResolvedDate"))
            or _date(fields.get("Microsoft.VSTS.Common.ClosedDate"))
            or _date(fields.get("Microsoft.VSTS.Common.StateChangeDate"))
        )
    key = str(item_id)
    web_project = quote(project, safe="") if project else ""
    url = f"{ctx.org_url}/{web_project}/_workitems/edit/{key}" if web_project else ""
    return WorkItem(
        source=ctx.source,
        key=key,
        type=item_type,
        title=title,
        status=state,
        status_category=category,
        project=project,
        team=team,
        parent=parent,
        labels=split_tags(fields.get("System.Tags")),
        links=tuple(links),
        kr_refs=_kr_refs(fields.get(ctx.kr_field)) if ctx.kr_field else (),
        created=_date(fields.get("System.CreatedDate")),
        updated=_date(fields.get("System.ChangedDate")),
        started=started,
        resolved=resolved,
        url=url,
        rev=rev if isinstance(rev, int) and not isinstance(rev, bool) else None,
    )


def _text(fields: Mapping[str, Any], name: str) -> str:
    value = fields.get(name)
    if not isinstance(value, str) or not value.strip():
        raise _SkipError(f"no {name!r}")
    return value


def _team(value: Any) -> str | None:
    if isinstance(value, str) and value.strip():
        return value.strip()
    if isinstance(value, Mapping):  # an identity field: {"displayName": ...}
        name = value.get("displayName") or value.get("uniqueName")
        return name if isinstance(name, str) and name else None
    return None


def _target_id(url: Any) -> str | None:
    if not isinstance(url, str):
        return None
    match = _WORK_ITEM_URL.search(url)
    return match.group(1) if match else None


def _kr_refs(value: Any) -> tuple[str, ...]:
    if value is None or isinstance(value, bool):
        return ()
    if isinstance(value, int | float):
        return (str(value),)
    if isinstance(value, list):
        parts = [str(v) for v in value if isinstance(v, str | int) and not isinstance(v, bool)]
    elif isinstance(value, str):
        parts = _KR_SEPARATORS.split(value)
    else:
        return ()
    return tuple(dict.fromkeys(p.strip() for p in parts if p.strip()))


def _date(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    if moment.tzinfo is None:
        return None  # Azure DevOps always sends UTC with Z; a naive time is not trustworthy
    if moment.year >= 9999:
        return None  # "9999-01-01T00:00:00Z" means "never" (System.RevisedDate)
    return moment


def _show_id(value: Any) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return "(without a usable id)"
