"""linesight.analysis."""
