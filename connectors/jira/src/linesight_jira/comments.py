"""The managed comment: rendering a :class:`~linesight.model.CommentDoc`, and reading one back.

Jira Cloud's REST v3 takes comment bodies as Atlassian Document Format (ADF, a JSON tree); REST
v2 (Data Center) takes wiki markup. Both renderings are built from structure, never by pasting
text into markup: ADF text nodes carry text verbatim (marks for links and bold), and wiki text
has every markup character backslash-escaped, so a title like ``*urgent* [click|http://x]``
shows exactly as typed.

A managed comment ends with a small paragraph carrying :data:`MANAGED_COMMENT_MARKER`; that is how
the one comment linesight owns on an issue is found again. Reading a body back gives a
:class:`Rendered` value whose ``plain_text`` equals :meth:`CommentDoc.plain_text` of the document
that produced it, and whose ``fingerprint`` is what "the content differs" compares (whitespace
and Jira's own ADF attributes are ignored).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote as url_quote

from linesight.model import MANAGED_COMMENT_MARKER, CommentDoc, TextSpan

__all__ = [
    "MARKER_TEXT",
    "Rendered",
    "is_managed",
    "read_body",
    "render_adf",
    "render_wiki",
]

MARKER_TEXT = f"{MANAGED_COMMENT_MARKER} — updated by linesight; edits will be overwritten"
"""The last paragraph of every managed comment."""

# The characters the Jira wiki renderer's backslash escape covers (text effects, links, macros,
# lists, tables, emoticons, mentions); each gets a backslash. A backslash itself cannot be escaped
# that way (``\\`` is a forced line break in wiki markup), so it is written as an entity.
_WIKI_SPECIAL = frozenset("{}[]|*_-+^~?!#()@%")
_WIKI_BACKSLASH = "&#92;"
_WIKI_URL_UNSAFE = "[]|{}<> \t\r\n\"'\\*^`"
_SAFE_SCHEMES = ("http://", "https://", "mailto:")
_BLANK_LINES = re.compile(r"\n\s*\n")

Span = tuple[str, str | None, bool]  # text, href, strong
_SPACE: Span = (" ", None, False)


def _safe_href(href: str | None) -> str | None:
    if href and href.strip().lower().startswith(_SAFE_SCHEMES):
        return href.strip()
    return None


# ---------------------------------------------------------------------------------------------
# rendering


def _adf_text(text: str, marks: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    # ADF text nodes must not be empty and cannot hold line breaks: those are hardBreak nodes.
    for index, line in enumerate(text.split("\n")):
        if index:
            yield {"type": "hardBreak"}
        if line:
            node: dict[str, Any] = {"type": "text", "text": line}
            if marks:
                node["marks"] = [dict(m) for m in marks]
            yield node


def _adf_paragraph(spans: tuple[TextSpan, ...]) -> dict[str, Any]:
    content: list[dict[str, Any]] = []
    for span in spans:
        marks: list[dict[str, Any]] = []
        if span.strong:
            marks.append({"type": "strong"})
        href = _safe_href(span.href)
        if href:
            marks.append({"type": "link", "attrs": {"href": href}})
        content.extend(_adf_text(span.text, marks))
    return {"type": "paragraph", "content": content}


def render_adf(doc: CommentDoc) -> dict[str, Any]:
    """``doc`` as an ADF document (REST v3), ending with the marker paragraph."""
    paragraphs = [_adf_paragraph(p) for p in doc.paragraphs]
    paragraphs.append(
        {
            "type": "paragraph",
            "content": [{"type": "text", "text": MARKER_TEXT, "marks": [{"type": "em"}]}],
        }
    )
    return {"type": "doc", "version": 1, "content": paragraphs}


def _wiki_escape(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return "".join(
        _WIKI_BACKSLASH if ch == "\\" else "\\" + ch if ch in _WIKI_SPECIAL else ch for ch in text
    )


def _wiki_span(span: TextSpan) -> str:
    text = span.text
    if not text:
        return ""
    # Wiki bold only works when the asterisks touch text: keep the spaces outside them.
    lead = trail = ""
    stripped = text
    if span.strong:
        stripped = text.strip()
        lead = text[: len(text) - len(text.lstrip())] if stripped else text
        trail = text[len(text.rstrip()) :] if stripped else ""
    body = _wiki_escape(stripped)
    href = _safe_href(span.href)
    if href and stripped.strip():
        safe_url = "".join(url_quote(ch) if ch in _WIKI_URL_UNSAFE else ch for ch in href)
        body = f"[{body}|{safe_url}]"
    if span.strong and stripped:
        body = f"*{body}*"
    return _wiki_escape(lead) + body + _wiki_escape(trail)


def render_wiki(doc: CommentDoc) -> str:
    """``doc`` as Jira wiki markup (REST v2), ending with the marker paragraph."""
    # A blank line would start a new paragraph, also where two spans meet: keep one break.
    paragraphs = [_BLANK_LINES.sub("\n", "".join(_wiki_span(s) for s in p)) for p in doc.paragraphs]
    # The marker is our own constant: written unescaped so a plain substring search finds it.
    paragraphs.append("{color:#97a0af}" + MARKER_TEXT + "{color}")
    return "\n\n".join(paragraphs)


# ---------------------------------------------------------------------------------------------
# reading back


@dataclass(frozen=True, slots=True)
class Rendered:
    """A comment body read back: its paragraphs as spans, the marker paragraph removed."""

    paragraphs: tuple[tuple[Span, ...], ...]
    managed: bool

    @property
    def plain_text(self) -> str:
        """The text as :meth:`CommentDoc.plain_text` would give it."""
        return "\n\n".join("".join(text for text, _, _ in p) for p in self.paragraphs)

    @property
    def fingerprint(self) -> tuple[tuple[Span, ...], ...]:
        """What two bodies must share to count as the same content.

        Whitespace runs count as one plain space wherever they are (blank text shows no bold
        or link, and Jira trims and splits text nodes as it likes); runs of equally marked
        text are merged.
        """
        result = []
        for paragraph in self.paragraphs:
            chars: list[Span] = []
            for text, href, strong in paragraph:
                for ch in text:
                    if not ch.isspace():
                        chars.append((ch, href, strong))
                    elif chars and chars[-1] != _SPACE:
                        chars.append(_SPACE)
            if chars and chars[-1] == _SPACE:
                chars.pop()
            merged: list[Span] = []
            for ch, href, strong in chars:
                if merged and merged[-1][1:] == (href, strong):
                    merged[-1] = (merged[-1][0] + ch, href, strong)
                else:
                    merged.append((ch, href, strong))
            if merged:
                result.append(tuple(merged))
        return tuple(result)


def _adf_spans(node: Any, strong: bool, href: str | None) -> Iterator[Span]:
    if not isinstance(node, Mapping):
        return
    kind = node.get("type")
    if kind == "text":
        marks = node.get("marks")
        for mark in marks if isinstance(marks, list) else []:
            if not isinstance(mark, Mapping):
                continue
            if mark.get("type") == "strong":
                strong = True
            attrs = mark.get("attrs")
            if mark.get("type") == "link" and isinstance(attrs, Mapping):
                link = attrs.get("href")
                href = link if isinstance(link, str) else href
        text = node.get("text")
        if isinstance(text, str):
            yield (text, href, strong)
        return
    if kind == "hardBreak":
        yield ("\n", None, False)
        return
    attrs = node.get("attrs")
    if kind in ("mention", "emoji", "inlineCard") and isinstance(attrs, Mapping):
        shown = attrs.get("text") or attrs.get("shortName") or attrs.get("url")
        if isinstance(shown, str):
            yield (shown, None, False)
        return
    children = node.get("content")
    if isinstance(children, list):
        for child in children:
            yield from _adf_spans(child, strong, href)


def _read_adf(body: Mapping[str, Any]) -> Rendered:
    paragraphs: list[tuple[Span, ...]] = []
    managed = False
    blocks = body.get("content")
    for block in blocks if isinstance(blocks, list) else []:
        spans = tuple(_adf_spans(block, False, None))
        if any(MANAGED_COMMENT_MARKER in text for text, _, _ in spans):
            managed = True
            continue
        paragraphs.append(spans)
    return Rendered(tuple(paragraphs), managed)


def _read_wiki_paragraph(text: str) -> tuple[Span, ...]:
    spans: list[Span] = []
    buffer: list[str] = []
    strong = False

    def flush(href: str | None = None) -> None:
        if buffer:
            spans.append(("".join(buffer), href, strong))
            buffer.clear()

    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch == "\\" and i + 1 < n and text[i + 1] in _WIKI_SPECIAL:
            buffer.append(text[i + 1])
            i += 2
        elif text.startswith(_WIKI_BACKSLASH, i):
            buffer.append("\\")
            i += len(_WIKI_BACKSLASH)
        elif ch == "*":
            flush()
            strong = not strong
            i += 1
        elif ch == "{":  # a macro such as {color:...}: markup, not text
            end = text.find("}", i)
            i = n if end < 0 else end + 1
        elif ch == "[":
            flush()
            label: list[str] = []
            i += 1
            while i < n and text[i] not in "|]":
                if text[i] == "\\" and i + 1 < n and text[i + 1] in _WIKI_SPECIAL:
                    i += 1
                elif text.startswith(_WIKI_BACKSLASH, i):
                    label.append("\\")
                    i += len(_WIKI_BACKSLASH)
                    continue
                label.append(text[i])
                i += 1
            href = None
            if i < n and text[i] == "|":
                end = text.find("]", i)
                end = n if end < 0 else end
                href = text[i + 1 : end]
                i = end
            i += 1  # the closing bracket
            buffer.extend(label)
            flush(href)
        else:
            buffer.append(ch)
            i += 1
    flush()
    return tuple(spans)


def _read_wiki(body: str) -> Rendered:
    paragraphs: list[tuple[Span, ...]] = []
    managed = False
    for chunk in _BLANK_LINES.split(body.replace("\r\n", "\n").strip()):
        if MANAGED_COMMENT_MARKER in chunk:
            managed = True
            continue
        paragraphs.append(_read_wiki_paragraph(chunk))
    return Rendered(tuple(paragraphs), managed)


def read_body(body: Any) -> Rendered:
    """Read an ADF or wiki comment body (anything else reads as empty and unmanaged)."""
    if isinstance(body, Mapping):
        return _read_adf(body)
    if isinstance(body, str):
        return _read_wiki(body)
    return Rendered((), False)


def is_managed(body: Any) -> bool:
    """Whether a comment body carries the managed-comment marker."""
    if isinstance(body, str):
        return MANAGED_COMMENT_MARKER in body
    return read_body(body).managed
