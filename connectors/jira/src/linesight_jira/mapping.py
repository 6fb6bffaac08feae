"""Native Jira issue JSON -> :class:`~linesight.model.WorkItem`. Tracker JSON stops here.

Everything a tracker sends is untrusted: an issue whose required fields are missing or of the
wrong type is skipped with a warning naming its key (the rest of the sync goes on); a page in
which *no* issue can be read raises :class:`~linesight.errors.PayloadError`, because then the
server is not speaking the API we expect.

Field shapes handled (Cloud v3 and Data Center v2 send the same ones for what we read):

- team field: an Atlassian Team ``{"id", "name"}``, a select option ``{"value"}``, a string,
  or a list of those (the first wins); unset -> the project key;
- KR field: a list of strings (labels-type field), a string with ``,``/``;``/whitespace
  separators, a select option or a list of options;
- parent: ``fields.parent.key`` (Cloud hierarchy, sub-task parents), else the legacy Epic Link
  field holding an epic key (Data Center, old Cloud sites).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from linesight.errors import PayloadError
from linesight.model import Link, StatusCategory, WorkItem
from linesight.settings import JiraSource

__all__ = ["BASE_FIELDS", "ISSUE_KEY", "IssueMapper", "MappingError", "issue_url"]

log = logging.getLogger("linesight.jira")

BASE_FIELDS: tuple[str, ...] = (
    "summary",
    "issuetype",
    "status",
    "parent",
    "labels",
    "issuelinks",
    "project",
    "created",
    "updated",
    "resolutiondate",
    "statuscategorychangedate",
)
"""The standard fields a sync asks for; the source's custom fields are added to these."""

_CATEGORIES = {
    "new": StatusCategory.TODO,
    "undefined": StatusCategory.TODO,  # "No category" on old Data Center sites
    "indeterminate": StatusCategory.IN_PROGRESS,
    "done": StatusCategory.DONE,
}
_CATEGORY_IDS = {
    "1": StatusCategory.TODO,
    "2": StatusCategory.TODO,
    "3": StatusCategory.DONE,
    "4": StatusCategory.IN_PROGRESS,
}
# Project keys: a letter, then letters, digits or underscores (Jira's own rule), a dash, a number.
# `\Z`, not `$`: `$` also matches before a trailing newline, so "PAY-1\n" would pass.
ISSUE_KEY = re.compile(r"^[A-Za-z][A-Za-z0-9_]*-[0-9]+\Z")
_REF_SPLIT = re.compile(r"[\s,;]+")


class MappingError(ValueError):
    """One issue cannot be read; ``str(e)`` says which field and why."""


def issue_url(site: str, key: str) -> str:
    """The browser URL of an issue: ``<site>/browse/<KEY>``."""
    return f"{site.rstrip('/')}/browse/{key}"


def _obj(value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise MappingError(f"{where}: expected an object, got {type(value).__name__}")
    return value


def _str(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise MappingError(f"{where}: expected a string, got {type(value).__name__}")
    return value


def _date(value: Any, where: str) -> datetime | None:
    if value is None:
        return None
    text = _str(value, where)
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise MappingError(f"{where}: not a timestamp: {text[:40]!r}") from None
    if parsed.tzinfo is None:
        raise MappingError(f"{where}: timestamp without a UTC offset: {text[:40]!r}")
    return parsed


def _option_text(value: Any) -> str | None:
    """The display text of a select option / team / user-ish object, or of a plain value."""
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, Mapping):
        for name in ("value", "name", "title", "key"):
            text = value.get(name)
            if isinstance(text, str) and text.strip():
                return text.strip()
    return None


def _team(value: Any) -> str | None:
    if isinstance(value, list):
        for entry in value:
            text = _option_text(entry)
            if text:
                return text
        return None
    return _option_text(value)


def _kr_refs(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    entries = value if isinstance(value, list) else [value]
    refs: list[str] = []
    for entry in entries:
        text = _option_text(entry)
        if text:
            refs.extend(part for part in _REF_SPLIT.split(text) if part)
    return tuple(dict.fromkeys(refs))


def _links(value: Any, key: str) -> tuple[Link, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise MappingError(f"fields.issuelinks: expected a list, got {type(value).__name__}")
    links: list[Link] = []
    for entry in value:
        # One odd link (a deleted issue, a link type without names) is not worth the item.
        if not isinstance(entry, Mapping):
            continue
        link_type = entry.get("type") if isinstance(entry.get("type"), Mapping) else {}
        assert isinstance(link_type, Mapping)
        # As seen from this issue: it holds `outwardIssue` when it is the link's source, so the
        # phrase that reads from here is `type.outward` ("blocks"), else `type.inward`.
        for side, phrase in (("outwardIssue", "outward"), ("inwardIssue", "inward")):
            other = entry.get(side)
            if isinstance(other, Mapping) and isinstance(other.get("key"), str):
                kind = link_type.get(phrase) or link_type.get("name")
                if isinstance(kind, str) and kind and ISSUE_KEY.fullmatch(other["key"]):
                    links.append(Link(kind=kind, target=other["key"]))
                else:
                    log.debug("%s: ignoring an issue link without a usable type or key", key)
                break
    return tuple(links)


@dataclass(frozen=True, slots=True)
class IssueMapper:
    """Maps native issues of one source to :class:`WorkItem` values."""

    source: str
    site: str
    kr_field: str | None = None
    team_field: str | None = None
    epic_link_field: str | None = None

    @classmethod
    def for_source(cls, source: JiraSource) -> IssueMapper:
        return cls(
            source=source.name,
            site=source.url,
            kr_field=source.kr_field,
            team_field=source.team_field,
            epic_link_field=source.epic_link_field,
        )

    @property
    def fields(self) -> list[str]:
        """Every field a sync requests: :data:`BASE_FIELDS` plus the configured custom ones."""
        extra = (self.kr_field, self.team_field, self.epic_link_field)
        return list(dict.fromkeys([*BASE_FIELDS, *(f for f in extra if f)]))

    def to_item(self, issue: Any) -> WorkItem:
        """One issue as a :class:`WorkItem`; :class:`MappingError` if it cannot be read."""
        raw = _obj(issue, "issue")
        key = _str(raw.get("key"), "key")
        if not ISSUE_KEY.fullmatch(key):
            raise MappingError(f"key: not an issue key: {key[:40]!r}")
        fields = _obj(raw.get("fields"), "fields")
        status = _obj(fields.get("status"), "fields.status")
        status_category = _obj(status.get("statusCategory"), "fields.status.statusCategory")
        category_key = status_category.get("key")
        category = _CATEGORIES.get(category_key) if isinstance(category_key, str) else None
        if category is None:  # the ids are fixed too: 1 undefined, 2 new, 3 done, 4 indeterminate
            category = _CATEGORY_IDS.get(str(status_category.get("id")))
        if category is None:
            raise MappingError(
                f"fields.status.statusCategory: unknown category {str(category_key)[:40]!r}"
            )
        project = _str(_obj(fields.get("project"), "fields.project").get("key"), "project.key")

        labels = fields.get("labels") or []
        if not isinstance(labels, list) or not all(isinstance(x, str) for x in labels):
            raise MappingError("fields.labels: expected a list of strings")

        parent: str | None = None
        parent_obj = fields.get("parent")
        if isinstance(parent_obj, Mapping) and isinstance(parent_obj.get("key"), str):
            parent = parent_obj["key"]
        elif self.epic_link_field:
            epic = fields.get(self.epic_link_field)
            epic_key = epic.get("key") if isinstance(epic, Mapping) else epic
            if isinstance(epic_key, str) and ISSUE_KEY.fullmatch(epic_key.strip()):
                parent = epic_key.strip()

        team = _team(fields.get(self.team_field)) if self.team_field else None
        changed = _date(fields.get("statuscategorychangedate"), "statuscategorychangedate")
        return WorkItem(
            source=self.source,
            key=key,
            type=_str(_obj(fields.get("issuetype"), "fields.issuetype").get("name"), "issuetype"),
            title=_str(fields.get("summary"), "fields.summary"),
            status=_str(status.get("name"), "fields.status.name"),
            status_category=category,
            project=project,
            team=team or project,
            parent=parent,
            labels=tuple(labels),
            links=_links(fields.get("issuelinks"), key),
            kr_refs=_kr_refs(fields.get(self.kr_field)) if self.kr_field else (),
            created=_date(fields.get("created"), "created"),
            updated=_date(fields.get("updated"), "updated"),
            started=changed if category is StatusCategory.IN_PROGRESS else None,
            resolved=_date(fields.get("resolutiondate"), "resolutiondate"),
            url=issue_url(self.site, key),
        )

    def map_page(self, issues: Sequence[Any], *, where: str) -> list[WorkItem]:
        """Map one page; unreadable issues are skipped with a warning naming the key.

        Raises :class:`PayloadError` when a non-empty page has no readable issue at all.
        """
        items = list(self.iter_page(issues, where=where))
        if issues and not items:
            raise PayloadError(
                f"{where}: none of the {len(issues)} issues returned has the documented shape; "
                "is the URL a Jira site and the flavour right?"
            )
        return items

    def iter_page(self, issues: Iterable[Any], *, where: str) -> Iterator[WorkItem]:
        for issue in issues:
            try:
                yield self.to_item(issue)
            except MappingError as exc:
                key = issue.get("key") if isinstance(issue, Mapping) else None
                if isinstance(key, str) and ISSUE_KEY.fullmatch(key):
                    label = key
                elif key is None:
                    label = "an issue without a key"
                else:  # tracker text: quoted and cut, so it cannot forge a log line
                    label = f"the issue with key {key!r:.60}"
                log.warning("%s: skipping %s: %s", where, label, exc)
