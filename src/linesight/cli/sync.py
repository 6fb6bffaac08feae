"""``linesight sync``."""

from __future__ import annotations

from linesight.cli._pending import not_yet
from linesight.cli.common import ConfigOpt, exits_cleanly


@exits_cleanly
def sync(config: ConfigOpt = None) -> None:
    """Not available yet.

    Example: linesight sync -c config/linesight.toml
    """
    raise not_yet("sync", "issue 7 (sync)")
