"""Tag merging and the managed comment's rendering (escaping, marker, round trip)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from linesight.model import MANAGED_COMMENT_MARKER, CommentDoc, TextSpan
from linesight_azure_devops.writes import (
    MARKER_LINE,
    comment_plain_text,
    is_managed,
    join_tags,
    merge_tags,
    render_comment,
)


def test_merge_keeps_other_tags_and_their_order() -> None:
    current = ("Zeta", "KR:KR1.1", "linesight-orphan", "alpha")
    assert merge_tags(current, [], ["linesight-orphan"]) == ("Zeta", "KR:KR1.1", "alpha")
    assert merge_tags(("Zeta", "alpha"), ["linesight-orphan"], []) == (
        "Zeta",
        "alpha",
        "linesight-orphan",
    )


def test_merge_compares_case_insensitively_like_azure_devops() -> None:
    assert merge_tags(("LineSight-Orphan",), ["linesight-orphan"], []) == ("LineSight-Orphan",)
    assert merge_tags(("LineSight-Orphan", "x"), [], ["linesight-orphan"]) == ("x",)


def test_join_tags() -> None:
    assert join_tags(("a", "b c")) == "a; b c"
    assert join_tags(()) == ""


def test_markup_in_tracker_text_is_escaped() -> None:
    doc = CommentDoc(
        paragraphs=(
            (
                TextSpan(text="<script>alert(1)</script> **bold** [x](javascript:alert(1))"),
                TextSpan(text="# not a heading\n- not a list", strong=True),
            ),
        )
    )
    rendered = render_comment(doc)
    body = rendered.removesuffix(MARKER_LINE)
    assert "<script>" not in body and "<" not in body.replace("\\<", "")
    assert "\\*\\*bold\\*\\*" in body
    assert "\\[x\\]\\(javascript\\:alert\\(1\\)\\)" in body
    assert "\\# not a heading\\\n\\- not a list" in body
    assert rendered.endswith(f"\n\n<!-- {MANAGED_COMMENT_MARKER} -->")
    assert is_managed(rendered)


def test_links_only_for_http_urls_and_encoded() -> None:
    doc = CommentDoc(
        paragraphs=(
            (
                TextSpan(text="KR1.1", href="https://okrs.example.com/kr?id=1 2)(<x>"),
                TextSpan(text=" and ", strong=False),
                TextSpan(text="bad", href="javascript:alert(1)"),
            ),
        )
    )
    body = render_comment(doc)
    assert "[KR1\\.1](https://okrs.example.com/kr?id=1%202%29%28%3Cx%3E)" in body
    assert "javascript" not in body
    assert "bad" in body


spans = st.builds(
    TextSpan,
    text=st.text(),
    href=st.one_of(st.none(), st.just("https://example.com/a(b)"), st.text()),
    strong=st.booleans(),
)


@given(st.lists(st.lists(spans, max_size=4), max_size=4))
def test_plain_text_round_trips(paragraphs: list[list[TextSpan]]) -> None:
    doc = CommentDoc(paragraphs=tuple(tuple(p) for p in paragraphs))
    assert comment_plain_text(render_comment(doc)) == doc.plain_text()


def test_an_ordinary_comment_is_not_managed() -> None:
    assert not is_managed("Looks good to me")
    assert not is_managed(None)


def test_a_commonmark_renderer_shows_hostile_text_as_text() -> None:
    from markdown_it import MarkdownIt

    hostile = (
        "<script>alert(1)</script> <img src=x onerror=alert(1)> [x](javascript:alert(1)) "
        "![i](http://e/x.png) **b** _i_ `c` # h\n> quote\n1. list\n    code &amp; <!-- c -->"
    )
    doc = CommentDoc(paragraphs=((TextSpan(text=hostile, strong=True),), (TextSpan(text="ok"),)))
    html = MarkdownIt("commonmark", {"html": True}).render(render_comment(doc))
    assert "<script" not in html and "<img" not in html and "href" not in html
    assert "<blockquote" not in html and "<ol" not in html and "<code" not in html
    assert "&lt;script&gt;" in html
    assert html.count("<strong>") == 1  # ours, not the text's
    assert "<!-- linesight:managed-comment -->" in html  # the marker survives, invisible


def test_a_commonmark_renderer_shows_our_links() -> None:
    from markdown_it import MarkdownIt

    doc = CommentDoc(
        paragraphs=((TextSpan(text="KR1.1 (*)", href="https://x.example/kr?a=1&b=(2)"),),)
    )
    html = MarkdownIt("commonmark").render(render_comment(doc))
    assert '<a href="https://x.example/kr?a=1&amp;b=%282%29">KR1.1 (*)</a>' in html
