"""``linesight plan`` and ``linesight apply``."""

from __future__ import annotations

from linesight.cli._pending import not_yet
from linesight.cli.common import ConfigOpt, exits_cleanly


@exits_cleanly
def plan(config: ConfigOpt = None) -> None:
    """Not available yet.

    Example: linesight plan -c config/linesight.toml
    """
    raise not_yet("plan", "issue 6 (write-back)")


@exits_cleanly
def apply(config: ConfigOpt = None) -> None:
    """Not available yet.

    Example: linesight apply -c config/linesight.toml
    """
    raise not_yet("apply", "issue 6 (write-back)")
