"""Issues as a response carries them: filtered by ``fields``, rendered once, served as bytes.

A rendered issue is cached per (site URL, API version, field selection) until a write to it;
search pages are joined from these pre-rendered bytes (the fast path for big pages).
:func:`prerender` fills the cache for a field selection ahead of the reads that will ask for it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from linesight.sandbox.jira.adf import RICH_TEXT_FIELDS, adf_to_text, is_adf
from linesight.sandbox.jira.comments import comment_page
from linesight.sandbox.jira.site import Site
from linesight.sandbox.wire import Request

__all__ = ["FieldSpec", "issue_bytes", "page_bytes", "prerender"]

_ID_ONLY_FIELDS = frozenset({"id", "key", "issuekey"})
_NON_NAVIGABLE = frozenset({"comment", "worklog"})
_ISSUE_EXPAND = "renderedFields,names,schema,operations,editmeta,changelog,versionedRepresentations"


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """The ``fields`` parameter, parsed: which issue fields a response carries."""

    all_fields: bool
    navigable: bool
    include: frozenset[str]
    exclude: frozenset[str]

    @classmethod
    def parse(cls, raw: Iterable[str] | None, default: str) -> FieldSpec:
        """Parse ``fields`` (repeated and/or comma-separated), ``default`` when absent."""
        names = [n.strip() for part in (raw or [default]) for n in str(part).split(",")]
        names = [n for n in names if n] or [default]
        include = {n for n in names if not n.startswith("-")}
        exclude = frozenset(n[1:] for n in names if n.startswith("-"))
        all_fields = bool(include & {"*all", "all"})
        navigable = bool(include & {"*navigable", "navigable"})
        if not include and exclude:
            navigable = True  # "-description" alone means "navigable fields except description"
        include -= {"*all", "all", "*navigable", "navigable"}
        return cls(all_fields, navigable, frozenset(include), exclude)

    @property
    def id_only(self) -> bool:
        """Whether the response carries no fields beyond the id and key."""
        return not self.all_fields and not self.navigable and self.include <= _ID_ONLY_FIELDS

    def select(self, fields: Mapping[str, Any]) -> dict[str, Any]:
        """The chosen ones of an issue's ``fields``."""
        if self.all_fields:
            chosen = dict(fields)
        elif self.navigable:
            chosen = {k: v for k, v in fields.items() if k not in _NON_NAVIGABLE}
        else:
            chosen = {}
        for name in self.include:
            if name in fields:
                chosen[name] = fields[name]
        for name in self.exclude:
            chosen.pop(name, None)
        return chosen


def _rendered_cache(
    site: Site, request: Request, version: str, spec: FieldSpec
) -> dict[str, bytes]:
    # the spec's parts, not the spec: a frozen dataclass hashes through a slow generated method
    cache_key = (
        request.app_url,
        version,
        spec.all_fields,
        spec.navigable,
        spec.include,
        spec.exclude,
    )
    cache = site.rendered.get(cache_key)
    if cache is None:
        cache = site.rendered[cache_key] = {}
        while len(site.rendered) > 8:
            site.rendered.popitem(last=False)
    return cache


def _issue_json(
    site: Site, issue_id: str, request: Request, version: str, spec: FieldSpec
) -> dict[str, Any]:
    issue = site.issues[issue_id]
    out: dict[str, Any] = {
        "expand": issue.get("expand", _ISSUE_EXPAND),
        "id": issue["id"],
        "self": f"{request.app_url}/rest/api/{version}/issue/{issue['id']}",
        "key": issue["key"],
    }
    if spec.id_only:
        return out
    fields = spec.select(issue["fields"])
    if site.cloud and version == "2":
        fields = _as_v2(fields)
    if "comment" in fields:
        fields["comment"] = comment_page(site, issue_id, request, version, 0, 5000)
    out["fields"] = fields
    return out


def issue_bytes(
    site: Site, issue_id: str, request: Request, version: str, spec: FieldSpec
) -> bytes:
    """The issue as JSON bytes with the fields ``spec`` chooses (cached until it changes)."""
    return page_bytes(site, (issue_id,), request, version, spec)


def page_bytes(
    site: Site, issue_ids: Iterable[str], request: Request, version: str, spec: FieldSpec
) -> bytes:
    """``issue_ids`` rendered as ``spec`` chooses, joined with commas (one cache lookup)."""
    cache = _rendered_cache(site, request, version, spec)
    parts = []
    for issue_id in issue_ids:
        rendered = cache.get(issue_id)
        if rendered is None:
            payload = _issue_json(site, issue_id, request, version, spec)
            rendered = cache[issue_id] = json.dumps(payload, separators=(",", ":")).encode()
        parts.append(rendered)
    return b",".join(parts)


def prerender(site: Site, request: Request, version: str, spec: FieldSpec) -> int:
    """Render every issue for ``spec`` now, so that reads asking for it only join bytes.

    ``request`` gives the site URL the links point at. Returns the number of issues.
    """
    page_bytes(site, site.issues, request, version, spec)
    return len(site.issues)


def _as_v2(fields: dict[str, Any]) -> dict[str, Any]:
    converted = dict(fields)
    for name in RICH_TEXT_FIELDS:
        if is_adf(converted.get(name)):
            converted[name] = adf_to_text(converted[name])
    return converted
