"""``linesight export``."""

from __future__ import annotations

from linesight.cli._pending import not_yet
from linesight.cli.common import ConfigOpt, exits_cleanly


@exits_cleanly
def export(config: ConfigOpt = None) -> None:
    """Not available yet.

    Example: linesight export -c config/linesight.toml
    """
    raise not_yet("export", "issue 8 (graph export)")
