"""Commands whose feature has not landed yet say so plainly (exit 2) instead of pretending."""

from __future__ import annotations

from linesight.errors import NotYetAvailableError


def not_yet(command: str, issue: str) -> NotYetAvailableError:
    return NotYetAvailableError(
        f"'linesight {command}' is not available in this build yet ({issue}); "
        "see the README's roadmap"
    )
