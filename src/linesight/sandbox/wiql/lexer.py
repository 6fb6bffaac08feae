"""WIQL text as tokens: bracketed fields, quoted strings, numbers, operators, macros, words."""

from __future__ import annotations

import re
from dataclasses import dataclass

from linesight.sandbox.wiql.errors import WiqlError

__all__ = ["Token", "tokenize"]


_TOKEN = re.compile(
    r"""
     (?P<ws>\s+)
    |(?P<field>\[[^\]]*\])
    |(?P<string>'(?:[^']|'')*'|"(?:[^"]|"")*")
    |(?P<number>\d+(?:\.\d+)?)
    |(?P<op><>|!=|>=|<=|=|<|>)
    |(?P<punct>[(),+\-*])
    |(?P<macro>@[A-Za-z_]\w*)
    |(?P<word>[A-Za-z_][\w.]*)
    """,
    re.VERBOSE,
)


_KEYWORDS = frozenset(
    {
        "select",
        "from",
        "where",
        "order",
        "by",
        "asc",
        "desc",
        "and",
        "or",
        "not",
        "in",
        "under",
        "contains",
        "words",
        "ever",
        "is",
        "empty",
        "asof",
        "mode",
    }
)


@dataclass(frozen=True, slots=True)
class Token:
    """One token of WIQL text."""

    kind: str  # field | string | number | op | punct | macro | word | end
    text: str

    @property
    def keyword(self) -> str | None:
        folded = self.text.casefold()
        return folded if self.kind == "word" and folded in _KEYWORDS else None


def tokenize(text: str) -> list[Token]:
    """``text`` as tokens, closed by an ``end`` token; refuses what is no token."""
    tokens: list[Token] = []
    pos = 0
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None:
            snippet = text[pos : pos + 20]
            if text[pos] in "'\"":
                raise WiqlError(
                    f"TF51006: Expecting a closing quote. The error is caused by «{snippet}»."
                )
            raise WiqlError(f"TF51006: Unexpected character. The error is caused by «{snippet}».")
        kind = match.lastgroup or "ws"
        if kind != "ws":
            tokens.append(Token(kind, match.group()))
        pos = match.end()
    tokens.append(Token("end", ""))
    return tokens
