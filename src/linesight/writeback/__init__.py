"""linesight.writeback."""
