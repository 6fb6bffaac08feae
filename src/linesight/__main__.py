"""``python -m linesight``."""

from linesight.cli import main

main()
