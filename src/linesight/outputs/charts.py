"""The report's charts as inline SVG (matplotlib): WIP against limit, orphan share over time, KR
status per objective.

Each function returns one ``<svg>`` element to place in the HTML report as it is: text stays
text (``svg.fonttype = none``, so it is searchable and crisp in print), no script, no external
reference, no date or random id (the same data gives the same bytes), a ``viewBox`` so it scales
with the page, and an ARIA label. Only matplotlib's object API is used — no ``pyplot``, so
nothing global changes and no GUI backend is loaded.
"""

from __future__ import annotations

import io
import math
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any, Protocol

from matplotlib import rc_context
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter, MaxNLocator

from linesight.analysis.result import KeyResultResult, ObjectiveResult

__all__ = ["kr_status_chart", "orphan_share_chart", "wip_chart"]

INK, MUTED, GRID = "#1f2933", "#616e7c", "#e4e9ef"
BLUE, GREY, RED, AMBER, GREEN = "#3a6ea5", "#c5ced8", "#c0392b", "#d68910", "#2e8b57"
_FONTS = ["DejaVu Sans", "Arial", "Helvetica", "sans-serif"]
_WIDTH = 4.4  # inches at 96 dpi: close to the width a chart gets on the page, so text stays 1:1

_RC: dict[Any, Any] = {  # matplotlib types the keys as a Literal of every rc name
    "svg.fonttype": "none",
    "svg.hashsalt": "linesight",  # stable clip-path ids
    "font.family": "sans-serif",
    "font.sans-serif": _FONTS,
    "font.size": 10,
    "axes.edgecolor": GRID,
    "axes.labelcolor": MUTED,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "xtick.color": MUTED,
    "ytick.color": INK,
    "xtick.major.size": 0,
    "ytick.major.size": 0,
    "legend.frameon": False,
    "legend.fontsize": 9,
}


class _Point(Protocol):
    @property
    def at(self) -> datetime: ...
    @property
    def orphan_share(self) -> float | None: ...


@contextmanager
def _figure(height: float) -> Iterator[tuple[Figure, Axes]]:
    with rc_context(_RC):
        figure = Figure(figsize=(_WIDTH, height), dpi=96)
        axes = figure.add_subplot()
        axes.set_facecolor("none")
        figure.patch.set_alpha(0)
        yield figure, axes


_XML_HEAD = re.compile(r"^.*?(?=<svg\b)", re.DOTALL)
_METADATA = re.compile(r"<metadata>.*?</metadata>\s*", re.DOTALL)
_COMMENT = re.compile(r"<!--.*?-->\s*", re.DOTALL)
_ID = re.compile(r'\b(id)="([^"]+)"')
_REF = re.compile(r'(url\(|xlink:href="|href=")#([^)"]+)')
_SIZE = re.compile(r'<svg([^>]*?) width="[^"]*" height="[^"]*"')


def _svg(figure: Figure, name: str) -> str:
    """The figure as a bare, scalable ``<svg>`` element."""
    buffer = io.StringIO()
    with rc_context(_RC):
        figure.savefig(
            buffer,
            format="svg",
            bbox_inches="tight",
            pad_inches=0.04,
            metadata={"Date": None, "Creator": None, "Format": None, "Type": None},
        )
    svg = _COMMENT.sub("", _METADATA.sub("", _XML_HEAD.sub("", buffer.getvalue())))
    svg = _SIZE.sub(r"<svg\1", svg, count=1)  # drop the fixed size: the viewBox scales it
    # three charts share one page: give every id (and each reference to one) the chart's prefix
    svg = _ID.sub(lambda m: f'{m.group(1)}="{name}-{m.group(2)}"', svg)
    svg = _REF.sub(lambda m: f"{m.group(1)}#{name}-{m.group(2)}", svg)
    return svg.replace(
        "<svg ", f'<svg id="chart-{name}" role="img" aria-labelledby="{name}-title" ', 1
    ).strip()


def _short(text: str, limit: int = 24) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _bar_height(bars: int) -> float:
    return max(1.9, 0.9 + 0.42 * bars)


def _no_data(axes: Axes, message: str) -> None:
    axes.text(0.5, 0.5, message, ha="center", va="center", color=MUTED, transform=axes.transAxes)
    axes.set_xticks([])
    axes.set_yticks([])


def wip_chart(objectives: Sequence[ObjectiveResult]) -> str:
    """Effective WIP per objective as bars (red when over its limit), the limit as a marker."""
    active = [o for o in objectives if o.active]
    with _figure(_bar_height(len(active))) as (figure, axes):
        if not active:
            _no_data(axes, "no active objectives")
        else:
            rows = list(range(len(active)))
            axes.barh(
                rows,
                [o.effective_wip for o in active],
                height=0.55,
                color=[RED if o.over_limit else BLUE for o in active],
                zorder=2,
            )
            limited = [
                (row, o.wip_limit) for row, o in zip(rows, active, strict=True) if o.wip_limit
            ]
            if limited:
                axes.scatter(
                    [limit for _, limit in limited],
                    [row for row, _ in limited],
                    marker="|",
                    s=520,
                    linewidths=2.4,
                    color=INK,
                    zorder=3,
                )
            axes.set_yticks(rows, [_short(f"{o.id} {o.title}") for o in active])
            axes.invert_yaxis()  # the first objective on top
            axes.xaxis.set_major_locator(MaxNLocator(integer=True, nbins=6))
            axes.grid(axis="x", color=GRID, linewidth=0.8, zorder=0)
            axes.set_xlim(left=0)
            handles: list[Artist] = [Patch(color=BLUE, label="Effective WIP")]
            if any(o.over_limit for o in active):
                handles.append(Patch(color=RED, label="Over limit"))
            if limited:
                handles.append(
                    Line2D(
                        [],
                        [],
                        color=INK,
                        marker="|",
                        linestyle="",
                        markersize=11,
                        markeredgewidth=2.4,
                        label="Limit",
                    )
                )
            axes.legend(
                handles=handles,
                loc="lower right",
                bbox_to_anchor=(1.0, 1.0),
                ncols=len(handles),
                borderaxespad=0.2,
            )
        return _svg(figure, "wip")


def orphan_share_chart(points: Sequence[_Point]) -> str:
    """Orphan share (percent of open work) over the runs, the current run last."""
    dated = [p for p in points if p.orphan_share is not None]
    with _figure(2.3) as (figure, axes):
        if not dated:
            _no_data(axes, "no open work yet")
        else:
            xs = list(range(len(dated)))
            ys = [(p.orphan_share or 0.0) * 100 for p in dated]
            axes.fill_between(xs, ys, color=RED, alpha=0.12, linewidth=0, zorder=1)
            axes.plot(xs, ys, color=RED, linewidth=1.8, marker="o", markersize=3.2, zorder=2)
            axes.annotate(
                f"{ys[-1]:.0f}%",
                (xs[-1], ys[-1]),
                xytext=(0, 7),
                textcoords="offset points",
                ha="center",
                color=RED,
                fontweight="bold",
            )
            step = max(1, math.ceil(len(dated) / 5))
            ticks = xs[::-1][::step][::-1]
            axes.set_xticks(ticks, [dated[i].at.strftime("%d %b") for i in ticks])
            axes.set_xlim(-0.3, max(xs) + 0.3 if len(xs) > 1 else 0.3)
            top = max(ys)
            axes.set_ylim(0, min(100.0, max(10.0, math.ceil((top + 2) / 5) * 5)))
            axes.yaxis.set_major_locator(MaxNLocator(nbins=5))
            axes.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:.0f}%"))
            axes.tick_params(axis="y", colors=MUTED)
            axes.grid(axis="y", color=GRID, linewidth=0.8, zorder=0)
        return _svg(figure, "orphan-share")


def kr_status_chart(
    objectives: Sequence[ObjectiveResult], key_results: Sequence[KeyResultResult]
) -> str:
    """Per objective, its key results stacked: supported, stalled, unsupported."""
    active = [o for o in objectives if o.active]
    counts = {o.id: {"supported": 0, "stalled": 0, "unsupported": 0} for o in active}
    for kr in key_results:
        if kr.objective in counts:
            counts[kr.objective][kr.status] += 1
    with _figure(_bar_height(len(active))) as (figure, axes):
        if not active:
            _no_data(axes, "no active objectives")
        else:
            rows = list(range(len(active)))
            left = [0] * len(active)
            for status, color in (("supported", GREEN), ("stalled", AMBER), ("unsupported", RED)):
                widths = [counts[o.id][status] for o in active]
                axes.barh(
                    rows,
                    widths,
                    left=left,
                    height=0.55,
                    color=color,
                    label=status.capitalize(),
                    edgecolor="white",
                    linewidth=1,
                    zorder=2,
                )
                left = [a + b for a, b in zip(left, widths, strict=True)]
            axes.set_yticks(rows, [_short(f"{o.id} {o.title}") for o in active])
            axes.invert_yaxis()
            axes.xaxis.set_major_locator(MaxNLocator(integer=True, nbins=6))
            axes.grid(axis="x", color=GRID, linewidth=0.8, zorder=0)
            axes.set_xlim(0, max(1, max(left)))
            axes.legend(loc="lower right", bbox_to_anchor=(1.0, 1.0), ncols=3, borderaxespad=0.2)
        return _svg(figure, "kr-status")
