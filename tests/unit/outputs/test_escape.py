"""outputs.escape: every format's escaping renders the text as text, and nothing else."""

from __future__ import annotations

import html as std_html
import json
import re
from html.parser import HTMLParser

import pytest
from hypothesis import given
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from linesight.outputs import escape
from tests.unit.outputs.sample import HOSTILE

text = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=80)


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _render_markdown(source: str) -> _Tags:
    parser = _Tags()
    parser.feed(MarkdownIt("commonmark", {"html": True}).enable("table").render(source))
    return parser


def test_html_escapes_markup_and_quotes() -> None:
    assert escape.html('<a href="x">&\'') == "&lt;a href=&#34;x&#34;&gt;&amp;&#39;"


def test_markdown_renders_the_hostile_title_as_plain_text() -> None:
    rendered = _render_markdown(escape.markdown(HOSTILE))
    assert rendered.tags == ["p"]  # no <script>, <img>, <a>, <em> ...
    assert "".join(rendered.text).strip() == HOSTILE.replace("\n", " ")


def test_markdown_keeps_a_table_cell_whole() -> None:
    source = "| a | b |\n| --- | --- |\n| " + escape.markdown("x | y\nz") + " | 2 |\n"
    rendered = _render_markdown(source)
    assert rendered.tags.count("td") == 2
    assert "x | y z" in "".join(rendered.text)


@pytest.mark.parametrize(
    ("title", "safe"),
    [
        ("1. not a list", "1\\. not a list"),
        ("- not a list", "\\- not a list"),
        ("# not a heading", "\\# not a heading"),
        ("ping @alice", "ping &#64;alice"),
        ("KR1.1 and 2.5 points", "KR1.1 and 2.5 points"),
    ],
)
def test_markdown_escapes_line_start_syntax_and_mentions(title: str, safe: str) -> None:
    assert escape.markdown(title) == safe


@given(text)
def test_markdown_never_produces_markup(value: str) -> None:
    rendered = _render_markdown("x " + escape.markdown(value))
    assert set(rendered.tags) <= {"p"}


def _mermaid_decode(label: str) -> str:
    named = {"quot": '"', "lt": "<", "gt": ">", "amp": "&"}
    return re.sub(
        r"#(\w+);",
        lambda m: named[m.group(1)] if m.group(1) in named else chr(int(m.group(1))),
        label,
    )


@given(text)
def test_mermaid_label_has_no_syntax_and_decodes_back(value: str) -> None:
    label = escape.mermaid_label(value)
    assert not set(re.sub(r"#\w+;", "", label)) & set('"[]{}()|<>;`\\\n\r#')
    assert _mermaid_decode(label) == escape.one_line(value)


def _dot_unquote(quoted: str) -> str:
    """Read a Graphviz escString the way Graphviz does (for the escapes we write)."""
    assert quoted.startswith('"') and quoted.endswith('"')
    body, out, at = quoted[1:-1], [], 0
    while at < len(body):
        char = body[at]
        assert char != '"', f"unescaped quote in {quoted!r}"
        if char == "\\":
            assert at + 1 < len(body), f"a backslash escapes the closing quote in {quoted!r}"
            out.append("\n" if body[at + 1] == "n" else body[at + 1])
            at += 2
        else:
            out.append(char)
            at += 1
    return "".join(out)


@given(text)
def test_dot_label_round_trips(value: str) -> None:
    quoted = escape.dot_label(value)
    expected = re.sub(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u2028\u2029]", "", value)
    expected = expected.replace("\r\n", "\n").replace("\r", "\n")
    assert _dot_unquote(quoted) == expected


def test_dot_id_is_quoted_and_unique() -> None:
    assert escape.dot_id("item:jira:PAY-12") == '"item:jira:PAY-12"'
    hostile = escape.dot_id('a"b\\c\nd%')
    assert hostile == '"a%22b%5Cc%0Ad%25"'
    assert escape.dot_id("a%22") != escape.dot_id('a"')


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ("=1+2", "'=1+2"),
        ("+44 20", "'+44 20"),
        ("-5% churn", "'-5% churn"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("plain", "plain"),
        (12.5, 12.5),
        (None, ""),
        (True, "true"),
    ],
)
def test_csv_cell_neutralises_formulas(value: object, cell: object) -> None:
    assert escape.csv_cell(value) == cell


@pytest.mark.parametrize(
    ("url", "safe"),
    [
        ("https://pay.example/browse/PAY-1", "https://pay.example/browse/PAY-1"),
        ("http://127.0.0.1:9/x?a=1&b=2#f", "http://127.0.0.1:9/x?a=1&b=2#f"),
        ('https://x.example/a"b c)<d>', "https://x.example/a%22b%20c%29%3Cd%3E"),
        ("javascript:alert(1)", None),
        ("JAVASCRIPT:alert(1)", None),
        ("data:text/html,<script>", None),
        ("//evil.example/x", None),
        ("", None),
        (None, None),
    ],
)
def test_safe_url_allows_http_only_and_cannot_break_out(url: object, safe: str | None) -> None:
    assert escape.safe_url(url) == safe


@given(text)
def test_json_script_cannot_close_the_script_and_round_trips(value: str) -> None:
    data = {"title": value, "fixed": "</script><!--<script>"}
    embedded = escape.json_script(data)
    assert "</" not in embedded
    assert "<!--" not in embedded
    assert "<" not in embedded
    assert json.loads(embedded) == data


def test_html_escape_matches_the_standard_library_meaning() -> None:
    assert std_html.unescape(escape.html(HOSTILE)) == HOSTILE
