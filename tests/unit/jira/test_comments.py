"""The managed comment: ADF and wiki rendering from structure, and reading it back."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from linesight.model import MANAGED_COMMENT_MARKER, CommentDoc, TextSpan
from linesight_jira.comments import (
    MARKER_TEXT,
    Rendered,
    is_managed,
    read_body,
    render_adf,
    render_wiki,
)

HOSTILE = TextSpan(text="*urgent* [click|http://evil] {color:red}x{color} h1. -strike- \\o/ @bob")
DOC = CommentDoc(
    paragraphs=(
        (
            TextSpan(text="Orphan: ", strong=True),
            TextSpan(text="no key result is linked. "),
            TextSpan(text="See the report", href="https://pmo.example.com/orphans?team=pay&x=1"),
        ),
        (HOSTILE,),
    )
)


def texts(node: Any) -> list[str]:
    if isinstance(node, dict):
        own = [node["text"]] if node.get("type") == "text" else []
        return own + [t for child in node.get("content", []) for t in texts(child)]
    return []


def test_adf_is_structure_with_marks_never_markup() -> None:
    doc = render_adf(DOC)
    assert doc["type"] == "doc" and doc["version"] == 1
    first, second, marker = doc["content"]
    assert first == {
        "type": "paragraph",
        "content": [
            {"type": "text", "text": "Orphan: ", "marks": [{"type": "strong"}]},
            {"type": "text", "text": "no key result is linked. "},
            {
                "type": "text",
                "text": "See the report",
                "marks": [
                    {
                        "type": "link",
                        "attrs": {"href": "https://pmo.example.com/orphans?team=pay&x=1"},
                    }
                ],
            },
        ],
    }
    # hostile text stays one verbatim text node
    assert second["content"] == [{"type": "text", "text": HOSTILE.text}]
    assert texts(marker) == [MARKER_TEXT]
    assert MANAGED_COMMENT_MARKER in MARKER_TEXT


def test_adf_line_breaks_are_hard_breaks_and_bad_links_are_plain_text() -> None:
    doc = CommentDoc(
        paragraphs=((TextSpan(text="a\nb"), TextSpan(text="x", href="javascript:alert(1)")),)
    )
    paragraph = render_adf(doc)["content"][0]
    assert paragraph["content"] == [
        {"type": "text", "text": "a"},
        {"type": "hardBreak"},
        {"type": "text", "text": "b"},
        {"type": "text", "text": "x"},
    ]


def test_wiki_escapes_every_markup_character() -> None:
    wiki = render_wiki(CommentDoc(paragraphs=((HOSTILE,),)))
    body, marker = wiki.split("\n\n")
    assert body == (
        "\\*urgent\\* \\[click\\|http://evil\\] \\{color:red\\}x\\{color\\} h1. \\-strike\\- "
        "&#92;o/ \\@bob"
    )
    assert MANAGED_COMMENT_MARKER in marker


def test_wiki_links_and_strong() -> None:
    wiki = render_wiki(DOC)
    first = wiki.split("\n\n")[0]
    assert first == (
        "*Orphan:* no key result is linked. "
        "[See the report|https://pmo.example.com/orphans?team=pay&x=1]"
    )
    url = render_wiki(
        CommentDoc(paragraphs=((TextSpan(text="x", href="https://h/a|b]c d"),),))
    ).split("\n\n")[0]
    assert url == "[x|https://h/a%7Cb%5Dc%20d]"


def test_reading_back_gives_the_docs_plain_text_and_finds_the_marker() -> None:
    for body in (render_adf(DOC), render_wiki(DOC)):
        rendered = read_body(body)
        assert rendered.managed
        assert is_managed(body)
        assert rendered.plain_text == DOC.plain_text()
    assert not is_managed({"type": "doc", "version": 1, "content": []})
    assert not is_managed("a comment by a person")
    assert not read_body(None).managed


def test_fingerprint_ignores_jiras_own_attributes_and_whitespace() -> None:
    stored = render_adf(DOC)
    # Jira Cloud adds localIds and may split text nodes
    stored["content"][0]["attrs"] = {"localId": "abc"}
    node = stored["content"][0]["content"][1]
    stored["content"][0]["content"][1:2] = [
        {"type": "text", "text": node["text"][:5]},
        {"type": "text", "text": node["text"][5:] + "  "},
    ]
    assert read_body(stored).fingerprint == read_body(render_adf(DOC)).fingerprint
    changed = CommentDoc(paragraphs=((TextSpan(text="Orphan: no key result is linked."),),))
    assert read_body(render_adf(changed)).fingerprint != read_body(render_adf(DOC)).fingerprint


spans = st.builds(
    TextSpan,
    text=st.text(st.characters(blacklist_categories=("Cs",)), max_size=30),
    href=st.none() | st.just("https://example.com/a?b=c"),
    strong=st.booleans(),
)
docs = st.builds(
    CommentDoc, paragraphs=st.lists(st.lists(spans, max_size=4).map(tuple), max_size=4).map(tuple)
)


@given(docs)
def test_render_then_read_preserves_the_content(doc: CommentDoc) -> None:
    direct = Rendered(
        tuple(tuple((s.text, s.href, s.strong) for s in p) for p in doc.paragraphs), managed=True
    )
    from_adf = read_body(render_adf(doc))
    from_wiki = read_body(render_wiki(doc))
    assert from_adf.managed and from_wiki.managed
    assert from_adf.fingerprint == direct.fingerprint
    assert from_wiki.fingerprint == direct.fingerprint
