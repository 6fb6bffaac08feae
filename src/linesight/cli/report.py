"""``linesight report``."""

from __future__ import annotations

from linesight.cli._pending import not_yet
from linesight.cli.common import ConfigOpt, exits_cleanly


@exits_cleanly
def report(config: ConfigOpt = None) -> None:
    """Not available yet.

    Example: linesight report -c config/linesight.toml
    """
    raise not_yet("report", "issue 8 (PMO report)")
