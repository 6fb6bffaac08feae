"""Analysis time and peak memory per size, each size in a fresh process.

Calls ``scripts/bench_analysis.py`` (owned by the analysis engineer) rather than re-implementing
it; a fresh process per size makes the peak resident set that size's own.
"""

from __future__ import annotations

import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchlib import NotBuiltError

SCRIPT = Path(__file__).resolve().parent.parent / "bench_analysis.py"
KRS_PER_MILLION = 5_000  # the SPEC bar: 1,000,000 items with 5,000 KRs

# Linux carries a process's peak RSS across fork + exec: a child of this (large) benchmark process
# would report the benchmark's own peak as its floor. A tiny launcher in between resets it.
_HOP = (
    sys.executable,
    "-c",
    "import subprocess, sys; sys.exit(subprocess.run(sys.argv[1:]).returncode)",
)

_LINE = re.compile(
    r"analyze (?P<wall>[\d.]+) s wall / (?P<cpu>[\d.]+) s CPU, peak RSS (?P<peak>[\d,]+) MiB"
    r"(?: \(items alone (?P<items>[\d,]+) MiB\))?"
)


@dataclass(frozen=True)
class AnalysisRun:
    items: int
    krs: int
    seconds: float
    cpu_seconds: float
    peak_mib: float
    items_mib: float | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "items": self.items,
            "krs": self.krs,
            "seconds": self.seconds,
            "cpu_seconds": self.cpu_seconds,
            "peak_rss_mib": self.peak_mib,
            "items_alone_rss_mib": self.items_mib,
            "seconds_per_100k_items": round(self.seconds * 100_000 / self.items, 3),
        }


def krs_for(items: int) -> int:
    """KRs in proportion to items, as the SPEC's 1,000,000 / 5,000 (at least 10)."""
    return max(10, round(items * KRS_PER_MILLION / 1_000_000))


def run_analysis(items: int, *, timeout_s: float = 900) -> AnalysisRun:
    """Analyse a generated organisation of ``items`` in a fresh process.

    Raises :class:`NotBuiltError` when ``scripts/bench_analysis.py`` is missing and
    ``RuntimeError`` when it fails or prints something unexpected.
    """
    if not SCRIPT.is_file():
        raise NotBuiltError(f"{SCRIPT.name} is missing")
    krs = krs_for(items)
    command = [sys.executable, str(SCRIPT), "--items", str(items), "--krs", str(krs)]
    done = subprocess.run([*_HOP, *command], capture_output=True, text=True, timeout=timeout_s)
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
        raise RuntimeError(f"bench_analysis.py exited with {done.returncode}: {tail[0][:200]}")
    found = _LINE.search(done.stdout)
    if found is None:
        raise RuntimeError(f"unexpected output of bench_analysis.py: {done.stdout[:200]!r}")
    items_mib = found["items"]
    return AnalysisRun(
        items=items,
        krs=krs,
        seconds=float(found["wall"]),
        cpu_seconds=float(found["cpu"]),
        peak_mib=float(found["peak"].replace(",", "")),
        items_mib=float(items_mib.replace(",", "")) if items_mib else None,
    )
