"""``linesight run``."""

from __future__ import annotations

from linesight.cli._pending import not_yet
from linesight.cli.common import ConfigOpt, exits_cleanly


@exits_cleanly
def run(config: ConfigOpt = None) -> None:
    """Not available yet.

    Example: linesight run -c config/linesight.toml
    """
    raise not_yet("run", "issue 7 (nightly job)")
