"""``linesight demo``."""

from __future__ import annotations

from linesight.cli._pending import not_yet
from linesight.cli.common import ConfigOpt, exits_cleanly


@exits_cleanly
def demo(config: ConfigOpt = None) -> None:
    """Not available yet.

    Example: linesight demo -c config/linesight.toml
    """
    raise not_yet("demo", "issue 7 (demo)")
