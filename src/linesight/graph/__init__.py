"""The line-of-sight graph: objectives -> key results -> work items, and the link rules."""

from linesight.graph.build import (
    LineOfSightGraph,
    LinkIndex,
    build_graph,
    item_node,
    kr_node,
    objective_node,
)

__all__ = [
    "LineOfSightGraph",
    "LinkIndex",
    "build_graph",
    "item_node",
    "kr_node",
    "objective_node",
]
