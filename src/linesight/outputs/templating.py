"""The Jinja2 environments of the outputs: HTML with autoescape, Markdown with auto-escape too.

``*.html.j2`` templates autoescape every ``{{ value }}`` for HTML. ``*.md.j2`` templates run every
``{{ value }}`` through :func:`linesight.outputs.escape.markdown` (Jinja's ``finalize`` hook), so
a template cannot forget to escape a title; Markdown the code builds on purpose (links, bold) is
passed as :class:`markupsafe.Markup` and left as it is.
"""

from __future__ import annotations

from functools import cache

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from linesight.outputs import escape

__all__ = ["environment", "markdown_environment"]


def _fmt_number(value: float | None, digits: int = 1) -> str:
    if value is None:
        return "—"
    text = f"{value:,.{digits}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _fmt_percent(value: float | None, digits: int = 0) -> str:
    return "—" if value is None else f"{value * 100:.{digits}f}%"


def _fmt_signed(value: float | None, digits: int = 1, suffix: str = "") -> str:
    if value is None:
        return "—"
    if abs(value) < 10 ** (-digits) / 2:
        return f"±0{suffix}"
    text = f"{value:+,.{digits}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text + suffix


def _common(env: Environment) -> Environment:
    env.filters["num"] = _fmt_number
    env.filters["pct"] = _fmt_percent
    env.filters["signed"] = _fmt_signed
    return env


@cache
def environment() -> Environment:
    """The HTML environment (autoescape on for ``.html.j2``)."""
    return _common(
        Environment(
            loader=PackageLoader("linesight.outputs", "templates"),
            autoescape=select_autoescape(enabled_extensions=("html", "html.j2"), default=True),
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
        )
    )


def _md_finalize(value: object) -> object:
    if isinstance(value, Markup):
        return str(value)
    if value is None:
        return "—"
    return escape.markdown(value)


@cache
def markdown_environment() -> Environment:
    """The Markdown environment: every ``{{ value }}`` is Markdown-escaped unless ``Markup``."""
    return _common(
        Environment(
            loader=PackageLoader("linesight.outputs", "templates"),
            autoescape=False,  # noqa: S701 - Markdown, escaped by finalize below
            finalize=_md_finalize,
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
        )
    )
