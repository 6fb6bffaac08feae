"""Helpers of ``scripts/bench``: the sandbox process, the plain-library baselines, linesight's
measurements, the analysis runs and the one table. See ``scripts/bench.py``."""


class NotBuiltError(Exception):
    """A piece the benchmark measures is not in this tree yet (shown as ``n/a (not built)``)."""
