"""What a user takes away: the PMO report and the graph export, escaped for every format."""

from linesight.outputs.graph_export import export_graph
from linesight.outputs.pmo_report import SnapshotPoint, render_report

__all__ = ["SnapshotPoint", "export_graph", "render_report"]
