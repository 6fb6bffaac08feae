"""One Jira site's state: its issues, the indexes over them, and the caches a write invalidates.

Issues are kept exactly as the dataset holds them (copy-on-write per issue, so ``reset`` is cheap
and the dataset is never changed). Every handler module works on one :class:`Site`; the
:class:`~linesight.sandbox.jira.app.JiraApp` that owns it serialises all access under its lock.
"""

from __future__ import annotations

import copy
import hashlib
from collections import OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from linesight.sandbox.jira.errors import HttpError
from linesight.sandbox.jql import IndexedIssue, JqlSchema

__all__ = ["Site", "comments_of", "jira_now"]

_NOT_FOUND_ISSUE = "Issue does not exist or you do not have permission to see it."


def jira_now() -> str:
    """Now, as Jira writes timestamps: ``2026-11-23T09:15:02.123+0000``."""
    now = datetime.now(UTC)
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}+0000"


def comments_of(issue: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The comments a native issue holds, in order (a new list; the comments are the issue's)."""
    container = issue["fields"].get("comment")
    if isinstance(container, dict):
        return list(container.get("comments") or [])
    return []


class Site:
    """The issues of one Jira site (Cloud or Data Center) and who is logged in to it.

    Not thread-safe on its own: the :class:`~linesight.sandbox.jira.app.JiraApp` holding it
    calls in under one lock. ``field_list`` (the ``/field`` catalogue) is set by that app once
    built from ``original``.
    """

    def __init__(
        self,
        name: str,
        *,
        cloud: bool,
        issues: Sequence[dict[str, Any]],
        forbidden_projects: Iterable[str],
        user: str,
    ) -> None:
        self.name = name
        self.cloud = cloud
        self.user = user
        self.account_id = hashlib.sha256(user.encode()).hexdigest()[:24]
        self.forbidden = frozenset(p.upper() for p in forbidden_projects)
        self.original: dict[str, dict[str, Any]] = {str(i["id"]): i for i in issues}
        self.field_list: list[dict[str, Any]] = []
        self.issues: dict[str, dict[str, Any]] = {}
        self.indexed: dict[str, IndexedIssue] = {}
        self.by_key: dict[str, str] = {}
        self.by_project: dict[str, list[str]] = {}
        self.dirty: set[str] = set()
        self.version = 0
        self.schema: JqlSchema | None = None
        self.results: OrderedDict[tuple[str, int], list[str]] = OrderedDict()
        self.rendered: OrderedDict[tuple[Any, ...], dict[str, bytes]] = OrderedDict()
        self.comment_seq = 0
        self.link_seq = 0
        self._load_all()

    def snapshot(self) -> dict[str, Any]:
        """``{"issues": [...]}``: every current issue, native, in id order."""
        return {"issues": sorted(self.issues.values(), key=lambda i: int(i["id"]))}

    def reset(self) -> None:
        """Back to the dataset: undo every write and delete."""
        for issue_id in self.dirty:
            original = self.original[issue_id]
            self.issues[issue_id] = original
            self.indexed[issue_id] = IndexedIssue.from_issue(original)
        self.dirty = set()
        self.schema = None
        self.changed()

    def _load_all(self) -> None:
        self.issues = dict(self.original)
        self.indexed = {i: IndexedIssue.from_issue(issue) for i, issue in self.issues.items()}
        self.by_key = {issue["key"].upper(): i for i, issue in self.issues.items()}
        self.by_project = {}
        for issue_id, indexed in self.indexed.items():
            self.by_project.setdefault(indexed.project_key, []).append(issue_id)
        self.dirty = set()
        self.schema = None
        self.comment_seq = 10000 + max(
            (
                int(c["id"]) - 10000
                for i in self.issues.values()
                for c in comments_of(i)
                if str(c.get("id", "")).isdigit()
            ),
            default=0,
        )
        self.link_seq = 10000 + max(
            (
                int(link["id"]) - 10000
                for i in self.issues.values()
                for link in i["fields"].get("issuelinks") or ()
                if str(link.get("id", "")).isdigit()
            ),
            default=0,
        )

    def changed(self, *issue_ids: str) -> None:
        """After a write: a new version, no cached results, no renderings of ``issue_ids``.

        With no ``issue_ids`` every cached rendering goes.
        """
        self.version += 1
        self.results.clear()
        for cache in self.rendered.values():
            for issue_id in issue_ids:
                cache.pop(issue_id, None)
        if not issue_ids:
            self.rendered.clear()

    def writable(self, issue_id: str) -> dict[str, Any]:
        """A fresh copy of the issue, put in its place, to mutate.

        Copy-on-write keeps the dataset pristine (so ``reset`` is cheap) and means an issue
        dict, once handed out by ``state()``, never changes under its reader.
        """
        issue = self.issues[issue_id] = copy.deepcopy(self.issues[issue_id])
        self.dirty.add(issue_id)
        return issue

    def touch(self, issue_id: str) -> None:
        """After a write: bump ``updated``, re-index, drop cached renderings and results."""
        issue = self.issues[issue_id]
        issue["fields"]["updated"] = jira_now()
        self.indexed[issue_id] = IndexedIssue.from_issue(issue)
        self.changed(issue_id)

    def find(self, id_or_key: str) -> str:
        """The id of the issue with this id or key; Jira's 404 when there is none."""
        if id_or_key in self.issues:
            return id_or_key
        issue_id = self.by_key.get(id_or_key.upper())
        if issue_id is None or issue_id not in self.issues:
            raise HttpError(404, [_NOT_FOUND_ISSUE])
        return issue_id

    def require_writable_project(self, issue_id: str, message: str) -> None:
        """403 with ``message`` when the issue's project is one of ``forbidden_projects``."""
        if self.indexed[issue_id].project_key in self.forbidden:
            raise HttpError(403, [message])
