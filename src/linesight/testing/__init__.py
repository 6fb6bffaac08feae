"""linesight.testing."""
