"""Write-back through the SDK transport against the sandbox: tags, 412s, the managed comment."""

from __future__ import annotations

import re
from typing import Any

from test_ado_sync import sdk_client

from conftest import PROJECT, dataset, make_source, small_org
from linesight.model import (
    MANAGED_COMMENT_MARKER,
    CommentDoc,
    Operation,
    OperationKind,
    OperationStatus,
    TextSpan,
)
from linesight.sandbox import SandboxServer
from linesight_azure_devops.connector import AzureDevOpsConnector


def writes(sandbox: SandboxServer, since: int) -> list[dict[str, Any]]:
    return [
        r
        for r in sandbox.requests(since)
        if r["method"] in ("POST", "PATCH", "DELETE")
        and not r["path"].endswith(("/wiql", "/workItemsBatch"))
    ]


def item_tags(sandbox: SandboxServer, number: int) -> list[str]:
    item = sdk_client(sandbox).get_work_item(number, PROJECT)
    return [t.strip() for t in (item.fields.get("System.Tags") or "").split(";") if t.strip()]


def labels(key: str, add: tuple[str, ...] = (), remove: tuple[str, ...] = ()) -> Operation:
    return Operation(
        source="boards", key=key, kind=OperationKind.LABELS, add_labels=add, remove_labels=remove
    )


def test_tags_are_added_and_removed_leaving_the_others(
    connector: AzureDevOpsConnector, ado_sandbox: SandboxServer
) -> None:
    state = connector.current_state(["3", "8"])
    assert state["3"].labels == ("customer-x", "KR:KR1.2")
    assert state["8"].labels == ("linesight-orphan",)
    mark = len(ado_sandbox.requests())
    added = connector.apply(labels("3", add=("linesight-orphan",)))
    removed = connector.apply(labels("8", remove=("linesight-orphan",)))
    assert (added.status, added.writes) == (OperationStatus.APPLIED, 1)
    assert (removed.status, removed.writes) == (OperationStatus.APPLIED, 1)
    assert len(writes(ado_sandbox, mark)) == 2
    assert {t.casefold() for t in item_tags(ado_sandbox, 3)} == {
        "customer-x",
        "kr:kr1.2",
        "linesight-orphan",
    }
    assert item_tags(ado_sandbox, 8) == []
    # idempotent: a second apply with nothing changed makes zero write calls
    mark = len(ado_sandbox.requests())
    again = connector.apply(labels("3", add=("linesight-orphan",)))
    assert (again.status, again.writes) == (OperationStatus.UNCHANGED, 0)
    assert writes(ado_sandbox, mark) == []


def test_a_concurrent_tag_edit_is_merged_not_lost(
    connector: AzureDevOpsConnector, ado_sandbox: SandboxServer
) -> None:
    from azure.devops.v7_1.work_item_tracking.models import JsonPatchOperation

    connector.current_state(["4"])  # linesight reads rev r...
    sdk_client(ado_sandbox).update_work_item(  # ...someone tags the item (rev r+1)...
        [JsonPatchOperation(op="add", path="/fields/System.Tags", value="urgent")], 4, PROJECT
    )
    result = connector.apply(labels("4", add=("linesight-orphan",)))  # ...linesight writes
    assert result.status is OperationStatus.APPLIED
    assert result.writes == 2  # the stale write answered 412, the merged one went through
    statuses = [r["status"] for r in ado_sandbox.requests() if r["method"] == "PATCH"]
    assert statuses[-2:] == [412, 200]
    assert {t.casefold() for t in item_tags(ado_sandbox, 4)} == {"urgent", "linesight-orphan"}


def comment(*paragraphs: str) -> CommentDoc:
    return CommentDoc(paragraphs=tuple((TextSpan(text=p),) for p in paragraphs))


def upsert(key: str, doc: CommentDoc) -> Operation:
    return Operation(source="boards", key=key, kind=OperationKind.UPSERT_COMMENT, comment=doc)


def comments_of(sandbox: SandboxServer, number: int) -> list[str]:
    answer = sdk_client(sandbox).get_comments(PROJECT, number, top=200)
    return [c.text for c in answer.comments]


def test_the_managed_comment_is_created_once_updated_in_place_and_deleted(
    connector: AzureDevOpsConnector, ado_sandbox: SandboxServer
) -> None:
    hostile = "<img src=x onerror=alert(1)> **Orphan** [click](javascript:alert(1))"
    first = connector.apply(upsert("4", comment(hostile, "No key result reaches this item.")))
    assert (first.status, first.writes) == (OperationStatus.APPLIED, 1)
    again = connector.apply(upsert("4", comment(hostile, "No key result reaches this item.")))
    assert (again.status, again.writes) == (OperationStatus.UNCHANGED, 0)
    texts = comments_of(ado_sandbox, 4)
    assert len(texts) == 1
    assert MANAGED_COMMENT_MARKER in texts[0]
    body = texts[0].removesuffix(f"<!-- {MANAGED_COMMENT_MARKER} -->")
    assert re.search(r"(?<!\\)[<>\[\]()*]", body) is None  # every markup character escaped
    state = connector.current_state(["4"])["4"]
    assert state.managed_comment == f"{hostile}\n\nNo key result reaches this item."

    changed = connector.apply(upsert("4", comment("Now linked to KR1.1.")))
    assert (changed.status, changed.writes) == (OperationStatus.APPLIED, 1)
    texts = comments_of(ado_sandbox, 4)
    assert len(texts) == 1 and "Now linked to KR1\\.1\\." in texts[0]

    gone = connector.apply(Operation(source="boards", key="4", kind=OperationKind.DELETE_COMMENT))
    assert (gone.status, gone.writes) == (OperationStatus.APPLIED, 1)
    assert comments_of(ado_sandbox, 4) == []
    nothing = connector.apply(
        Operation(source="boards", key="4", kind=OperationKind.DELETE_COMMENT)
    )
    assert (nothing.status, nothing.writes) == (OperationStatus.UNCHANGED, 0)


def test_the_managed_comment_is_found_beyond_the_first_page() -> None:
    entry = dataset(small_org())
    marker = f"old\n\n<!-- {MANAGED_COMMENT_MARKER} -->"
    chatter = [{"text": f"comment {n}"} for n in range(450)]
    entry["azure_devops"][0]["comments"] = {"3": [*chatter, {"text": marker}]}
    with SandboxServer(entry, port=0) as sandbox:
        connector = AzureDevOpsConnector(make_source(sandbox))
        try:
            assert connector.current_state(["3"])["3"].managed_comment == "old"
            result = connector.apply(upsert("3", comment("new")))
        finally:
            connector.close()
        pages = [r for r in sandbox.requests() if r["path"].endswith("/comments")]
        texts = comments_of_all(sandbox, 3)
    assert (result.status, result.writes) == (OperationStatus.APPLIED, 1)
    assert any("continuationToken" in r["query"] for r in pages)
    assert sum(MANAGED_COMMENT_MARKER in t for t in texts) == 1
    assert len(texts) == 451


def comments_of_all(sandbox: SandboxServer, number: int) -> list[str]:
    client = sdk_client(sandbox)
    texts: list[str] = []
    token = None
    while True:
        page = client.get_comments(PROJECT, number, top=200, continuation_token=token)
        texts.extend(c.text for c in page.comments)
        token = page.continuation_token
        if not token:
            return texts


def test_forbidden_and_deleted_items_are_skipped_with_a_message() -> None:
    entry = dataset(small_org())
    entry["azure_devops"][0]["forbidden_area_paths"] = ["Fabrikam\\Billing"]
    with SandboxServer(entry, port=0) as sandbox:
        connector = AzureDevOpsConnector(make_source(sandbox))
        try:
            forbidden = connector.apply(labels("6", add=("linesight-orphan",)))
            missing = connector.apply(labels("999", add=("linesight-orphan",)))
        finally:
            connector.close()
    assert forbidden.status is OperationStatus.SKIPPED and "403" in forbidden.message
    assert missing.status is OperationStatus.SKIPPED and "999" in missing.message
