from __future__ import annotations

from linesight.model import ItemRef, OperationKind
from linesight.settings import AzureDevOpsSource, JiraSource, WritebackSettings
from linesight.writeback.plan import ItemState, comment_hash, orphan_comment, plan_writeback
from tests.factories import key_result, orphan, result

JIRA = JiraSource(kind="jira", name="pay", url="https://x.atlassian.net", projects=("PAY",))
ADO = AzureDevOpsSource(
    kind="azure-devops", name="fab", url="https://dev.azure.com/c", project="Fabrikam"
)
SOURCES = (JIRA, ADO)
WB = WritebackSettings()


def ref(source: str, key: str) -> ItemRef:
    return ItemRef(source=source, key=key)


def test_orphans_get_label_and_comment_others_lose_them() -> None:
    res = result(
        orphans=[
            orphan("pay", "PAY-1"),
            orphan("fab", "7", reason="unknown_kr", named_krs=["KR9.9"]),
        ],
        key_results=[key_result("KR1.1")],
    )
    state = {
        ref("pay", "PAY-1"): ItemState(labels=("frontend",)),
        ref("fab", "7"): ItemState(labels=()),
        ref("pay", "PAY-2"): ItemState(labels=("frontend", "linesight-orphan"), comment_hash="abc"),
        ref("pay", "PAY-3"): ItemState(labels=("other",)),
    }
    ops = plan_writeback(res, state, WB, SOURCES)
    summary = [(o.source, o.key, o.kind, o.add_labels, o.remove_labels) for o in ops]
    assert summary == [
        ("fab", "7", OperationKind.LABELS, ("linesight-orphan",), ()),
        ("fab", "7", OperationKind.UPSERT_COMMENT, (), ()),
        ("pay", "PAY-1", OperationKind.LABELS, ("linesight-orphan",), ()),
        ("pay", "PAY-1", OperationKind.UPSERT_COMMENT, (), ()),
        ("pay", "PAY-2", OperationKind.LABELS, (), ("linesight-orphan",)),
        ("pay", "PAY-2", OperationKind.DELETE_COMMENT, (), ()),
    ]
    ado_comment = ops[1].comment
    assert ado_comment is not None
    text = ado_comment.plain_text()
    assert "KR9.9" in text and "tag KR:KR1.1" in text
    jira_comment = ops[3].comment
    assert jira_comment is not None and "label kr-KR1.1" in jira_comment.plain_text()


def test_second_plan_after_apply_is_empty() -> None:
    res = result(orphans=[orphan("pay", "PAY-1")], key_results=[key_result("KR1.1")])
    doc = orphan_comment(res.orphans[0], res.cycle, JIRA, "KR1.1")
    state = {
        ref("pay", "PAY-1"): ItemState(
            labels=("x", "linesight-orphan"), comment_hash=comment_hash(doc)
        )
    }
    assert plan_writeback(res, state, WB, SOURCES) == []


def test_changed_finding_updates_comment_only() -> None:
    res = result(
        orphans=[orphan("pay", "PAY-1", reason="inactive_kr", named_krs=["KR0.1"])],
        key_results=[key_result("KR1.1")],
    )
    old = orphan_comment(
        orphan_obj := result(orphans=[orphan("pay", "PAY-1")]).orphans[0], res.cycle, JIRA, "KR1.1"
    )
    assert orphan_obj.reason == "no_link"
    state = {
        ref("pay", "PAY-1"): ItemState(labels=("linesight-orphan",), comment_hash=comment_hash(old))
    }
    ops = plan_writeback(res, state, WB, SOURCES)
    assert [o.kind for o in ops] == [OperationKind.UPSERT_COMMENT]


def test_ado_tags_compare_case_insensitively_jira_labels_exactly() -> None:
    res = result(orphans=[orphan("fab", "7"), orphan("pay", "PAY-1")])
    state = {
        ref("fab", "7"): ItemState(labels=("LineSight-Orphan",)),
        ref("pay", "PAY-1"): ItemState(labels=("LineSight-Orphan",)),
    }
    ops = plan_writeback(res, state, WritebackSettings(comments=False), SOURCES)
    assert [(o.key, o.add_labels) for o in ops] == [("PAY-1", ("linesight-orphan",))]


def test_items_missing_from_the_store_are_never_touched() -> None:
    res = result(orphans=[orphan("pay", "PAY-9")])
    assert plan_writeback(res, {}, WB, SOURCES) == []


def test_unsupported_tracker_krs_get_a_comment_when_enabled() -> None:
    kr = key_result(
        "pay:PAY-50", status="unsupported", source="pay", status_reason="no linked items"
    )
    res = result(key_results=[kr])
    state = {ref("pay", "PAY-50"): ItemState(labels=())}
    assert plan_writeback(res, state, WB, SOURCES) == []
    ops = plan_writeback(res, state, WritebackSettings(kr_comments=True), SOURCES)
    assert [(o.key, o.kind) for o in ops] == [("PAY-50", OperationKind.UPSERT_COMMENT)]
    assert ops[0].comment is not None
    assert "no in-scope work supports" in ops[0].comment.plain_text()


def test_hostile_titles_never_reach_the_comment() -> None:
    hostile = orphan("pay", "PAY-1", title="<script>alert(1)</script> [x](y) {{7*7}}")
    res = result(orphans=[hostile])
    ops = plan_writeback(res, {ref("pay", "PAY-1"): ItemState(labels=())}, WB, SOURCES)
    comment = next(o.comment for o in ops if o.comment is not None)
    assert "<script>" not in comment.plain_text()
