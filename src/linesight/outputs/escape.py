"""The one place where untrusted text is escaped for an output format.

Everything that came from a tracker (titles, keys, statuses, team names, URLs) is untrusted: a
title may hold ``<script>``, Markdown link syntax, Mermaid brackets, DOT quotes or a spreadsheet
formula. Every writer in :mod:`linesight.outputs` passes such text through exactly one function
here, chosen by the format it writes:

================== ==========================================================================
function           for
================== ==========================================================================
:func:`html`       text and attribute values in HTML (Jinja's autoescape does the same)
:func:`markdown`   inline text and table cells in CommonMark / GitHub / Confluence Markdown
:func:`mermaid_label` a quoted Mermaid flowchart label: ``n1["..."]``
:func:`dot_id`     a quoted Graphviz ID (node names)
:func:`dot_label`  a quoted Graphviz escString (``label``, ``tooltip``)
:func:`csv_cell`   a CSV cell that Excel / LibreOffice will not run as a formula
:func:`safe_url`   an ``http(s)`` link target, or ``None`` (``javascript:`` and friends)
:func:`json_script` JSON to embed in ``<script type="application/json">``
================== ==========================================================================
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import quote, urlsplit

import markupsafe

__all__ = [
    "csv_cell",
    "dot_id",
    "dot_label",
    "html",
    "json_script",
    "markdown",
    "mermaid_label",
    "one_line",
    "safe_url",
]

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u2028\u2029]")
_BREAKS = re.compile(r"\s*[\r\n]+\s*")


def one_line(text: object) -> str:
    """``text`` as one line: line breaks become one space, other control characters go."""
    return _CONTROL.sub("", _BREAKS.sub(" ", str(text))).strip()


def html(text: object) -> str:
    """Escape ``& < > " '`` for HTML text and quoted attribute values."""
    return str(markupsafe.escape(str(text)))


# CommonMark lets any ASCII punctuation be backslash-escaped. These start or end inline syntax
# anywhere (emphasis, code, links, images, tables, strikethrough, math, Confluence macros) ...
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()|~$>])")
# ... and these only at the start of a line: a list, a heading, a quote, an ordered list
_MD_LINE_START = re.compile(r"^([-+#=]|\d+(?=[.)](?:\s|$)))")


def markdown(text: object) -> str:
    """Inline Markdown text that renders as exactly ``text`` (on one line).

    Backslash-escapes the punctuation that starts Markdown syntax (``|`` too, for GFM tables),
    writes ``&`` and ``<`` as HTML entities (Markdown passes raw HTML through) and ``@`` as
    ``&#64;`` so a title cannot mention people in a PR comment. Line breaks become spaces.
    """
    line = one_line(text)
    line = line.replace("&", "&amp;").replace("<", "&lt;")
    line = _MD_SPECIAL.sub(r"\\\1", line)
    line = line.replace("@", "&#64;")
    return _MD_LINE_START.sub(_escape_line_start, line)


def _escape_line_start(match: re.Match[str]) -> str:
    text = match.group(0)
    return text + "\\" if text[0].isdigit() else "\\" + text


# Mermaid decodes `#name;` / `#123;` entity codes inside labels. Everything that could end the
# quoted label, open a shape, start an entity or be read as HTML/Markdown is written as one.
_MERMAID_CODES = {
    "#": "#35;",
    '"': "#quot;",
    "<": "#lt;",
    ">": "#gt;",
    "&": "#amp;",
    "[": "#91;",
    "]": "#93;",
    "{": "#123;",
    "}": "#125;",
    "(": "#40;",
    ")": "#41;",
    "|": "#124;",
    ";": "#59;",
    "`": "#96;",
    "\\": "#92;",
}
_MERMAID_SPECIAL = re.compile("[" + re.escape("".join(_MERMAID_CODES)) + "]")


def mermaid_label(text: object) -> str:
    """The inside of a quoted Mermaid label: no raw ``"[]{}()|<>#;`` and no line break."""
    return _MERMAID_SPECIAL.sub(lambda m: _MERMAID_CODES[m.group(0)], one_line(text))


_DOT_ID_UNSAFE = re.compile(r"[^A-Za-z0-9_.:/@+\- ]")


def dot_id(text: object) -> str:
    """A quoted Graphviz ID that stays readable for ordinary ids (``"item:jira:PAY-12"``).

    Graphviz IDs are not escStrings, so backslashes cannot be written reliably; every character
    outside a plain set (and ``%`` itself) is percent-encoded, which keeps IDs unique.
    """
    body = _DOT_ID_UNSAFE.sub(
        lambda m: "".join(f"%{b:02X}" for b in m.group(0).encode()), str(text)
    )
    return f'"{body}"'


def dot_label(text: object) -> str:
    """A quoted Graphviz escString that renders as exactly ``text``.

    ``\\`` is doubled (escStrings read ``\\N``, ``\\G``, ``\\l``... as escapes), ``"`` becomes
    ``\\"``, line breaks become ``\\n``; other control characters are dropped.
    """
    value = _CONTROL.sub("", str(text).replace("\r\n", "\n").replace("\r", "\n"))
    value = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{value}"'


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")


def csv_cell(value: object) -> str | int | float:
    """A CSV cell: numbers stay numbers, text that a spreadsheet would run as a formula
    (starting with ``= + - @``, tab or a line break) gets a leading ``'`` (OWASP's advice)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return value
    text = str(value)
    if text.startswith(_FORMULA_START):
        return "'" + text
    return text


# what RFC 3986 allows unencoded in a URL, minus the characters that end an attribute, a
# Markdown link destination or a Mermaid/DOT string: ( ) " ' < > space and backslash
_URL_SAFE = "/:?#[]@!$&*+,;=-._~%"


def safe_url(url: object) -> str | None:
    """``url`` if it is an absolute ``http(s)`` URL, percent-encoded so that it cannot break out
    of an attribute, a Markdown link or a Mermaid/DOT string; otherwise ``None``."""
    if not isinstance(url, str):
        return None
    candidate = one_line(url)
    try:
        parts = urlsplit(candidate)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    return quote(candidate, safe=_URL_SAFE)


def json_script(data: Any) -> str:
    """JSON for a ``<script type="application/json">`` element.

    ``<``, ``>`` and ``&`` are written as ``\\u003c``-style escapes (so neither ``</script>`` nor
    ``<!--`` can appear), as are U+2028/U+2029. The page reads it back with ``JSON.parse``.
    """
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return (
        text.replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )
