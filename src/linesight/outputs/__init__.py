"""linesight.outputs."""
