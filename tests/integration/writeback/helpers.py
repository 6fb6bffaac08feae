"""What the write-back tests read from the request log and the tracker state."""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from job.orgs import ORPHAN_LABEL, SandboxOrg, TrackerItem

from linesight.model import ItemRef, Operation
from linesight.pipeline import analyze_store, plan_from_store
from linesight.store import Store

_JIRA = re.compile(r"^/jira/(\w+)/rest/api/\d/issue/([^/]+)(/comment(?:/\d+)?)?/?$")
_ADO = re.compile(
    r"^/ado/(\w+)/[^/]+/_apis/wit/workitems/(\d+)(/comments(?:/\d+)?)?/?$", re.IGNORECASE
)

# Bookkeeping a tracker updates on every write; everything else must stay byte for byte.
JIRA_BOOKKEEPING = frozenset({"labels", "comment", "updated"})
ADO_BOOKKEEPING = frozenset(
    {
        "System.Tags",
        "System.Rev",
        "System.ChangedDate",
        "System.AuthorizedDate",
        "System.RevisedDate",
        "System.Watermark",
        "System.ChangedBy",
        "System.AuthorizedAs",
        "System.CommentCount",
        "System.History",
        "System.PersonId",
    }
)


def write_target(entry: Mapping[str, Any]) -> tuple[str, str, str]:
    """``(source, key, operation kind)`` of one tracker write request."""
    path, method = str(entry["path"]), entry["method"]
    match = _JIRA.match(path) or _ADO.match(path)
    assert match is not None, f"an unexpected write: {method} {path}"
    source, key, comment = match.groups()
    if comment is None:
        assert method in ("PUT", "PATCH"), f"{method} {path}"
        return source, key, "labels"
    if method == "DELETE":
        return source, key, "delete_comment"
    return source, key, "upsert_comment"


def write_targets(entries: Iterable[Mapping[str, Any]]) -> Counter[tuple[str, str, str]]:
    return Counter(write_target(e) for e in entries)


def planned(operations: Sequence[Operation]) -> Counter[tuple[str, str, str]]:
    return Counter((op.source, op.key, op.kind.value) for op in operations)


def plan(org: SandboxOrg) -> tuple[list[Operation], set[ItemRef]]:
    """The write-back plan from the store as it is, and the orphans it is made for."""
    settings = org.settings()
    with Store.open(settings.state_dir) as store:
        run = analyze_store(settings, org.okrs(), store)
        operations = plan_from_store(run, settings, store)
    return operations, {ItemRef(source=o.source, key=o.key) for o in run.result.orphans}


def changed_fields(before: TrackerItem, after: TrackerItem, source: str) -> set[str]:
    """Names of the fields (other than bookkeeping) whose JSON differs."""
    ignored = ADO_BOOKKEEPING if source == "contoso" else JIRA_BOOKKEEPING
    names = (set(before.fields) | set(after.fields)) - ignored
    return {
        n
        for n in names
        if json.dumps(before.fields.get(n), sort_keys=True)
        != json.dumps(after.fields.get(n), sort_keys=True)
    }


def without_orphan_label(labels: Iterable[str]) -> list[str]:
    return [x for x in labels if x.casefold() != ORPHAN_LABEL]


def assert_converged(items: Mapping[ItemRef, TrackerItem], orphans: set[ItemRef]) -> None:
    """Every orphan has the label once and one managed comment; no other item has either."""
    for ref, item in items.items():
        marked = [x for x in item.labels if x.casefold() == ORPHAN_LABEL]
        if ref in orphans:
            assert len(marked) == 1, (ref, item.labels)
            assert len(item.managed) == 1, (ref, item.managed)
        else:
            assert marked == [], (ref, item.labels)
            assert item.managed == [], (ref, item.managed)
