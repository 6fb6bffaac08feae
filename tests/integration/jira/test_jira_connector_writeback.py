"""Write-back through the real ``jira`` client: owned labels only, one managed comment."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from jira_sandbox import Sandbox

from linesight.model import (
    MANAGED_COMMENT_MARKER,
    CommentDoc,
    Operation,
    OperationKind,
    OperationStatus,
    TextSpan,
)
from linesight.testing.plugin import SandboxFactory
from linesight_jira.connector import JiraConnector

ORPHAN = "linesight-orphan"
WRITES = {"POST", "PUT", "DELETE"}


@pytest.fixture
def site(sandbox_factory: SandboxFactory) -> Iterator[Sandbox]:
    with sandbox_factory() as server:  # the plugin's small dataset: PAY/SEC on Cloud, OPS on DC
        yield Sandbox(server)


def connector(site: Sandbox, name: str) -> JiraConnector:
    projects = ("PAY", "SEC") if name == "cloud" else ("OPS",)
    return site.connector(name, projects=projects, kr_field=None, team_field=None)


def labels(name: str, key: str, *add: str, remove: tuple[str, ...] = ()) -> Operation:
    return Operation(
        source=name, key=key, kind=OperationKind.LABELS, add_labels=add, remove_labels=remove
    )


def comment(name: str, key: str, text: str) -> Operation:
    doc = CommentDoc(
        paragraphs=(
            (TextSpan(text="Orphan", strong=True), TextSpan(text=f": {text} *not* [markup]")),
            (TextSpan(text="Report", href="https://pmo.example.com/r?a=1&b=2"),),
        )
    )
    return Operation(source=name, key=key, kind=OperationKind.UPSERT_COMMENT, comment=doc)


def writes(site: Sandbox, name: str) -> list[dict[str, Any]]:
    return [r for r in site.requests(name) if r["method"] in WRITES and "search" not in r["path"]]


def test_labels_touch_only_owned_labels_in_one_call(site: Sandbox) -> None:
    site.rest("cloud", "PUT", "issue/PAY-3", {"fields": {"labels": ["checkout", "Zeta", "é-ü"]}})
    before = site.issues("cloud")["PAY-3"]["fields"]["labels"]
    jira = connector(site, "cloud")
    assert jira.http.client is not None  # connected (serverInfo) before counting
    log_start = len(site.requests())

    added = jira.apply(labels("cloud", "PAY-3", ORPHAN))
    assert (added.status, added.writes) == (OperationStatus.APPLIED, 1)
    assert site.issues("cloud")["PAY-3"]["fields"]["labels"] == [*before, ORPHAN]
    put = [r for r in site.requests()[log_start:] if r["method"] == "PUT"]
    assert len(put) == 1 and put[0]["query"] == {"notifyUsers": ["false"]}
    assert put[0]["body"] == {"update": {"labels": [{"add": ORPHAN}]}}
    assert len(site.requests()) - log_start == 1  # no re-read after the PUT

    removed = jira.apply(labels("cloud", "PAY-3", remove=(ORPHAN,)))
    assert (removed.status, removed.writes) == (OperationStatus.APPLIED, 1)
    assert site.issues("cloud")["PAY-3"]["fields"]["labels"] == before  # byte for byte

    nothing = jira.apply(labels("cloud", "PAY-3"))
    assert (nothing.status, nothing.writes) == (OperationStatus.UNCHANGED, 0)
    assert jira.current_state(["PAY-3"])["PAY-3"].labels == tuple(before)


def test_labels_on_data_center(site: Sandbox) -> None:
    jira = connector(site, "dc")
    result = jira.apply(labels("dc", "OPS-1", ORPHAN))
    assert result.status is OperationStatus.APPLIED
    assert site.issues("dc")["OPS-1"]["fields"]["labels"] == ["kr-KR2.1", ORPHAN]
    assert jira.current_state(["OPS-1", "OPS-404"]) == {
        "OPS-1": jira.current_state(["OPS-1"])["OPS-1"]
    }


def test_forbidden_and_missing_items_are_skipped_not_raised(site: Sandbox) -> None:
    jira = connector(site, "cloud")
    forbidden = jira.apply(labels("cloud", "SEC-1", ORPHAN))
    assert forbidden.status is OperationStatus.SKIPPED
    assert "403" in forbidden.message
    assert site.issues("cloud")["SEC-1"]["fields"]["labels"] == []
    gone = jira.apply(labels("cloud", "PAY-999", ORPHAN))
    assert gone.status is OperationStatus.SKIPPED
    assert "no longer exists" in gone.message
    hostile = jira.apply(labels("cloud", "../../serverInfo?x=PAY-1", ORPHAN))
    assert hostile.status is OperationStatus.FAILED and hostile.writes == 0
    refused = jira.apply(labels("cloud", "PAY-2", "has space"))
    assert refused.status is OperationStatus.FAILED
    assert "refused the label change on PAY-2" in refused.message


@pytest.mark.parametrize(("name", "key"), [("cloud", "PAY-5"), ("dc", "OPS-2")])
def test_managed_comment_upsert_is_idempotent(site: Sandbox, name: str, key: str) -> None:
    site.rest(name, "POST", f"issue/{key}/comment", {"body": person_comment(name)})
    jira = connector(site, name)

    created = jira.apply(comment(name, key, "no key result"))
    assert (created.status, created.writes) == (OperationStatus.APPLIED, 1)
    again = jira.apply(comment(name, key, "no key result"))
    assert (again.status, again.writes) == (OperationStatus.UNCHANGED, 0)

    state = jira.current_state([key])[key]
    doc = comment(name, key, "no key result").comment
    assert doc is not None and state.managed_comment == doc.plain_text()
    assert state.extra["comment_id"]

    changed = jira.apply(comment(name, key, "unknown key result KR9.9"))
    assert (changed.status, changed.writes) == (OperationStatus.APPLIED, 1)
    comments = site.issues(name)[key]["fields"]["comment"]["comments"]
    assert len(comments) == 2  # the person's and ours, updated in place
    ours = [c for c in comments if MANAGED_COMMENT_MARKER in str(c["body"])]
    assert len(ours) == 1 and "KR9.9" in str(ours[0]["body"])
    body = ours[0]["body"]
    if name == "cloud":
        assert body["type"] == "doc"
        assert "*not*" in str(body) and "[markup]" in str(body)  # text, not markup
    else:
        assert "\\*not\\* \\[markup\\]" in body

    deleted = jira.apply(Operation(source=name, key=key, kind=OperationKind.DELETE_COMMENT))
    assert (deleted.status, deleted.writes) == (OperationStatus.APPLIED, 1)
    none_left = jira.apply(Operation(source=name, key=key, kind=OperationKind.DELETE_COMMENT))
    assert (none_left.status, none_left.writes) == (OperationStatus.UNCHANGED, 0)
    remaining = site.issues(name)[key]["fields"]["comment"]["comments"]
    assert [c["body"] for c in remaining] == [person_comment(name)]
    assert jira.current_state([key])[key].managed_comment is None


def person_comment(name: str) -> Any:
    text = "I think this serves KR1.1"
    if name == "dc":
        return text
    return {
        "type": "doc",
        "version": 1,
        "content": [{"type": "paragraph", "content": [{"type": "text", "text": text}]}],
    }


def test_duplicates_from_a_crashed_run_converge_to_one(site: Sandbox) -> None:
    jira = connector(site, "cloud")
    op = comment("cloud", "PAY-4", "no key result")
    jira.apply(op)
    # a crash after the POST reached Jira but before the run recorded it: the rerun posts again
    first = site.issues("cloud")["PAY-4"]["fields"]["comment"]["comments"][0]["body"]
    site.rest("cloud", "POST", "issue/PAY-4/comment", {"body": first})

    converged = jira.apply(op)
    assert (converged.status, converged.writes) == (OperationStatus.APPLIED, 1)  # one delete
    comments = site.issues("cloud")["PAY-4"]["fields"]["comment"]["comments"]
    assert len(comments) == 1
    assert jira.apply(op).writes == 0


def test_many_comments_are_paged_through(site: Sandbox) -> None:
    jira = connector(site, "dc")
    for n in range(3):
        site.rest("dc", "POST", "issue/OPS-3/comment", {"body": f"chatter {n}"})
    jira.apply(comment("dc", "OPS-3", "no key result"))  # the 4th comment: on the 2nd page
    jira.writer.comment_page = 3
    log_start = len(site.requests())
    assert jira.apply(comment("dc", "OPS-3", "no key result")).writes == 0
    pages = site.requests()[log_start:]
    assert [(r["method"], r["query"]["startAt"]) for r in pages] == [("GET", ["0"]), ("GET", ["3"])]
