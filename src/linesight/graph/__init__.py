"""linesight.graph."""
