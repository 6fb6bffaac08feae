"""Atlassian Document Format <-> plain text, as Jira Cloud converts between REST v3 and v2.

On Cloud, rich text (descriptions, comment bodies) is stored as ADF: REST v3 reads and writes
ADF, REST v2 reads it as plain text and writes plain text that Cloud turns into ADF.
"""

from __future__ import annotations

from typing import Any

__all__ = ["ADF_REQUIRED", "RICH_TEXT_FIELDS", "adf_to_text", "is_adf", "text_to_adf"]

RICH_TEXT_FIELDS = ("description", "environment")
ADF_REQUIRED = "Operation value must be an Atlassian Document (see the Atlassian Document Format)."


def text_to_adf(text: str) -> dict[str, Any]:
    """Plain text as an ADF document: one paragraph per line (what Cloud does for a v2 write)."""
    paragraphs: list[dict[str, Any]] = []
    for line in text.split("\n"):
        paragraph: dict[str, Any] = {"type": "paragraph", "content": []}
        if line:
            paragraph["content"].append({"type": "text", "text": line})
        paragraphs.append(paragraph)
    return {"type": "doc", "version": 1, "content": paragraphs}


def adf_to_text(document: Any) -> str:
    """An ADF document as plain text (what Cloud shows on REST v2); strings pass through."""
    if not isinstance(document, dict):
        return "" if document is None else str(document)
    blocks = document.get("content") or []
    if document.get("type") != "doc":
        blocks = [document]
    return "\n".join(_adf_inline(block) for block in blocks)


def _adf_inline(node: Any) -> str:
    if not isinstance(node, dict):
        return ""
    if node.get("type") == "text":
        return str(node.get("text", ""))
    if node.get("type") == "hardBreak":
        return "\n"
    children = node.get("content") or []
    separator = "\n" if node.get("type") in ("bulletList", "orderedList", "listItem") else ""
    return separator.join(_adf_inline(child) for child in children)


def is_adf(value: Any) -> bool:
    """Whether ``value`` is an ADF document (what a v3 write of rich text must send)."""
    return (
        isinstance(value, dict)
        and value.get("type") == "doc"
        and value.get("version") == 1
        and isinstance(value.get("content"), list)
    )
